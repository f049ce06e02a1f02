"""Strategist policies in the backtest: the offline strategist sees no later data than the day it decides on,
and a cassette of recorded decisions is replayed on its dates."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from agent.adapters.prices import read_prices_csv
from agent.core.domain import TargetAllocation
from agent.core.errors import ValidationError
from agent.core.prices import PriceTable
from agent.services.evidence.backtest import policy_for, run_backtest

FIXTURE = Path(__file__).parents[1] / "fixtures" / "backtest" / "daily_2021_2026.csv"
START = TargetAllocation.from_json({"BTC": 0.4, "ETH": 0.3, "USDC": 0.3})


def cut(table: PriceTable, last: date) -> PriceTable:
    n = sum(d <= last for d in table.dates)
    return PriceTable(table.dates[:n], table.coins, table.close[:n], table.volume[:n])


@pytest.mark.slow
def test_the_offline_strategist_decides_from_the_past_only():
    table = read_prices_csv(FIXTURE)
    full = run_backtest(table, START, ["strategist:offline"], start=date(2025, 1, 1), end=date(2025, 8, 31))
    short = run_backtest(cut(table, date(2025, 5, 31)), START, ["strategist:offline"], start=date(2025, 1, 1))
    decided_full = [(d, t) for d, t in full.runs[0].targets if d <= date(2025, 5, 31)]
    assert len(full.runs[0].targets) >= 2  # a decision at the start and on later month starts
    assert decided_full == short.runs[0].targets  # later prices changed nothing decided before them
    assert full.runs[0].metrics()["trades"] > 0


def test_a_cassette_is_replayed_on_its_dates(tmp_path):
    cassette = tmp_path / "decisions.json"
    cassette.write_text(
        json.dumps(
            [
                {
                    "date": "2024-01-01",
                    "target_allocation": {"BTC": 0.5, "ETH": 0.2, "USDC": 0.3},
                    "reasoning": "first",
                },
                {
                    "date": "2024-03-15",
                    "selected_strategy": "risk-off",
                    "target_allocation": {"BTC": 0.2, "ETH": 0.1, "USDC": 0.7},
                    "reasoning": "recorded",
                },
            ]
        )
    )
    table = read_prices_csv(FIXTURE).select(["BTC", "ETH"])
    result = run_backtest(
        table, START, [f"strategist:cassette={cassette}"], start=date(2024, 1, 1), end=date(2024, 6, 30)
    )
    run = result.runs[0]
    assert [d for d, _ in run.targets] == [date(2024, 1, 1), date(2024, 3, 15)]
    k = run.dates.index(date(2024, 3, 15))
    assert run.weights[k - 1, 0] > 0.35 and run.weights[k, 0] == pytest.approx(0.2, abs=0.002)
    assert np.isclose(run.drift[k], 0, atol=0.002)


@pytest.mark.parametrize(
    "content",
    [
        "[]",
        "{}",
        '[{"date": "2024-13-01", "target_allocation": {"BTC": 1}}]',
        '[{"date": "2024-01-01", "target_allocation": {"BTC": 0.7, "USDC": 0.5}}]',
    ],
    ids=["empty", "not a list", "bad date", "weights not summing to 1"],
)
def test_a_bad_cassette_is_one_validation_error(tmp_path, content):
    cassette = tmp_path / "c.json"
    cassette.write_text(content)
    with pytest.raises(ValidationError, match="cassette"):
        policy_for(f"strategist:cassette={cassette}")

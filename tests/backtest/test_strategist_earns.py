"""The offline strategist earns its place: on every shipped daily history from 2018 (the 10 largest coins by
traded value at each date, and BTC alone) it beats equal weight rebalanced monthly on the four conditions, and
the figures the live preview quotes are the ones this backtest produces."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from agent.core.universe import TopByVolume
from agent.services.evidence.backtest import load_prices
from agent.services.evidence.strategist_record import compare
from agent.strategist import track_record

ALL = Path(__file__).parents[1] / "fixtures" / "backtest" / "daily_2017_2026_all.csv"
SHIPPED = Path(__file__).parents[2] / "agent" / "data" / "strategist_backtest.json"
START = date(2018, 1, 1)


@pytest.fixture(scope="module")
def records() -> dict[str, dict]:
    prices = load_prices(ALL)
    return {
        "top 10 by volume, 2018-": compare(prices, universe=TopByVolume(prices), start=START),
        "BTC alone, 2018-": compare(prices.select(["BTC"]), start=START),
    }


@pytest.mark.slow
@pytest.mark.parametrize("history", ["top 10 by volume, 2018-", "BTC alone, 2018-"])
def test_the_four_conditions_hold(records, history) -> None:
    r = records[history]
    s, ew = r["policies"]["strategist:offline"], r["policies"]["equal weight (monthly)"]
    c = r["conditions"]
    assert r["window"] == {"start": "2018-01-01", "end": "2026-04-26"}
    assert s["sharpe"] >= ew["sharpe"] and c["sharpe_no_lower"]
    assert s["max_drawdown"] <= ew["max_drawdown"] and c["drawdown_no_larger"]
    assert ew["cagr"] <= 0 or s["cagr"] >= 0.5 * ew["cagr"]
    rising = [y for y, v in c["years"].items() if v["equal_weight_rose"]]
    assert rising and all(c["years"][y]["invested_share"] >= 0.25 for y in rising), c["years"]
    assert 0 < s["mean_invested"] < 1 and s["cost_bp_pa"] > 0  # it trades, and is neither all-in nor all-out


@pytest.mark.slow
def test_the_shipped_figures_are_this_backtests(records) -> None:
    shipped = json.loads(SHIPPED.read_text())
    for name, h in shipped["histories"].items():
        for policy, figures in h["policies"].items():
            assert figures == pytest.approx(records[name]["policies"][policy], rel=1e-9), (name, policy)
    line = track_record.backtest_line()
    assert line is not None and f"{records['BTC alone, 2018-']['policies']['strategist:offline']['cagr']:+.1%}" in line

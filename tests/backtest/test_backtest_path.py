"""``backtest --json`` carries each policy's daily path; anyone can recompute the figures from it, and turnover
counts every leg (the USDC leg included)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from clirun import invoke_json

from agent.core.domain import TargetAllocation
from agent.core.policies import parse_policy
from agent.core.prices import PriceTable
from agent.core.simulation import Simulation

SHAPES = Path(__file__).parents[1] / "fixtures" / "backtest" / "shapes"


def test_cagr_and_max_drawdown_recomputed_from_the_json_path(tmp_path):
    t = tmp_path / "target.json"
    t.write_text(json.dumps({"BTC": 0.4, "ETH": 0.3, "USDC": 0.3}))
    code, out = invoke_json("backtest", "--prices", str(SHAPES / "project.csv"), "--target", str(t),
                            "--policy", "never", "--policy", "band:0.02")  # fmt: skip
    assert code == 0, out
    for p in out["policies"]:
        path = p["path"]
        assert len(path) == out["window"]["days"] == 90
        assert path[0]["date"] == out["window"]["start"] and path[-1]["date"] == out["window"]["end"]
        eq = np.array([d["equity"] for d in path])
        days = (date.fromisoformat(path[-1]["date"]) - date.fromisoformat(path[0]["date"])).days
        cagr = (eq[-1] / eq[0]) ** (365 / days) - 1
        peak = np.maximum.accumulate(eq)
        assert p["metrics"]["cagr"] == pytest.approx(cagr, rel=1e-9)
        assert p["metrics"]["max_drawdown"] == pytest.approx(float((1 - eq / peak).max()), rel=1e-9)
        assert p["metrics"]["final_equity"] == pytest.approx(eq[-1])
        for d in path:
            assert set(d["weights"]) == {"BTC", "ETH", "USDC"}
            assert sum(d["weights"].values()) == pytest.approx(1.0)
    first = out["policies"][0]["path"][0]["weights"]
    assert first == pytest.approx({"BTC": 0.4, "ETH": 0.3, "USDC": 0.3})


def test_turnover_counts_both_legs_the_usdc_one_included():
    """One sale of a coin into USDC: Σ|Δw| counts the coin leg and the USDC leg; the old figure half of one."""
    dates = tuple(date(2024, 1, d) for d in range(1, 32)) + tuple(date(2024, 2, d) for d in range(1, 30))
    close = np.column_stack([np.r_[np.full(30, 100.0), np.full(len(dates) - 30, 200.0)], np.full(len(dates), 50.0)])
    prices = PriceTable(dates, ("A", "B"), close, np.full(close.shape, np.nan))
    target = TargetAllocation.from_json({"A": 0.5, "B": 0.25, "USDC": 0.25})
    run = Simulation(prices, equity=10_000).run(parse_policy("band:0.05"), target)
    k = int(np.flatnonzero(run.trades)[0])
    assert run.dates[k] == date(2024, 1, 31)  # A doubled: far outside its band
    years = (dates[-1] - dates[0]).days / 365
    coin_legs = run.traded_usd[k] / run.equity[k]
    usdc_leg = run.cash_leg_usd[k] / run.equity[k]
    assert usdc_leg > 0
    m = run.metrics()
    assert m["turnover_pa"] == pytest.approx((coin_legs + usdc_leg) / years, rel=1e-9)
    assert m["turnover_pa_coin_legs_halved"] == pytest.approx(0.5 * coin_legs / years, rel=1e-9)
    # every leg = Σ|Δw| over the coins and USDC on that day, against the weights just before the trade
    before = np.array([0.5 * 2, 0.25]) * 10_000 / (10_000 + 5_000)  # A doubled, nothing traded yet
    after = run.weights[k]
    dw = np.abs(after - before).sum() + abs((1 - after.sum()) - (1 - before.sum()))
    assert coin_legs + usdc_leg == pytest.approx(dw, rel=1e-3)

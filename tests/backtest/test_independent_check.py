"""Calendar-monthly on the shared portfolios: the backtest (through the planner) agrees with a separate,
plain-numpy computation of the same cost model, written from the issue's text and nothing in agent/."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from agent.adapters.prices import read_prices_csv
from agent.core.domain import TargetAllocation
from agent.core.policies import parse_policy
from agent.core.simulation import Simulation

FIXTURE = Path(__file__).parents[1] / "fixtures" / "backtest" / "daily_2021_2026.csv"
A = {"BTC": 0.4, "ETH": 0.3, "USDC": 0.3}
B = {c: 0.1 for c in ("BTC", "ETH", "SOL", "AVAX", "LINK", "DOGE", "LTC", "BNB", "XRP", "ADA")}


def monthly_by_hand(weights: dict[str, float], equity: float = 100_000.0) -> dict[str, float]:
    """Start at target; on the first row of each month trade every coin to target at the close; pay
    |N|(fee + half-spread) + k·σ30·sqrt(|N|/V)·|N| from USDC; drift ½Σ|w − w*| with USDC after trades."""
    rows = list(csv.DictReader(FIXTURE.open()))
    coins = [c for c in weights if c != "USDC"]
    px = np.array([[float(r[c]) for c in coins] for r in rows])
    vol = np.array([[float(r[c + "_volume_usd"]) for c in coins] for r in rows])
    months = [r["date"][:7] for r in rows]
    logr = np.vstack([np.full(len(coins), np.nan), np.diff(np.log(px), axis=0)])
    w_star = np.array([weights[c] for c in coins])
    cash_star = 1 - w_star.sum()
    units = w_star * equity / px[0]
    cash = equity - (units * px[0]).sum()
    cost_total, cost_share, drifts, values = 0.0, 0.0, [], []
    for i in range(len(rows)):
        p = px[i]
        if i > 0 and months[i] != months[i - 1]:
            e = cash + (units * p).sum()
            trade = w_star * e / p - units
            n = np.abs(trade) * p
            window = logr[max(1, i - 29) : i + 1]
            sigma = window.std(axis=0, ddof=1)
            cost = n * (4.5 + 1.0) / 1e4 + 0.1 * sigma * np.sqrt(n / vol[i]) * n
            units = units + trade
            cash -= (trade * p).sum() + cost.sum()
            cost_total += cost.sum()
            cost_share += cost.sum() / (cash + (units * p).sum())
        e = cash + (units * p).sum()
        w = units * p / e
        drifts.append(0.5 * (np.abs(w - w_star).sum() + abs((1 - w.sum()) - cash_star)))
        values.append(e)
    years = (np.datetime64(rows[-1]["date"]) - np.datetime64(rows[0]["date"])).astype(int) / 365
    return {
        "mean_drift": float(np.mean(drifts)),
        "cost_bp_pa": cost_share / years * 1e4,
        "cost_bp_pa_mean_equity": cost_total / np.mean(values) / years * 1e4,
        "final_equity": values[-1],
    }


@pytest.mark.parametrize("weights", [A, B], ids=["A: BTC 40 / ETH 30 / USDC 30", "B: ten coins at 10 %"])
def test_calendar_monthly_agrees_with_an_independent_numpy_computation(weights):
    sim = Simulation(read_prices_csv(FIXTURE).select([c for c in weights if c != "USDC"]))
    got = sim.run(parse_policy("calendar:monthly"), TargetAllocation.from_json(weights)).metrics()
    ref = monthly_by_hand(weights)
    # The planner rounds sizes down onto the lot grid and skips orders under $10; nothing else differs.
    assert got["cost_bp_pa"] == pytest.approx(ref["cost_bp_pa"], rel=0.01)
    assert got["cost_bp_pa_mean_equity"] == pytest.approx(ref["cost_bp_pa_mean_equity"], rel=0.01)
    assert got["mean_drift"] == pytest.approx(ref["mean_drift"], abs=1e-4)
    assert got["final_equity"] == pytest.approx(ref["final_equity"], rel=1e-3)
    assert got["cost_bp_pa"] > 0

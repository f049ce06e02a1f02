"""The offline strategist's record: as a backtest policy against equal weight, 60/40 and buy-and-hold.

Every policy runs through the project's planner and cost model on the same universe (a fixed one, or coins
entering and leaving, ``agent.core.universe``):

- ``strategist:offline``: the offline strategist re-deciding monthly from the closes up to that day only;
- ``equal weight (monthly)``: 1/n of each coin of the day's universe, rebalanced on each month's first day;
- ``60/40 (monthly)``: 60 % in those coins at equal weight, 40 % USDC, rebalanced monthly;
- ``buy-and-hold``: equal weight over the first day's universe, never traded again.

The four conditions a default strategist has to meet against equal weight: Sharpe no lower, maximum
drawdown no larger, at least half the annual return when that return is positive, and invested in coins
(gross weight above 5 %) at least a quarter of the days of every calendar year in which equal weight rose.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np

from agent.core.domain import CASH
from agent.core.policies import EqualWeight
from agent.core.prices import PriceTable
from agent.core.simulation import Run, Simulation, Universe
from agent.services.evidence.backtest import run_backtest

INVESTED_MIN = 0.05  # gross weight above which a day counts as invested
POLICIES = {
    "strategist:offline": "strategist:offline",
    "equal weight (monthly)": "equal-weight:monthly",
    "60/40 (monthly)": "equal-weight:monthly:0.6",
    "buy-and-hold": "never",
}


def invested(run: Run) -> np.ndarray:
    """Gross weight in coins per day (0 = all USDC)."""
    return np.abs(run.weights).sum(axis=1)


def conditions(strategist: Run, ew: Run) -> dict[str, Any]:
    """The four conditions, each a yes/no, with the rising years the strategist sat out."""
    s, e = strategist.metrics(), ew.metrics()
    years: dict[int, list[int]] = {}
    for k, d in enumerate(ew.dates):
        years.setdefault(d.year, []).append(k)
    weak_years = []
    shares = {}
    for year, idx in sorted(years.items()):
        rose = ew.equity[idx[-1]] > ew.equity[idx[0]]
        share = float((invested(strategist)[idx] > INVESTED_MIN).mean())
        shares[year] = {"equal_weight_rose": bool(rose), "invested_share": share}
        if rose and share < 0.25:
            weak_years.append(f"{year}: invested {share:.0%} of days")
    return {
        "sharpe_no_lower": s["sharpe"] >= e["sharpe"],
        "drawdown_no_larger": s["max_drawdown"] <= e["max_drawdown"],
        "half_the_return": e["cagr"] <= 0 or s["cagr"] >= 0.5 * e["cagr"],
        "invested_in_rising_years": not weak_years,
        "weak_years": weak_years,
        "years": shares,
    }


def compare(prices: PriceTable, *, universe: Universe | None = None, start: date | None = None) -> dict[str, Any]:
    """Each policy's figures on one history, and the four conditions (strategist vs equal weight)."""
    sim = Simulation(prices, start=start, universe=universe)
    first = EqualWeight("monthly").target_for(sim, sim.lo)
    if set(first.allocations) == {CASH}:
        raise ValueError("no coin in the universe on the first day")
    result = run_backtest(prices, first, list(POLICIES.values()), start=start, universe=universe)
    runs = dict(zip(POLICIES, result.runs, strict=True))
    rows = {}
    for label, run in runs.items():
        m = run.metrics()
        rows[label] = {
            "cagr": m["cagr"],
            "sharpe": m["sharpe"],
            "max_drawdown": m["max_drawdown"],
            "cost_bp_pa": m["cost_bp_pa"],
            "mean_invested": float(invested(run).mean()),
        }
    d0, d1 = result.runs[0].dates[0], result.runs[0].dates[-1]
    return {
        "window": {"start": d0.isoformat(), "end": d1.isoformat()},
        "universe": universe.spec if universe is not None else ", ".join(prices.coins),
        "policies": rows,
        "conditions": conditions(runs["strategist:offline"], runs["equal weight (monthly)"]),
    }

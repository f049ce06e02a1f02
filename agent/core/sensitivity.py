"""Sensitivity analysis: what the last N days would have done to the current holdings and to the target.

Both portfolios are held unchanged through the window from the same $1 (weights ``w`` and ``w*`` at the
first close, USDC the remainder earning nothing); the target's path starts lower by the cost of getting
there (the planner's estimate, as a fraction of equity). Past data, not a forecast: the window's returns
say nothing reliable about the next ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import numpy as np

from agent.core.metrics import return_stats

NOTE = "past data, not a forecast"


def hold_path(closes: np.ndarray, weights: np.ndarray, start: float = 1.0) -> np.ndarray:
    """Value of ``start`` dollars held at ``weights`` (signed; USDC the rest) over the closes (T × n)."""
    rel = closes / closes[0]
    w = np.asarray(weights, dtype=float)
    cash = 1.0 - float(np.abs(w).sum())
    # A short of weight w gains w·(1 − P/P0): its value is |w| + w·(P/P0 − 1) in both cases.
    return start * (cash + np.abs(w).sum() + (rel - 1.0) @ w)


def compare(
    dates: Sequence[date], closes: np.ndarray, current: np.ndarray, target: np.ndarray, cost_fraction: float
) -> dict[str, object]:
    """Return, volatility, max drawdown and Sharpe of staying put against rebalancing, over the window."""
    days = (dates[-1] - dates[0]).days or 1
    now_path = hold_path(closes, current)
    tgt_path = hold_path(closes, target, 1.0 - cost_fraction)
    keys = ("total_return", "vol_pa", "max_drawdown", "sharpe")
    cur = {k: v for k, v in return_stats(now_path, days).items() if k in keys}
    tgt = {k: v for k, v in return_stats(tgt_path, days).items() if k in keys}
    tgt["total_return"] = float(tgt_path[-1] - 1.0)  # from the dollar before the cost
    return {
        "current": cur,
        "rebalanced": tgt,
        "difference": {k: tgt[k] - cur[k] for k in keys},
        "cost_fraction": cost_fraction,
        "paths": {
            "dates": [d.isoformat() for d in dates],
            "current": now_path.tolist(),
            "rebalanced": tgt_path.tolist(),
        },
        "note": NOTE,
    }


def summary_line(report: dict[str, object], days: int) -> str:
    """One line for ``preview``."""
    cur, tgt = report["current"], report["rebalanced"]
    assert isinstance(cur, dict) and isinstance(tgt, dict)
    return (
        f"Sensitivity, last {days} days ({NOTE}): rebalanced {tgt['total_return']:+.1%} vs stay put "
        f"{cur['total_return']:+.1%} (vol {tgt['vol_pa']:.0%} vs {cur['vol_pa']:.0%}, max drawdown "
        f"{tgt['max_drawdown']:.0%} vs {cur['max_drawdown']:.0%}), cost of getting there "
        f"{float(report['cost_fraction']):.2%} of equity"  # type: ignore[arg-type]
    )

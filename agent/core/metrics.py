"""Performance and risk arithmetic on value series: returns, volatility, Sharpe, Sortino, drawdown, correlation.

All pure functions of arrays. Daily series are annualised with 365 periods (crypto trades every day);
the risk-free rate is 0 (USDC earns nothing in these models).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

PERIODS = 365.0


def simple_returns(values: Sequence[float] | np.ndarray) -> np.ndarray:
    v = np.asarray(values, dtype=float)
    if len(v) < 2:
        return np.zeros(0)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = v[1:] / v[:-1] - 1.0
    return np.where(np.isfinite(r), r, 0.0)


def max_drawdown(values: Sequence[float] | np.ndarray) -> float:
    """Largest peak-to-trough fall, as a positive fraction (0.25 = −25 %)."""
    v = np.asarray(values, dtype=float)
    if len(v) == 0:
        return 0.0
    peak = np.maximum.accumulate(v)
    with np.errstate(divide="ignore", invalid="ignore"):
        dd = np.where(peak > 0, 1.0 - v / peak, 0.0)
    return float(dd.max(initial=0.0))


def current_drawdown(values: Sequence[float] | np.ndarray) -> float:
    v = np.asarray(values, dtype=float)
    if len(v) == 0 or v.max() <= 0:
        return 0.0
    return float(1.0 - v[-1] / v.max())


def return_stats(values: Sequence[float] | np.ndarray, days: float, periods: float = PERIODS) -> dict[str, float]:
    """Total return, CAGR over ``days`` calendar days, annualised volatility, Sharpe, Sortino, max drawdown."""
    v = np.asarray(values, dtype=float)
    r = simple_returns(v)
    total = float(v[-1] / v[0] - 1.0) if len(v) >= 2 and v[0] > 0 else 0.0
    years = days / 365.0
    cagr = (1.0 + total) ** (1.0 / years) - 1.0 if years > 0 and total > -1 else (-1.0 if total <= -1 else 0.0)
    sd = float(np.std(r, ddof=1)) if len(r) >= 2 else 0.0
    mean = float(r.mean()) if len(r) else 0.0
    downside = float(np.sqrt(np.mean(np.minimum(r, 0.0) ** 2))) if len(r) else 0.0
    return {
        "total_return": total,
        "cagr": cagr,
        "vol_pa": sd * math.sqrt(periods),
        "sharpe": mean / sd * math.sqrt(periods) if sd > 0 else 0.0,
        "sortino": mean / downside * math.sqrt(periods) if downside > 0 else 0.0,
        "max_drawdown": max_drawdown(v),
    }


def correlation(returns: np.ndarray) -> np.ndarray:
    """Pearson correlation of the columns of ``returns`` (rows with a NaN dropped); 1 on the diagonal."""
    r = np.asarray(returns, dtype=float)
    r = r[np.isfinite(r).all(axis=1)]
    n = r.shape[1]
    if r.shape[0] < 3 or n == 0:
        return np.eye(n)
    sd = r.std(axis=0, ddof=1)
    c = np.eye(n)
    live = sd > 0
    if live.sum() >= 2:
        sub = np.corrcoef(r[:, live], rowvar=False)
        idx = np.flatnonzero(live)
        c[np.ix_(idx, idx)] = sub
    return c


def average_pairwise(corr: np.ndarray, weights: np.ndarray | None = None) -> float:
    """Mean off-diagonal correlation (weighted by |w_i·w_j| when weights are given); 0 with fewer than 2 assets."""
    n = corr.shape[0]
    if n < 2:
        return 0.0
    mask = ~np.eye(n, dtype=bool)
    if weights is None:
        return float(corr[mask].mean())
    w = np.abs(np.asarray(weights, dtype=float))
    ww = np.outer(w, w)[mask]
    return float((corr[mask] * ww).sum() / ww.sum()) if ww.sum() > 0 else float(corr[mask].mean())

"""The real account's performance from its value history, fills and funding (pure arithmetic).

Inputs, each parsed from Hyperliquid's answers by the adapter:

- ``ValuePoint(ms, value, pnl)``: the ``portfolio`` answer's ``accountValueHistory`` and ``pnlHistory``
  (all periods merged). A return over a window is its PnL change over the value at its start, so a
  deposit or withdrawal is not counted as performance;
- ``Fill`` (``agent.core.orders``): fee, realised PnL (``closedPnl``) and notional per trade;
- ``FundingEvent(ms, coin, usdc)``: ``userFunding``'s ``delta.usdc`` (> 0 received, < 0 paid).

Volatility, Sharpe ratio and drawdown come from the daily PnL path (the last sample of each UTC day),
annualised over 365 days, risk-free rate 0.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from agent.core.metrics import max_drawdown
from agent.core.orders import Fill

DAY_MS = 86_400_000


@dataclass(frozen=True)
class ValuePoint:
    ms: int
    value: float
    pnl: float


@dataclass(frozen=True)
class FundingEvent:
    ms: int
    coin: str
    usdc: float


Series = Mapping[str, Sequence[ValuePoint]]  # period ("day", "week", "month", "allTime") → ascending points
PERIODS = ("day", "week", "month", "allTime")


def covering(series: Series, start_ms: int, length_ms: int) -> Sequence[ValuePoint]:
    """The finest period whose history reaches back to ``start_ms`` (within 2 % of the window), else allTime.

    PnL differences are exact within one period's series; the finer the period, the denser its samples.
    """
    slack = max(0, length_ms) // 50
    for name in PERIODS:
        pts = series.get(name) or ()
        if pts and pts[0].ms <= start_ms + slack:
            return pts
    return series.get("allTime") or next((p for p in series.values() if p), ())


def at_or_before(points: Sequence[ValuePoint], ms: int) -> ValuePoint | None:
    """The last point at or before ``ms`` (None when the history starts later)."""
    keys = [p.ms for p in points]
    i = int(np.searchsorted(keys, ms, side="right")) - 1
    return points[i] if i >= 0 else None


def window_return(points: Sequence[ValuePoint], start_ms: int, end_ms: int) -> float | None:
    """PnL change over the window divided by the value at its start; None without history that old."""
    a, b = at_or_before(points, start_ms), at_or_before(points, end_ms)
    if a is None or b is None or a.value <= 0:
        return None
    return (b.pnl - a.pnl) / a.value


def daily(points: Sequence[ValuePoint]) -> list[ValuePoint]:
    """The last point of each UTC day."""
    out: dict[int, ValuePoint] = {}
    for p in points:
        out[p.ms // DAY_MS] = p
    return [out[k] for k in sorted(out)]


def path_stats(points: Sequence[ValuePoint]) -> dict[str, float | None]:
    """Annualised volatility, Sharpe ratio and max drawdown of the daily PnL path (None under 3 days)."""
    d = daily(points)
    if len(d) < 3:
        return {"vol_pa": None, "sharpe": None, "max_drawdown": None, "days_of_history": float(len(d))}
    r = np.array([(b.pnl - a.pnl) / a.value if a.value > 0 else 0.0 for a, b in itertools.pairwise(d)])
    sd = float(np.std(r, ddof=1))
    base = d[0].value - d[0].pnl  # a value path with deposits taken out: start value + PnL
    path = np.array([base + p.pnl for p in d])
    return {
        "vol_pa": sd * math.sqrt(365),
        "sharpe": float(r.mean()) / sd * math.sqrt(365) if sd > 0 else None,
        "max_drawdown": max_drawdown(path) if (path > 0).all() else None,
        "days_of_history": float(len(d)),
    }


def report(
    series: Series,
    fills: Sequence[Fill],
    funding: Sequence[FundingEvent],
    *,
    now_ms: int,
    days: int,
    unrealized: Mapping[str, float] | None = None,
    names: Mapping[str, str] | None = None,
) -> dict[str, object]:
    """The performance of the last ``days`` (returns also over 1, 7, 30 days and all time)."""
    last = max((p[-1].ms for p in series.values() if p), default=now_ms)
    now_ms = max(now_ms, last)  # the exchange's clock may run a little ahead of ours
    start = now_ms - days * DAY_MS
    names = names or {}
    returns: dict[str, float | None] = {}
    for n in (1, 7, 30):
        begin = now_ms - n * DAY_MS
        returns[f"{n}d"] = window_return(covering(series, begin, n * DAY_MS), begin, now_ms)
    everything = series.get("allTime") or ()
    returns["all_time"] = window_return(everything, everything[0].ms, now_ms) if everything else None
    pts = list(covering(series, start, days * DAY_MS))
    in_window = [p for p in pts if p.ms >= start]
    base = at_or_before(pts, start) or (in_window[0] if in_window else None)
    stats = path_stats(([base] if base and base not in in_window else []) + in_window)
    f_in = [f for f in fills if f.time >= start]
    e_in = [e for e in funding if e.ms >= start]
    per: dict[str, dict[str, float]] = {}

    def row(coin: str) -> dict[str, float]:
        return per.setdefault(
            names.get(coin, coin),
            {"realised_pnl": 0.0, "fees": 0.0, "funding": 0.0, "traded_usd": 0.0, "unrealised_pnl": 0.0},
        )

    for f in f_in:
        r = row(f.coin)
        r["realised_pnl"] += f.closed_pnl
        r["fees"] += f.fee
        r["traded_usd"] += f.px * f.sz
    for e in e_in:
        row(e.coin)["funding"] += e.usdc
    for coin, u in (unrealized or {}).items():
        row(coin)["unrealised_pnl"] += u
    mean_value = float(np.mean([p.value for p in in_window])) if in_window else (base.value if base else 0.0)
    v0 = base.value if base else 0.0
    for r in per.values():
        r["contribution"] = ((r["realised_pnl"] - r["fees"] + r["funding"] + r["unrealised_pnl"]) / v0) if v0 else 0.0
    traded = sum(f.px * f.sz for f in f_in)
    return {
        "window_days": days,
        "value_now": pts[-1].value if pts else None,
        "value_start": v0 or None,
        "returns": returns,
        **stats,
        "fees_paid": sum(f.fee for f in f_in),
        "funding": sum(e.usdc for e in e_in),
        "realised_pnl": sum(f.closed_pnl for f in f_in),
        "traded_usd": traded,
        "turnover": traded / 2 / mean_value if mean_value > 0 else None,
        "per_asset": dict(sorted(per.items())),
    }

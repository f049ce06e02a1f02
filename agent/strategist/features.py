"""Per-asset market features from real price and funding history: pure functions over numpy arrays.

The strategist (LLM or offline) reasons about regimes, not raw prices: how volatile is each coin, is it
trending, how far is it below its high, is its funding rich. Everything here is deterministic and
side-effect free except the two loaders, which read the fixtures in ``agent/data/market_history``.

Conventions: crypto trades every day, so daily figures annualise with 365 periods; Hyperliquid funding
is paid hourly, so an hourly rate annualises with 24 × 365 = 8,760.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from agent.core.errors import ValidationError

DAYS_PER_YEAR = 365
HOURS_PER_YEAR = 24 * 365
HOUR_MS = 3_600_000
FloatArray = NDArray[np.float64]

HISTORY_DIR = Path(__file__).resolve().parents[1] / "data" / "market_history"
DAILY_CLOSES_FILE = "daily_closes.csv"


def _as_prices(closes: Sequence[float] | FloatArray) -> FloatArray:
    arr = np.asarray(closes, dtype=np.float64)
    if arr.ndim != 1:
        raise ValueError("closes must be one-dimensional")
    if arr.size and (not np.all(np.isfinite(arr)) or np.any(arr <= 0)):
        raise ValueError("closes must be finite and positive")
    return arr


def log_returns(closes: Sequence[float] | FloatArray) -> FloatArray:
    """Daily log returns ln(p_t / p_{t-1}); one shorter than ``closes``."""
    arr = _as_prices(closes)
    return np.diff(np.log(arr)) if arr.size > 1 else np.empty(0)


def realised_volatility(
    closes: Sequence[float] | FloatArray, window: int = 30, periods_per_year: int = DAYS_PER_YEAR
) -> float:
    """Annualised standard deviation (ddof=1) of the last ``window`` daily log returns; NaN if too short."""
    r = log_returns(closes)[-window:]
    if r.size < 2:
        return math.nan
    return float(np.std(r, ddof=1) * math.sqrt(periods_per_year))


def trend_return(closes: Sequence[float] | FloatArray, days: int = 30) -> float:
    """Simple return over the last ``days`` closes: p_t / p_{t-days} − 1; NaN if too short."""
    arr = _as_prices(closes)
    if arr.size <= days:
        return math.nan
    return float(arr[-1] / arr[-1 - days] - 1.0)


def price_vs_mean(closes: Sequence[float] | FloatArray, window: int = 50) -> float:
    """Last close relative to the mean of the last ``window`` closes, minus 1 (> 0: above the mean)."""
    arr = _as_prices(closes)
    if arr.size < window:
        return math.nan
    return float(arr[-1] / arr[-window:].mean() - 1.0)


def max_drawdown(closes: Sequence[float] | FloatArray, window: int | None = None) -> float:
    """Worst peak-to-trough fall over the last ``window`` closes (all when None); ≤ 0."""
    arr = _as_prices(closes)
    if window is not None:
        arr = arr[-window:]
    if arr.size == 0:
        return math.nan
    peaks = np.maximum.accumulate(arr)
    return float(np.min(arr / peaks - 1.0))


def current_drawdown(closes: Sequence[float] | FloatArray, window: int | None = None) -> float:
    """How far the last close is below the highest close of the window (all when None); ≤ 0."""
    arr = _as_prices(closes)
    if window is not None:
        arr = arr[-window:]
    if arr.size == 0:
        return math.nan
    return float(arr[-1] / arr.max() - 1.0)


def funding_features(history: Sequence[Mapping[str, Any]], latest: float | None = None) -> dict[str, float]:
    """Funding features from Hyperliquid ``fundingHistory`` records ``{coin, fundingRate, premium, time}``.

    ``latest`` (an hourly rate, e.g. ``MarketInfo.funding``) overrides the last record's rate as the
    current one. The 7-day window ends at the newest record's ``time`` (not "now"), so the result does
    not depend on when it runs. Returns hourly rates and their annualised values (× 8,760), plus the
    share of positive hours in the window, which tells "persistently rich" from one spike.
    """
    out: dict[str, float] = {}
    recs = sorted(((int(r["time"]), float(r["fundingRate"])) for r in history), key=lambda x: x[0])
    if recs:
        end = recs[-1][0]
        week = np.array([rate for t, rate in recs if t > end - 7 * 24 * HOUR_MS], dtype=np.float64)
        if not np.all(np.isfinite(week)):
            raise ValueError("funding rates must be finite")
        out["funding_7d_mean"] = float(week.mean())
        out["funding_7d_apr"] = float(week.mean() * HOURS_PER_YEAR)
        out["funding_7d_positive_share"] = float(np.mean(week > 0))
        out["funding_hours"] = float(week.size)
        if latest is None:
            latest = recs[-1][1]
    if latest is not None and math.isfinite(latest):
        out["funding_hourly"] = float(latest)
        out["funding_apr"] = float(latest * HOURS_PER_YEAR)
    return out


def correlation_matrix(
    closes: Mapping[str, Sequence[float] | FloatArray], window: int = 90, coins: Iterable[str] | None = None
) -> tuple[list[str], FloatArray]:
    """Pearson correlation of the last ``window`` daily log returns; coins sorted, common length used."""
    names, rets = _aligned_returns(closes, window, coins)
    if len(names) == 1:
        return names, np.ones((1, 1))
    return names, np.asarray(np.corrcoef(rets), dtype=np.float64)


def covariance_matrix(
    closes: Mapping[str, Sequence[float] | FloatArray], window: int = 90, coins: Iterable[str] | None = None
) -> tuple[list[str], FloatArray]:
    """Annualised covariance of the last ``window`` daily log returns (coins sorted)."""
    names, rets = _aligned_returns(closes, window, coins)
    cov = np.atleast_2d(np.cov(rets, ddof=1)) * DAYS_PER_YEAR
    return names, cov


def _aligned_returns(
    closes: Mapping[str, Sequence[float] | FloatArray], window: int, coins: Iterable[str] | None
) -> tuple[list[str], FloatArray]:
    names = sorted(coins if coins is not None else closes)
    if not names:
        raise ValueError("no coins")
    series = [log_returns(closes[c]) for c in names]
    n = min(window, *(s.size for s in series))
    if n < 2:
        raise ValueError("need at least 3 closes per coin")
    # The fixtures share their dates, so aligning on the most recent n returns is exact for them.
    return names, np.vstack([s[-n:] for s in series])


def asset_features(closes: Sequence[float] | FloatArray) -> dict[str, float]:
    """Volatility, trend and drawdown of one coin; NaN-valued features are left out."""
    feats = {
        "close": float(_as_prices(closes)[-1]) if len(closes) else math.nan,
        "vol_30d": realised_volatility(closes, 30),
        "vol_90d": realised_volatility(closes, 90),
        "return_30d": trend_return(closes, 30),
        "return_90d": trend_return(closes, 90),
        "price_vs_ma50": price_vs_mean(closes, 50),
        "max_drawdown_90d": max_drawdown(closes, 90),
        "max_drawdown_365d": max_drawdown(closes, 365),
        "drawdown": current_drawdown(closes, 365),
        "drawdown_90d": current_drawdown(closes, 90),
        "history_days": float(len(closes)),
    }
    return {k: v for k, v in feats.items() if math.isfinite(v)}


def market_features(
    closes: Mapping[str, Sequence[float] | FloatArray],
    funding: Mapping[str, Sequence[Mapping[str, Any]]] | None = None,
    latest_funding: Mapping[str, float] | None = None,
    corr_window: int = 90,
) -> dict[str, dict[str, float]]:
    """coin -> feature -> value for every coin with closes and/or funding.

    Adds ``avg_correlation`` (mean correlation to the other coins over ``corr_window`` days) when two
    or more coins have enough history. Coins with only funding get only funding features.
    """
    out: dict[str, dict[str, float]] = {c: asset_features(v) for c, v in closes.items() if len(v) >= 2}
    eligible = [c for c, v in closes.items() if len(v) >= 3]
    if len(eligible) >= 2:
        names, corr = correlation_matrix(closes, corr_window, eligible)
        for i, c in enumerate(names):
            others = np.delete(corr[i], i)
            out[c]["avg_correlation"] = float(others.mean())
    coins = set(funding or {}) | set(latest_funding or {})
    for c in sorted(coins):
        feats = funding_features((funding or {}).get(c, ()), (latest_funding or {}).get(c))
        if feats:
            out.setdefault(c, {}).update(feats)
    return out


def load_daily_closes(
    path: str | Path | None = None, coins: Iterable[str] | None = None, last: int | None = None
) -> dict[str, FloatArray]:
    """Read the ``date,<COIN>,…`` close table (default: the shipped fixture), ascending by date.

    Empty cells are allowed only before a coin's first close (a later listing); the coin's array then
    starts at its first close. ``last`` keeps the most recent rows; ``coins`` selects columns (a coin
    not in the file is simply absent from the result).
    """
    p = Path(path) if path is not None else HISTORY_DIR / DAILY_CLOSES_FILE
    if p.is_dir():
        p = p / DAILY_CLOSES_FILE
    try:
        with p.open(newline="", encoding="utf-8") as fh:
            rows = list(csv.reader(fh))
    except OSError as exc:
        raise ValidationError(f"{p}: cannot read price history ({exc.strerror})") from None
    if not rows or not rows[0] or rows[0][0] != "date":
        raise ValidationError(f"{p}: expected a header starting with 'date'")
    header = rows[0]
    body = rows[1:]
    dates = [r[0] for r in body]
    if dates != sorted(dates) or len(set(dates)) != len(dates):
        raise ValidationError(f"{p}: dates must be unique and ascending")
    if last is not None:
        body = body[-last:]
    wanted = set(coins) if coins is not None else None
    out: dict[str, FloatArray] = {}
    for j, coin in enumerate(header[1:], start=1):
        if wanted is not None and coin not in wanted:
            continue
        values: list[float] = []
        for i, row in enumerate(body):
            cell = row[j].strip() if j < len(row) else ""
            if not cell:
                if values:
                    raise ValidationError(f"{p}: {coin} has a gap at {row[0]}")
                continue
            try:
                v = float(cell)
            except ValueError:
                raise ValidationError(f"{p}: {coin} at row {i + 2}: {cell!r} is not a number") from None
            if not math.isfinite(v) or v <= 0:
                raise ValidationError(f"{p}: {coin} at row {i + 2}: {cell!r} is not a positive price")
            values.append(v)
        if values:
            out[coin] = np.asarray(values, dtype=np.float64)
    return out


def load_funding_history(path: str | Path) -> list[dict[str, Any]]:
    """Read a raw Hyperliquid ``fundingHistory`` JSON list (e.g. the shipped SOL fixture)."""
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ValidationError(f"{p}: cannot read funding history ({exc})") from None
    if not isinstance(data, list) or not all(
        isinstance(r, dict) and {"coin", "fundingRate", "time"} <= r.keys() for r in data
    ):
        raise ValidationError(f"{p}: expected a list of {{coin, fundingRate, premium, time}} records")
    return data

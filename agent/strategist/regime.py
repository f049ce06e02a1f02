"""The market regime the offline strategist reads: market features summarised, then classified by explicit rules."""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

# Regime thresholds (annualised volatilities, simple returns, drawdowns as negative fractions).
CRASH_DRAWDOWN_90D = -0.25  # reference coin (BTC) this far below its 90-day high
CRASH_MEDIAN_RETURN_30D = -0.20
HIGH_VOL = 0.90  # median 30-day volatility
CAUTION_DRAWDOWN_90D = -0.15
CAUTION_VOL = 0.65
BROAD_BREADTH = 0.70  # share of coins above their 50-day mean
BROAD_MEDIAN_RETURN_30D = 0.05
UPTREND_BREADTH = 0.50
DOWNTREND_BREADTH = 0.35
# Funding: "persistently rich" = 7-day mean and latest rate both high, and mostly positive hours.
FUNDING_RICH_7D_APR = 0.20
FUNDING_RICH_LATEST_APR = 0.10
FUNDING_POSITIVE_SHARE = 0.70
FUNDING_MAX_COINS = 3
UNHEDGED_SHORT_MAX = 0.10
CASH_MIN = 0.20
RISK_PARITY_MAX_COINS = 12
SATELLITE_MAX = 0.10  # balanced-growth: one satellite never outweighs its sleeve's intent
REFERENCE_COIN = "BTC"

PRIORITY = (
    "fixed-targets",
    "trend-following",
    "risk-off",
    "funding-harvest",
    "cash-reserve",
    "equal-weight",
    "balanced-growth",
    "score-weighted",
    "risk-parity",
)


def _pct(x: float) -> str:
    return f"{x:+.1%}" if math.isfinite(x) else "n/a"


def momentum_score(feats: Mapping[str, float]) -> float:
    """Risk-adjusted momentum: 90-day return / 90-day annualised volatility (NaN without history)."""
    r, v = feats.get("return_90d", math.nan), feats.get("vol_90d", math.nan)
    return r / v if math.isfinite(r) and math.isfinite(v) and v > 0 else math.nan


def weighted_score(feats: Mapping[str, float], weights: Mapping[str, float]) -> float:
    """The viability score: ``momentum`` × 90-day return/vol + ``trend`` × 30-day return/vol.

    A component with weight 0 is left out (so the default, momentum only, is :func:`momentum_score`).
    """
    parts = {"momentum": momentum_score(feats)}
    if weights.get("trend", 0.0):
        r, v = feats.get("return_30d", math.nan), feats.get("vol_30d", math.nan)
        parts["trend"] = r / v if math.isfinite(r) and math.isfinite(v) and v > 0 else math.nan
    return sum(weights.get(k, 0.0) * x for k, x in parts.items() if weights.get(k, 0.0))


@dataclass(frozen=True)
class RichFunding:
    coin: str
    apr_7d: float
    apr_latest: float
    positive_share: float


@dataclass(frozen=True)
class MarketSummary:
    """The handful of market-wide numbers the precondition rules read."""

    n_assets: int
    reference: str
    ref_drawdown_90d: float
    ref_return_30d: float
    median_vol_30d: float
    median_return_30d: float
    breadth: float
    rich_funding: tuple[RichFunding, ...] = ()
    best_funding: tuple[str, float] | None = None

    def describe(self) -> str:
        best = f"{self.best_funding[0]} {_pct(self.best_funding[1])}" if self.best_funding else "none measured"
        return (
            f"{self.n_assets} coins with history; {self.reference} 90d drawdown {_pct(self.ref_drawdown_90d)}, "
            f"{self.reference} 30d return {_pct(self.ref_return_30d)}; median 30d vol "
            f"{self.median_vol_30d:.0%}; median 30d return {_pct(self.median_return_30d)}; breadth "
            f"(above 50d mean) {self.breadth:.0%}; highest 7d funding APR: {best}"
        )


def summarize(features: Mapping[str, Mapping[str, float]], coins: Sequence[str] | None = None) -> MarketSummary:
    """Reduce per-coin features to the market-wide summary (over ``coins``, default all)."""
    names = sorted(coins if coins is not None else features)
    hist = [c for c in names if "vol_30d" in features.get(c, {})]

    def med(key: str) -> float:
        vals = [features[c][key] for c in hist if math.isfinite(features[c].get(key, math.nan))]
        return statistics.median(vals) if vals else math.nan

    ref = REFERENCE_COIN if REFERENCE_COIN in hist else "median coin"
    if ref == REFERENCE_COIN:
        ref_dd = features[ref].get("drawdown_90d", math.nan)
        ref_ret = features[ref].get("return_30d", math.nan)
    else:
        ref_dd, ref_ret = med("drawdown_90d"), med("return_30d")
    above = [c for c in hist if math.isfinite(features[c].get("price_vs_ma50", math.nan))]
    breadth = sum(features[c]["price_vs_ma50"] > 0 for c in above) / len(above) if above else math.nan
    rich = []
    best: tuple[str, float] | None = None
    for c in names:
        f = features.get(c, {})
        apr7 = f.get("funding_7d_apr")
        if apr7 is None or not math.isfinite(apr7):
            continue
        if best is None or apr7 > best[1]:
            best = (c, apr7)
        latest = f.get("funding_apr", math.nan)
        share = f.get("funding_7d_positive_share", 0.0)
        if apr7 >= FUNDING_RICH_7D_APR and latest >= FUNDING_RICH_LATEST_APR and share >= FUNDING_POSITIVE_SHARE:
            rich.append(RichFunding(c, apr7, latest, share))
    rich.sort(key=lambda r: (-r.apr_7d, r.coin))
    return MarketSummary(
        n_assets=len(hist),
        reference=ref,
        ref_drawdown_90d=ref_dd,
        ref_return_30d=ref_ret,
        median_vol_30d=med("vol_30d"),
        median_return_30d=med("return_30d"),
        breadth=breadth,
        rich_funding=tuple(rich),
        best_funding=best,
    )


def classify_regime(s: MarketSummary) -> tuple[str, str]:
    """(regime, why): crash, high-vol, caution, broad-rally, uptrend, range or downtrend."""
    if s.n_assets == 0:
        return "unknown", "no coin has price history"
    if s.ref_drawdown_90d <= CRASH_DRAWDOWN_90D:
        return "crash", f"{s.reference} is {_pct(s.ref_drawdown_90d)} from its 90d high (≤ {CRASH_DRAWDOWN_90D:.0%})"
    if s.median_return_30d <= CRASH_MEDIAN_RETURN_30D:
        return "crash", f"median 30d return {_pct(s.median_return_30d)} ≤ {CRASH_MEDIAN_RETURN_30D:.0%}"
    if s.median_vol_30d >= HIGH_VOL:
        return "high-vol", f"median 30d vol {s.median_vol_30d:.0%} ≥ {HIGH_VOL:.0%}"
    if s.ref_drawdown_90d <= CAUTION_DRAWDOWN_90D or s.median_vol_30d >= CAUTION_VOL:
        return "caution", (
            f"{s.reference} 90d drawdown {_pct(s.ref_drawdown_90d)} (caution ≤ "
            f"{CAUTION_DRAWDOWN_90D:.0%}) or median vol {s.median_vol_30d:.0%} (≥ {CAUTION_VOL:.0%})"
        )
    if s.breadth >= BROAD_BREADTH and s.median_return_30d >= BROAD_MEDIAN_RETURN_30D:
        return "broad-rally", (
            f"breadth {s.breadth:.0%} ≥ {BROAD_BREADTH:.0%} and median 30d return "
            f"{_pct(s.median_return_30d)} ≥ {BROAD_MEDIAN_RETURN_30D:.0%}"
        )
    if s.breadth >= UPTREND_BREADTH:
        return "uptrend", f"breadth {s.breadth:.0%} ≥ {UPTREND_BREADTH:.0%}, no crash/caution signal"
    if s.breadth < DOWNTREND_BREADTH:
        return "downtrend", f"breadth {s.breadth:.0%} < {DOWNTREND_BREADTH:.0%}"
    return "range", f"breadth {s.breadth:.0%} between {DOWNTREND_BREADTH:.0%} and {UPTREND_BREADTH:.0%}"

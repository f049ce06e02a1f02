"""Multi-horizon time-series trend with volatility-scaled sizing: the offline strategist's default rule.

Rule, per coin of the universe (n coins, each owning a 1/n slot of equity):

* **Trend votes.** For each lookback L in ``LOOKBACKS`` (30, 60, 90, 120, 180 days), the coin is in an
  uptrend when its close today is above its close L days ago. A lookback the coin has no history for votes
  "no". The coin's trend share is the sum of the lookback weights voting "up" (0 … 1).
* **Volatility scaling.** Size = slot × trend share × min(1, ``VOL_TARGET`` / σ), σ the annualised std of the
  last ``VOL_DAYS`` daily returns. A calm coin in a full uptrend fills its slot; a wild one gets less.
* **Cash** is what is left: all of it when every trend is down, none when every coin trends up calmly.
  Re-entry is automatic: the votes come back when prices rise above their past closes.

The lookback weights are the one fitted parameter, chosen **walk-forward** at each decision from the
closes before it only (:func:`fit`): each lookback's rule alone (same sizing, same coins) is replayed over
the last ``FIT_DAYS`` days at ``FIT_STEP``-day steps, scored by its annualised Sharpe ratio, and the weights
are proportional to the positive scores, shrunk halfway (``SHRINK``) toward equal weights so that one noisy
window cannot put everything on one horizon. With no history to score, the weights are equal.

Why it should generalise: time-series momentum across several horizons is among the most replicated
findings across asset classes (Moskowitz, Ooi and Pedersen 2012; Hurst, Ooi and Pedersen's century of trend
following), it needs no cross-section (it works for one coin as for fifty), averaging horizons removes the
bet on one lookback, and volatility scaling (Moreira and Muir 2017) is what keeps drawdowns bounded when
crypto's volatility jumps. Nothing in it is tuned to one history: the grid is the usual one of 1–6 months.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

LOOKBACKS: tuple[int, ...] = (30, 60, 90, 120, 180)
VOL_TARGET = 0.50
VOL_DAYS = 60
FIT_DAYS = 730
FIT_STEP = 7
SHRINK = 0.5
MIN_FIT_POINTS = 8
#: the closes one decision reads: the fit window and the longest lookback before it
HISTORY_DAYS = FIT_DAYS + max(LOOKBACKS)

#: What a walk-forward report can show: the grid fitted at each decision and the fixed settings.
PARAMETER_GRID: dict[str, Any] = {
    "fitted": {"lookback_days": list(LOOKBACKS)},
    "fixed": {"vol_target": VOL_TARGET, "vol_days": VOL_DAYS, "shrink_to_equal": SHRINK},
    "fit": {
        "window_days": FIT_DAYS,
        "step_days": FIT_STEP,
        "score": "annualised Sharpe of each lookback's rule alone over the window before the decision",
        "weights": "positive scores normalised, shrunk halfway to equal weights",
    },
}


@dataclass(frozen=True)
class TrendFit:
    """The lookback weights chosen at one decision and the in-sample scores they came from."""

    lookbacks: tuple[int, ...]
    scores: tuple[float, ...]  # annualised Sharpe per lookback over the fit window (0 when not scorable)
    weights: tuple[float, ...]
    points: int  # how many FIT_STEP periods were scored

    def describe(self) -> str:
        parts = ", ".join(
            f"{L}d {w:.0%} (Sharpe {s:+.2f})" for L, w, s in zip(self.lookbacks, self.weights, self.scores, strict=True)
        )
        if self.points < MIN_FIT_POINTS:
            return f"lookback weights equal (only {self.points} weekly points of history to score): {parts}"
        return f"lookback weights fitted on the last {self.points} weeks before today: {parts}"


@dataclass(frozen=True)
class CoinTrend:
    coin: str
    votes: tuple[bool, ...]
    share: float
    vol: float
    weight: float


@dataclass
class TrendTarget:
    """The rule's answer: weights per coin (the rest USDC), the fit, and each coin's votes and volatility."""

    weights: dict[str, float]
    fit: TrendFit
    coins: list[CoinTrend] = field(default_factory=list)
    vol_target: float = VOL_TARGET

    def notes(self) -> list[str]:
        lines = [
            f"Trend rule over {len(self.coins)} coins (each a 1/{max(1, len(self.coins))} slot): uptrend votes "
            f"over {', '.join(f'{L}d' for L in self.fit.lookbacks)}; size = slot × trend share × "
            f"min(1, {self.vol_target:.0%} / {VOL_DAYS}d vol); the rest USDC.",
            self.fit.describe().capitalize() + ".",
        ]
        for c in self.coins:
            up = "".join("↑" if v else "·" for v in c.votes)
            vol = f"{c.vol:.0%}" if math.isfinite(c.vol) else "n/a"
            lines.append(f"- {c.coin}: votes {up} → share {c.share:.0%}, vol {vol}, weight {c.weight:.1%}")
        invested = sum(self.weights.values())
        lines.append(f"Invested {invested:.0%}, USDC {1 - invested:.0%}.")
        return lines


def _aligned(closes: Mapping[str, np.ndarray], coins: Sequence[str]) -> np.ndarray:
    """T × n closes aligned on the last row (today), NaN before a coin's first close."""
    cols = [np.asarray(closes[c], dtype=float) for c in coins]
    t = max((len(c) for c in cols), default=0)
    out = np.full((t, len(cols)), np.nan)
    for j, c in enumerate(cols):
        if len(c):
            out[t - len(c) :, j] = c
    return out


def _vol(m: np.ndarray, end: int) -> np.ndarray:
    """Annualised std of the last VOL_DAYS daily returns up to row ``end`` (NaN with under 10)."""
    lo = max(0, end - VOL_DAYS)
    w = m[lo : end + 1]
    with np.errstate(divide="ignore", invalid="ignore"):
        r = w[1:] / w[:-1] - 1.0
    out = np.full(m.shape[1], np.nan)
    for j in range(m.shape[1]):
        x = r[:, j][np.isfinite(r[:, j])]
        if len(x) >= 10:
            out[j] = float(np.std(x, ddof=1)) * math.sqrt(365.0)
    return out


def _scale(vol: np.ndarray, vol_target: float) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(np.isfinite(vol) & (vol > 0), np.minimum(1.0, vol_target / vol), 0.0)


def _up(m: np.ndarray, end: int, lookback: int) -> np.ndarray:
    """Per coin: close at ``end`` above the close ``lookback`` rows earlier (False without that history)."""
    if end - lookback < 0:
        return np.zeros(m.shape[1], dtype=bool)
    now, then = m[end], m[end - lookback]
    ok = np.isfinite(now) & np.isfinite(then)
    return ok & (np.where(ok, now, 0.0) > np.where(ok, then, 0.0))


def fit(closes: Mapping[str, np.ndarray], coins: Sequence[str], *, vol_target: float = VOL_TARGET) -> TrendFit:
    """Lookback weights from the closes before today only (walk-forward): see the module docstring."""
    m = _aligned(closes, coins)
    t = m.shape[0]
    points = list(range(max(0, t - 1 - FIT_DAYS), t - 1, FIT_STEP))
    pairs = [(a, b) for a, b in zip(points, [*points[1:], t - 1], strict=True) if b > a]
    scale = {a: _scale(_vol(m, a), vol_target) for a, _ in pairs}
    scores = []
    used = 0
    for L in LOOKBACKS:
        rets = []
        for a, b in pairs:
            live = np.isfinite(m[a]) & np.isfinite(m[b]) & (scale[a] > 0)
            if a - L >= 0:
                live &= np.isfinite(m[a - L])
            else:
                live[:] = False
            if not live.any():
                continue
            with np.errstate(divide="ignore", invalid="ignore"):
                r = np.where(_up(m, a, L), m[b] / m[a] - 1.0, 0.0) * scale[a]
            rets.append(float(r[live].mean()))
        x = np.array(rets)
        used = max(used, len(x))
        sd = float(x.std(ddof=1)) if len(x) >= 2 else 0.0
        ok = len(x) >= MIN_FIT_POINTS and sd > 0
        scores.append(float(x.mean() / sd * math.sqrt(365.0 / FIT_STEP)) if ok else 0.0)
    pos = np.maximum(np.array(scores), 0.0)
    k = len(LOOKBACKS)
    fitted = pos / pos.sum() if pos.sum() > 0 else np.full(k, 1.0 / k)
    weights = (1.0 - SHRINK) * fitted + SHRINK / k
    return TrendFit(LOOKBACKS, tuple(scores), tuple(float(w) for w in weights), used)


def target(closes: Mapping[str, np.ndarray], coins: Sequence[str], *, vol_target: float = VOL_TARGET) -> TrendTarget:
    """The rule's weights for ``coins`` from their closes up to today (the last element of each array).

    ``vol_target`` is fixed live (``VOL_TARGET``); ``backtest --walk-forward`` fits it as ``strategist:fit``.
    """
    coins = sorted(c for c in coins if c in closes and len(closes[c]) > 0)
    f = fit(closes, coins, vol_target=vol_target)
    m = _aligned(closes, coins)
    if not coins:
        return TrendTarget({}, f, vol_target=vol_target)
    end = m.shape[0] - 1
    votes = np.array([_up(m, end, L) for L in LOOKBACKS])  # lookbacks × coins
    share = (np.array(f.weights)[:, None] * votes).sum(axis=0)
    vol = _vol(m, end)
    size = share * _scale(vol, vol_target) / len(coins)
    out = []
    weights = {}
    for j, c in enumerate(coins):
        w = float(size[j])
        out.append(CoinTrend(c, tuple(bool(v) for v in votes[:, j]), float(share[j]), float(vol[j]), w))
        if w > 1e-6:
            weights[c] = w
    return TrendTarget(weights, f, out, vol_target)

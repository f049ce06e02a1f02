"""Cost-aware no-trade bands: per asset, how far a weight may drift before trading pays for itself.

The model (one asset at a time, the classic small-cost asymptotics of Whalley & Wilmott 1997, Rogers 2004,
and Leland 2000's tracking-error reading of them). Write ``x_i = w_i − w*_i`` for asset i's deviation from
its target weight. Between trades the weight diffuses: with ``R`` the assets' daily returns, covariance
``Σ``, and the portfolio at target ``R_p = w*ᵀR`` (USDC earns nothing), to first order
``dw_i = w*_i (dR_i − dR_p)``, so ``x_i`` is a driftless diffusion with daily variance

    σ²_{w,i} = w*_i² · Var(R_i − R_p) = w*_i² · (Σ_ii − 2(Σw*)_i + w*ᵀΣw*).

Trading ``|dξ|`` of weight costs ``κ_i |dξ| · E`` (proportional: fee + half-spread, plus the impact of a
typical trade linearised at its size, below). The owner pays ``A`` (the one knob, the aversion to drift,
per unit of weight per day) for each unit of absolute deviation, the measure the backtest reports (mean
drift ½Σ|x|). With a no-trade band ``[−δ_i, δ_i]`` and trades that stop at its edge, ``x_i`` is a
reflected Brownian motion: its stationary law is uniform, so ``E|x_i| = δ_i/2``, and the edge is pushed
at the local-time rate ``σ²_{w,i}/(2δ_i)`` per day. The long-run cost per day, per unit of equity, is

    f(δ_i) = A·δ_i/2 + κ_i σ²_{w,i} / (2δ_i),    minimised at    δ_i* = σ_{w,i} · sqrt(κ_i / A).

(With a quadratic penalty ``(A/2)x²`` instead, the same argument gives Whalley and Wilmott's cube-root
law ``δ = (3κσ²/(2A))^{1/3}``; we penalise what we report, the absolute drift.) So the band is wide for
a volatile or expensive asset and narrow for a calm, cheap one, and it breathes with volatility: in a
turbulent month the bands widen rather than paying for every swing.

Impact: a trade of notional ``N`` costs ``k·σ_i·sqrt(N/V_i)·N`` (the backtest's cost model), i.e. a rate
``k·σ_i·sqrt(N/V_i)`` per dollar; we take ``N`` as one day's typical push at the edge, ``σ_{w,i}·E``.

Assumed: no drift in returns over the horizon (bands are centred on target); daily monitoring (the
band's edge is overshot by at most one day's move, traded back to the edge); assets treated one at a
time (the cross effect through USDC and the other weights is second order); the minimum order value
is handled by the planner (a push under it waits for the next day); a target of 0 has a band of 0 (exit).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from agent.core.errors import ValidationError


@dataclass(frozen=True)
class BandModel:
    """What the bands need for one day, e.g. ``BandModel(("BTC", "ETH"), cov, cost_rate, impact)``.

    - ``coins``: the assets covered, in the order of the arrays;
    - ``cov``: daily covariance of their simple returns (n × n), from trailing history;
    - ``cost_rate``: proportional cost per dollar traded (fee + half-spread), per asset;
    - ``impact``: ``k·σ_i/sqrt(V_i)`` per asset (0 where the volume is unknown): a trade of ``N`` dollars
      costs ``impact_i·sqrt(N)`` per dollar on top of ``cost_rate``.
    """

    coins: tuple[str, ...]
    cov: np.ndarray
    cost_rate: np.ndarray
    impact: np.ndarray

    def __post_init__(self) -> None:
        n = len(self.coins)
        if self.cov.shape != (n, n) or self.cost_rate.shape != (n,) or self.impact.shape != (n,):
            raise ValidationError("band model: covariance, cost and impact must match the coins")
        if not (np.isfinite(self.cov).all() and np.isfinite(self.cost_rate).all() and np.isfinite(self.impact).all()):
            raise ValidationError("band model: covariance, cost and impact must be finite")

    def weight_vol(self, coins: Sequence[str], target: np.ndarray) -> np.ndarray:
        """σ_{w,i}: daily standard deviation of each weight's drift around ``target`` (NaN: not covered)."""
        index = {c: k for k, c in enumerate(self.coins)}
        known = np.array([c in index for c in coins], dtype=bool)
        out = np.full(len(coins), np.nan)
        if not known.any():
            return out
        idx = np.array([index[c] for c in coins if c in index])
        t = np.zeros(len(self.coins))
        t[idx] = target[known]
        sigma_t = self.cov @ t
        var_rel = np.diag(self.cov) - 2.0 * sigma_t + float(t @ sigma_t)
        out[known] = np.abs(t[idx]) * np.sqrt(np.maximum(var_rel[idx], 0.0))
        return out

    def half_widths(
        self, coins: Sequence[str], target: np.ndarray, equity: float, aversion: float, fallback: float
    ) -> np.ndarray:
        """δ_i* = σ_{w,i}·sqrt(κ_i/A) for each coin; ``fallback`` for a coin the model does not cover."""
        if aversion <= 0:
            raise ValidationError("drift aversion must be > 0")
        index = {c: k for k, c in enumerate(self.coins)}
        sw = self.weight_vol(coins, target)
        half = np.full(len(coins), float(fallback))
        for j, c in enumerate(coins):
            k = index.get(c)
            if k is None or not np.isfinite(sw[j]):
                continue
            push = max(float(sw[j]) * max(equity, 0.0), 1.0)
            kappa = float(self.cost_rate[k]) + float(self.impact[k]) * np.sqrt(push)
            half[j] = float(sw[j]) * np.sqrt(kappa / aversion)
        return half


def band_model_from_returns(
    coins: Sequence[str],
    returns: np.ndarray,
    *,
    cost_rate: float,
    impact_k: float = 0.0,
    volume_usd: np.ndarray | None = None,
) -> BandModel:
    """A ``BandModel`` from trailing daily simple returns (T × n, NaN rows of a coin ignored pairwise)."""
    r = np.asarray(returns, dtype=float)
    if r.ndim != 2 or r.shape[1] != len(coins) or r.shape[0] < 2:
        raise ValidationError("band model: need at least two days of returns for every coin")
    ok = np.isfinite(r).all(axis=1)
    r = r[ok]
    if r.shape[0] < 2:
        raise ValidationError("band model: need at least two complete days of returns")
    cov = np.atleast_2d(np.cov(r, rowvar=False, ddof=1))
    sigma = np.sqrt(np.maximum(np.diag(cov), 0.0))
    impact = np.zeros(len(coins))
    if volume_usd is not None and impact_k > 0:
        v = np.asarray(volume_usd, dtype=float)
        good = np.isfinite(v) & (v > 0)
        impact[good] = impact_k * sigma[good] / np.sqrt(v[good])
    return BandModel(tuple(coins), cov, np.full(len(coins), float(cost_rate)), impact)

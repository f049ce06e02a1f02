"""The usual band rebalance, cash banded like any asset: which weights a ``band:X`` policy trades to.

Write ``w`` for the coins' weights (long exposure, a fraction of equity), ``c = 1 − Σ|w|`` for the cash
(USDC) weight, ``t`` and ``c* = 1 − Σ|t|`` for their targets, and ``X`` for the band's half-width (the same
for every coin and for the cash). Nothing trades while every coin and the cash lie inside ``target ± X``.
Otherwise:

1. each coin outside its band goes back to the band's nearest edge (``clip(w, t − X, t + X)``);
2. the cash is banded too: it ends where it was if that is inside ``c* ± X``, else at that band's edge
   (and never below 0: no borrowing);
3. what steps 1 and 2 leave over (the net proceeds of the sales, or the net cost of the purchases) is
   spread over the most underweight coins (proceeds) or taken from the most overweight ones (cost):
   largest gap to target first, each moved at most to its target, until nothing is left. A remainder
   that no coin can absorb stays in (or comes from) the cash, which only moves it towards its target.

So the trades are self-financing as far as the bands allow, every weight (cash included) ends inside
its band, and no coin crosses its target in step 3. Weights are long exposures: a coin whose target is
short is handled on ``−w`` and ``−t`` (its exposure), and a coin with a weight against its target's side
goes to its band's edge first.
"""

from __future__ import annotations

import numpy as np

from agent.core.errors import ValidationError

_TINY = 1e-12


def band_weights(w: np.ndarray, t: np.ndarray, half: float) -> tuple[np.ndarray, bool]:
    """The post-trade coin weights under ±``half`` bands (cash banded too), and whether anything trades."""
    w = np.asarray(w, dtype=float)
    t = np.asarray(t, dtype=float)
    if w.shape != t.shape or w.ndim != 1:
        raise ValidationError("band: weights and target must be two vectors of the same length")
    if not half > 0:
        raise ValidationError("band: the half-width must be > 0")
    side = np.where(t < 0, -1.0, 1.0)
    x, y = w * side, np.abs(t)  # exposures on each target's side
    cash, cash_t = 1.0 - float(np.abs(w).sum()), 1.0 - float(y.sum())
    lo, hi = y - half, y + half
    coins_out = (x < lo - _TINY) | (x > hi + _TINY)
    cash_out = cash < cash_t - half - _TINY or cash > cash_t + half + _TINY
    if not coins_out.any() and not cash_out:
        return w.copy(), False
    z = np.clip(x, lo, hi)
    cash_end = max(min(max(cash, cash_t - half), cash_t + half), 0.0)  # never borrowed
    spare = (1.0 - float(np.abs(z).sum())) - cash_end  # > 0: money to invest; < 0: money to raise
    gap = y - z  # > 0: underweight
    if spare > _TINY:
        order = [k for k in np.argsort(-gap, kind="stable") if gap[k] > _TINY]
        for k in order:
            move = min(spare, float(gap[k]))
            z[k] += move
            spare -= move
            if spare <= _TINY:
                break
    elif spare < -_TINY:
        need = -spare
        order = [k for k in np.argsort(gap, kind="stable") if gap[k] < -_TINY]
        for k in order:
            move = min(need, float(-gap[k]))
            z[k] -= move
            need -= move
            if need <= _TINY:
                break
    return z * side, True

"""Capital sizing of a plan's legs, in columns: order, limit prices, costs, and the pro-rata shrink.

Legs that free capital run first, largest first; then the legs that use it, largest first, each shrunk
by the same fraction (per cash pool and overall, rounded down onto the size grid again) so that buying
power never goes negative after fees and slippage. Buying power is ``(max_gross_leverage − cash_floor)
· E − Σ|notional|`` after the freeing legs; the account's mode says which cash pool pays for which buy
(:mod:`agent.core.capital`). No transfer between pools is ever planned.

Costs are taker fees by market type (scaled by a HIP-3 dex's fee multiplier) plus slippage from walking
the book, or the cost model's fallback where the market carries no book.
"""

from __future__ import annotations

import numpy as np

from agent.core.capital import pool_label, pool_scales, pro_rata
from agent.core.columns import Assets
from agent.core.costs import CostModel
from agent.core.domain import MarketType, SkippedTrade
from agent.core.legs import TINY, Legs, Priced
from agent.core.rules import protected_prices, round_price

_EPS = 1e-9  # as agent.core.rules.round_size_down


def limit_prices(a: Assets, slippage: float, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """IOC limits for a buy and a sell of the assets ``idx``: toward the mid, inside the slippage bound.

    Where the price grid is too coarse for that (the rounded limit lands on the wrong side of the
    mid), the nearest valid price beyond the mid: an order that cannot fill is worse than one tick.
    """
    mid, perp, szd = a.mid[idx], a.perp[idx], a.szd[idx]
    m = len(idx)
    both = np.tile(idx, 2)  # the buys, then the sells
    buy, sell = protected_prices(a.mid[both], np.arange(2 * m) < m, slippage, a.perp[both], a.szd[both]).reshape(2, m)
    for j in ((buy < mid) | (sell > mid) | (sell <= 0)).nonzero()[0].tolist():
        market: MarketType = "perp" if perp[j] else "spot"
        buy[j] = max(buy[j], round_price(float(mid[j]), market, int(szd[j]), up=True))
        sell[j] = min(sell[j], round_price(float(mid[j]), market, int(szd[j]), up=False)) or buy[j]
    return buy, sell


def size_for_capital(
    a: Assets,
    legs: Legs,
    equity: float,
    *,
    costs: CostModel,
    slippage: float,
    max_gross_leverage: float,
    cash_floor: float,
    min_trade: float,
) -> tuple[Priced, list[SkippedTrade]]:
    """Order and price the legs, and shrink the capital users to fit; the users that no longer reach the
    minimum order are skipped."""
    mid, perp = a.mid, a.perp
    fo = _largest_first(legs.free_sz * mid)
    uo = _largest_first(legs.use_sz * mid)
    # every leg at once (freeing legs, then using legs): side, size, limit price, value, fees and slippage
    k = len(fo)
    idx = np.concatenate((fo, uo))
    sell = np.concatenate((a.size[fo] > 0, legs.use_sell[uo]))
    size = np.concatenate((legs.free_sz[fo], legs.use_sz[uo]))
    buy_px, sell_px = limit_prices(a, slippage, idx)
    px = np.where(sell, sell_px, buy_px)
    fee, slippage_usd = _costs(a, costs, idx, size, px, ~sell)
    value = size * mid[idx]
    f_sell, f_sz, f_px, f_val, f_fee, f_slip = sell[:k], size[:k], px[:k], value[:k], fee[:k], slippage_usd[:k]
    u_sell, u_sz, u_px, u_val, u_fee, u_slip = sell[k:], size[k:], px[k:], value[k:], fee[k:], slippage_usd[k:]

    # Freeing legs first: what they free (net of their costs) joins their pool and the buying power.
    # (Sums run left to right in plan order, leg by leg, as the legs will fill.)
    gross, e, fees, slip = float(np.abs(a.size * mid).sum()), equity, 0.0, 0.0
    pool = dict(a.pools)
    names = a.pool_names
    freed = np.where(perp[fo], f_val / a.lev[fo], f_val)
    for p, v, x, f, sl in zip(
        a.pool[fo].tolist(), f_val.tolist(), freed.tolist(), f_fee.tolist(), f_slip.tolist(), strict=True
    ):
        gross -= v
        e -= f + sl
        pool[names[p]] = pool.get(names[p], 0.0) + x - f - sl
        fees, slip = fees + f, slip + sl
    power = max(0.0, (max_gross_leverage - cash_floor) * e - gross)

    # Shrink rule: every capital user keeps the same fraction of its wanted size (pro rata, per cash
    # pool and overall), rounded down onto the size grid.
    need: dict[str, float] = {}
    need_all = 0.0
    for p, c in zip(a.pool[uo].tolist(), (u_val + u_fee + u_slip).tolist(), strict=True):
        need_all += c
        need[names[p]] = need.get(names[p], 0.0) + c
    overall = pro_rata(power, need_all)
    scales = pool_scales(pool, need, overall=overall)
    skipped: list[SkippedTrade] = []
    notes = [legs.notes.get(i, "") for i in fo.tolist()]
    if all(scales.get(n, 1.0) >= 1.0 for n in need):  # every capital user fits: nothing shrinks
        keep, sz = slice(None), u_sz
        notes += [""] * len(uo)
    else:
        scale = np.array([scales.get(n, 1.0) for n in names])[a.pool[uo]]
        shrunk = scale < 1.0
        grid = np.power(10.0, a.szd[uo])
        sz = np.where(shrunk, np.floor(u_sz * scale * grid + _EPS) / grid, u_sz)  # round_size_down, exactly
        short = shrunk & (sz * mid[uo] < min_trade - TINY)
        u_notes = [""] * len(uo)
        for k in shrunk.nonzero()[0].tolist():
            i = int(uo[k])
            why = "buying power" if scale[k] == overall else pool_label(names[a.pool[i]], a.abstraction)
            if short[k]:
                skipped.append(
                    SkippedTrade(
                        coin=a.coins[i],
                        wanted_notional_usd=round(u_val[k], 2),
                        reason=f"not enough {why}: shrunk to ${sz[k] * mid[i]:,.2f}, under the minimum order",
                    )
                )
            else:
                u_notes[k] = f" (shrunk to {scale[k]:.1%} of the wanted size: {why})"
        s_fee, s_slip = _costs(a, costs, uo, sz, u_px, ~u_sell)
        u_fee, u_slip = np.where(shrunk, s_fee, u_fee), np.where(shrunk, s_slip, u_slip)
        keep = ~short
        notes += [n for n, k in zip(u_notes, keep.tolist(), strict=True) if k]
    for f, sl in zip(u_fee[keep].tolist(), u_slip[keep].tolist(), strict=True):
        fees, slip = fees + f, slip + sl
    u_kept = uo[keep]
    priced = Priced(
        order=np.concatenate((fo, u_kept)),
        frees=np.arange(len(fo) + len(u_kept)) < len(fo),
        sell=np.concatenate((f_sell, u_sell[keep])),
        size=np.concatenate((f_sz, sz[keep])),
        px=np.concatenate((f_px, u_px[keep])),
        notes=notes,
        fees=fees,
        slippage=slip,
    )
    return priced, skipped


def _largest_first(value: np.ndarray) -> np.ndarray:
    """Indices of the legs with a size, largest value first, then by coin (indices are in coin order)."""
    idx = (value > 0).nonzero()[0]
    return idx[np.lexsort((idx, -value[idx]))]


def _costs(
    a: Assets, costs: CostModel, idx: np.ndarray, size: np.ndarray, px: np.ndarray, is_buy: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Fees and slippage of legs of ``size`` on assets ``idx``: taker fees by market type (scaled by the dex's
    fee multiplier), and the book walked where there is one."""
    value = size * a.mid[idx]
    slip = value * costs.fallback_slippage_bps / 10_000
    for k in a.has_book[idx].nonzero()[0].tolist():
        i = int(idx[k])
        slip[k] = costs.slippage_usd(a.books[i], float(a.mid[i]), float(size[k]), bool(is_buy[k]), float(px[k]))
    fee_rate = np.where(a.perp[idx], costs.perp_taker_fee, costs.spot_taker_fee) * a.fee_scale[idx]
    return value * fee_rate, slip

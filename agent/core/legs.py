"""Each asset's change as at most two legs, in columns, and the plan's ``TradeAction``s built from them.

One leg frees capital (reduce or close: sells of a long, buys back of a short), one uses it (open or
increase). A sign flip is a close then an open, so no asset is both bought and sold and nothing is
traded twice. Sizes round down to ``szDecimals``; a reduce that would leave less than the minimum order
value closes the position instead (no dust); a leg under the minimum order value is skipped and reported.
Spot held on hold by open orders cannot be sold: the sellable part is, the rest is reported.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from agent.core.columns import Assets
from agent.core.domain import SkippedTrade, TradeAction
from agent.core.errors import ValidationError
from agent.core.plan_report import Tally, maker
from agent.core.rules import round_sizes_down, rounded

TINY = 1e-12


@dataclass
class Legs:
    """Per asset: the capital-freeing leg and the capital-using leg (a size of 0: no such leg)."""

    free_sz: np.ndarray  # reduce/close size
    closing: np.ndarray  # bool: the freeing leg closes the position
    use_sz: np.ndarray  # open/increase size
    opening: np.ndarray  # bool: the using leg opens (from flat, or after a flip's close)
    use_sell: np.ndarray  # bool: the using leg sells (opens or grows a short)
    notes: dict[int, str]  # freeing legs that leave locked spot in place


def split_into_legs(a: Assets, s_new: np.ndarray, equity: float, min_trade: float) -> tuple[Legs, list[SkippedTrade]]:
    """The legs from the current sizes to ``s_new``, and the trades skipped on the way."""
    s, mid, szd = a.size, a.mid, a.szd
    abs_s, abs_new = np.abs(s), np.abs(s_new)
    wanted = np.abs(s_new - s) * mid  # what the asset wants to trade (also for the skipped list)
    moving = wanted > TINY * max(equity, 1.0)
    flip = s * s_new < 0
    held = moving & (s != 0)
    to_zero = held & ((abs_new * mid < min_trade) | flip)
    shrink = held & ~to_zero & (abs_new < abs_s)
    grow = (moving & ~to_zero & ~shrink & (abs_new > abs_s)) | (moving & flip)  # a flip: the open after the close
    # one rounding of the three size columns: sellable now, the reduce, the open/increase
    sellable, reduce_sz, grow_sz = round_sizes_down(
        np.stack((np.abs(np.where(a.perp, s, a.free)), abs_s - abs_new, np.where(flip, abs_new, abs_new - abs_s))),
        szd,
    )
    dust = shrink & ((abs_s - reduce_sz) * mid < min_trade)  # the remainder would be dust: close instead
    to_zero |= dust
    shrink &= ~dust
    frees = to_zero | shrink
    free_sz = np.where(to_zero, sellable, np.minimum(reduce_sz, sellable))

    skipped: list[SkippedTrade] = []
    notes: dict[int, str] = {}
    if not a.perp.all():  # spot: what is locked stays, and nothing goes short
        _spot_rules(a, s_new, frees, to_zero, grow, sellable, reduce_sz, notes, skipped)

    free_small = frees & ((free_sz * mid < min_trade - TINY) | (free_sz <= 0))
    use_small = grow & ((grow_sz * mid < min_trade - TINY) | (grow_sz <= 0))
    small = [(i, "close" if to_zero[i] else "reduce", free_sz[i]) for i in free_small.nonzero()[0].tolist()]
    for i in use_small.nonzero()[0].tolist():
        small.append((i, "open" if s[i] == 0 or flip[i] else "increase", grow_sz[i]))
    for i, kind, size in small:
        skipped.append(
            SkippedTrade(
                coin=a.coins[i],
                wanted_notional_usd=round(wanted[i], 2),
                reason=f"{kind} of ${size * mid[i]:,.2f} is under the ${min_trade:g} minimum order",
            )
        )
    legs = Legs(
        free_sz=np.where(frees & ~free_small, free_sz, 0.0),
        closing=to_zero,
        use_sz=np.where(grow & ~use_small, grow_sz, 0.0),
        opening=(s == 0) | flip,
        use_sell=s_new < 0,
        notes=notes,
    )
    return legs, skipped


def _spot_rules(
    a: Assets,
    s_new: np.ndarray,
    frees: np.ndarray,
    to_zero: np.ndarray,
    grow: np.ndarray,
    sellable: np.ndarray,
    reduce_sz: np.ndarray,
    notes: dict[int, str],
    skipped: list[SkippedTrade],
) -> None:
    """Spot on hold by open orders cannot be sold (noted on the leg, reported as skipped); spot cannot be short."""
    abs_s, mid = np.abs(a.size), a.mid
    locked = abs_s - a.free
    for i in (frees & ~a.perp & (locked > TINY) & (to_zero | (reduce_sz > sellable))).nonzero()[0].tolist():
        notes[i] = f" ({locked[i]:g} locked, left in place)"
        coin = a.coins[i]
        skipped.append(
            SkippedTrade(
                coin=coin,
                wanted_notional_usd=round(locked[i] * mid[i], 2),
                reason=f"{locked[i]:g} {coin} is locked (hold) by open orders and cannot be sold",
            )
        )
    short_spot = (grow & ~a.perp & (s_new < 0)).nonzero()[0]
    if len(short_spot):
        raise ValidationError(f"{a.coins[short_spot[0]]}: spot cannot be short")


def limit_trades(a: Assets, legs: Legs, max_trades: int) -> list[SkippedTrade]:
    """Keep the ``max_trades`` assets with the largest moves (then by coin); report the rest, by coin."""
    moved = legs.free_sz * a.mid + legs.use_sz * a.mid
    trading = ((legs.free_sz > 0) | (legs.use_sz > 0)).nonzero()[0]
    ranked = trading[np.lexsort((trading, -moved[trading]))]
    dropped = np.sort(ranked[max_trades:])
    legs.free_sz[dropped] = 0.0
    legs.use_sz[dropped] = 0.0
    return [
        SkippedTrade(
            coin=a.coins[i],
            wanted_notional_usd=round(moved[i], 2),
            reason=f"over the limit of {max_trades} trades per cycle (smaller move; next cycle)",
        )
        for i in dropped.tolist()
    ]


def trade_actions(
    a: Assets, w: np.ndarray, w_new: np.ndarray, priced: Priced, legs: Legs
) -> tuple[list[TradeAction], Tally]:
    """The ``TradeAction`` of every priced leg, in plan order, built once from the columns, and their tally."""
    order = priced.order
    wl, wn, tl = w.tolist(), w_new.tolist(), a.target.tolist()
    cols = zip(
        order.tolist(),
        priced.frees.tolist(),
        priced.sell.tolist(),
        priced.size.tolist(),
        rounded(priced.size * a.mid[order], 2),
        rounded(w[order], 6),
        rounded(w_new[order], 6),
        priced.px.tolist(),
        legs.closing[order].tolist(),
        legs.opening[order].tolist(),
        priced.notes,
        strict=True,
    )
    coins, infos = a.coins, a.infos
    out = []
    make = _make_action
    tally = Tally()
    texts = tally.texts
    for i, frees, sell, size, notional, w0, w1, px, closing, opening, note in cols:
        coin, info = coins[i], infos[i]
        kind = ("close" if closing else "reduce") if frees else ("open" if opening else "increase")
        side = "sell" if sell else "buy"
        if sell:
            tally.sells += notional
        else:
            tally.buys += notional
        tally.exits += kind == "close"
        tally.entries += kind == "open"
        text = f"{side} {size:g}"
        texts[coin] = f"{texts[coin]}, {text}" if coin in texts else text
        if kind == "close":
            why = f"exit {coin}: {wl[i]:+.2%} → 0"
        elif kind == "open":
            why = f"enter {coin}: → {wn[i]:+.2%} (target {tl[i]:+.2%})"
        else:
            why = f"{kind} {coin}: {wl[i]:+.2%} → {wn[i]:+.2%} (target {tl[i]:+.2%})"
        market = info.market
        out.append(
            make(
                {
                    "coin": coin,
                    "market": market,
                    "side": side,
                    "kind": kind,
                    "size": size,
                    "notional_usd": notional,
                    "from_weight": w0,
                    "to_weight": w1,
                    "reduce_only": frees and market == "perp",
                    "limit_px": px,
                    "reason": why + note,
                    "asset": info.asset,
                    "wire_name": info.wire_name,
                    "sz_decimals": info.sz_decimals,
                    "order_type": "ioc",
                    "twap_minutes": None,
                    "lots": None,
                    "lots_asset": None,
                    "est_gain_usd": None,
                },
            )
        )
    return out, tally


_make_action = maker(TradeAction)


@dataclass
class Priced:
    """The plan's legs in order (:mod:`agent.core.sizing`): asset index, freeing or not, side, final size,
    limit price and note of each; and the plan's fees and slippage."""

    order: np.ndarray
    frees: np.ndarray
    sell: np.ndarray
    size: np.ndarray
    px: np.ndarray
    notes: list[str]
    fees: float
    slippage: float

    def s_after(self, a: Assets) -> np.ndarray:
        """Every asset's size once the legs have filled."""
        after = a.size.copy()
        delta = np.where(self.sell, -self.size, self.size)
        k = int(np.count_nonzero(self.frees))  # the freeing legs come first; each part names an asset once
        after[self.order[:k]] += delta[:k]
        after[self.order[k:]] += delta[k:]
        return after

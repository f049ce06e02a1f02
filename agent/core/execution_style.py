"""How each action of a plan is sent: one IOC at the protected price, or a native TWAP.

Hyperliquid's TWAP (docs, "Order types"): the order is split into suborders sent every 30 seconds over
the chosen duration (5 minutes to 24 hours), each allowed up to 3 % slippage; what a suborder misses is
caught up by the next ones. The planner walks the book: where an IOC at the action's protected price
would fill less than the leg, or the leg is over ``twap_over_usd`` ($10k by default), the action becomes
a TWAP whose 30-second slices each fit in the depth the IOC would have found. Each slice must meet the
$10 minimum order value; a leg too small for five minutes of $10 slices stays an IOC, and says so.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from agent.core.domain import L2Book, Market, TradeAction

TWAP_SLICE_S = 30
TWAP_MIN_MINUTES = 5
TWAP_MAX_MINUTES = 24 * 60
MIN_SLICE_USD = 10.0
_TINY = 1e-12


def ioc_fillable(book: L2Book, is_buy: bool, limit_px: float) -> float:
    """What an IOC at ``limit_px`` would fill against ``book`` (coin units)."""
    levels = book.asks if is_buy else book.bids
    return sum(lv.sz for lv in levels if (lv.px <= limit_px if is_buy else lv.px >= limit_px))


def twap_minutes(size: float, fillable: float, notional_usd: float, twap_over_usd: float) -> int | None:
    """The TWAP duration whose slices fit the IOC depth (and split a leg over ``twap_over_usd``), or None
    when slices of at least $10 cannot last the 5-minute minimum."""
    # enough 30-second slices that each fits the depth an IOC would find (none: the longest TWAP)
    slices = max(2 * TWAP_MIN_MINUTES, math.ceil(size / fillable)) if fillable > _TINY else 2 * TWAP_MAX_MINUTES
    if twap_over_usd > 0:
        slices = max(slices, math.ceil(notional_usd / twap_over_usd) * 2 * TWAP_MIN_MINUTES)
    most = math.floor(notional_usd / MIN_SLICE_USD)  # slices of at least $10
    slices = min(slices, most, 2 * TWAP_MAX_MINUTES)
    minutes = math.ceil(slices * TWAP_SLICE_S / 60)
    return minutes if minutes >= TWAP_MIN_MINUTES and slices >= 2 * TWAP_MIN_MINUTES else None


def assign_order_types(actions: Iterable[TradeAction], market: Market, *, twap_over_usd: float) -> list[TradeAction]:
    """Each action as an IOC or a TWAP (``order_type``, ``twap_minutes``), with the reason in its text."""
    out = []
    for a in actions:
        info = market.get(a.coin)
        book = info.book if info is not None else None
        fillable = ioc_fillable(book, a.side == "buy", a.limit_px) if book is not None else math.inf
        thin = fillable < a.size - _TINY
        big = twap_over_usd > 0 and a.notional_usd > twap_over_usd
        if not (thin or big):
            out.append(a)
            continue
        why = (
            f"an IOC at {a.limit_px:g} would fill {fillable:g} of {a.size:g}"
            if thin
            else f"${a.notional_usd:,.0f} is over the ${twap_over_usd:,.0f} TWAP threshold"
        )
        minutes = twap_minutes(a.size, fillable if thin else a.size, a.notional_usd, twap_over_usd)
        if minutes is None:
            out.append(a.model_copy(update={"reason": a.reason + f"; {why}, but too small for a TWAP ($10 slices)"}))
            continue
        out.append(
            a.model_copy(
                update={
                    "order_type": "twap",
                    "twap_minutes": minutes,
                    "reason": a.reason + f"; TWAP over {minutes} min: {why}",
                }
            )
        )
    return out

"""Walking an L2 book: a taker order consumes resting depth level by level.

Design choice: liquidity is *consumed* (a second order sees the depleted book) and never replenished;
the market is otherwise frozen at the snapshot (mids and marks do not move). Resting orders of the
account are not added to the book and are never matched later.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from agent.standin.rules import ZERO
from agent.standin.state import Book


@dataclass(frozen=True)
class Trade:
    px: Decimal
    sz: Decimal


def crosses(book: Book, *, is_buy: bool, limit_px: Decimal) -> bool:
    """True when an order at ``limit_px`` would trade immediately against the book."""
    if is_buy:
        return bool(book.asks) and book.asks[0].px <= limit_px
    return bool(book.bids) and book.bids[0].px >= limit_px


def preview(book: Book, *, is_buy: bool, limit_px: Decimal, sz: Decimal) -> list[Trade]:
    """The trades an order would make, best price first, without touching the book."""
    levels = book.asks if is_buy else book.bids
    trades: list[Trade] = []
    left = sz
    for level in levels:
        if left <= ZERO:
            break
        if (is_buy and level.px > limit_px) or (not is_buy and level.px < limit_px):
            break
        take = min(left, level.sz)
        if take > ZERO:
            trades.append(Trade(px=level.px, sz=take))
            left -= take
    return trades


def consume(book: Book, *, is_buy: bool, trades: list[Trade]) -> None:
    """Remove the traded size from the book (levels emptied are dropped)."""
    levels = book.asks if is_buy else book.bids
    for trade in trades:
        for level in levels:
            if level.px == trade.px:
                level.sz -= trade.sz
                break
    levels[:] = [lv for lv in levels if lv.sz > ZERO]


def bbo(book: Book) -> tuple[Decimal | None, Decimal | None]:
    bid = book.bids[0].px if book.bids else None
    ask = book.asks[0].px if book.asks else None
    return bid, ask

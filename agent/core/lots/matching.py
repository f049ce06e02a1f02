"""Which lots a disposal consumes (FIFO, LIFO, HIFO, specific identification, long-term first), and the run of
every event in time order."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from agent.core.errors import LotError
from agent.core.lots.book import (
    JURISDICTIONS,
    METHODS,
    TOL,
    Acquisition,
    Book,
    Disposal,
    Event,
    Jurisdiction,
    Lot,
    Match,
    Method,
    held_over_a_year,
    term_of,
)
from agent.core.lots.uk import run_uk


def order_lots(lots: Iterable[Lot], method: Method, *, sold: datetime, long_term_preference: bool = False) -> list[Lot]:
    """The open lots in the order ``method`` consumes them (``spec`` keeps FIFO order as a fallback view)."""
    open_ = [lot for lot in lots if lot.remaining > 0]
    if method == "lifo":
        open_.sort(key=lambda lot: (lot.acquired, lot.id), reverse=True)
    elif method == "hifo":
        open_.sort(key=lambda lot: (-lot.unit_cost, lot.acquired, lot.id))
    else:
        open_.sort(key=lambda lot: (lot.acquired, lot.id))
    if long_term_preference:
        open_.sort(key=lambda lot: not held_over_a_year(lot.acquired, sold))  # stable: long-term lots first
    return open_


def pick(
    lots: Sequence[Lot],
    quantity: float,
    method: Method,
    *,
    sold: datetime,
    long_term_preference: bool = False,
    picks: Sequence[tuple[str, float]] | None = None,
) -> list[tuple[Lot, float]]:
    """Which lots a disposal of ``quantity`` consumes, and how much of each. Raises when they do not cover it."""
    if not quantity > 0:
        raise LotError(f"quantity must be positive, got {quantity}")
    if method == "spec" or picks is not None:
        if not picks:
            raise LotError("specific identification needs the lots to sell")
        by_id = {lot.id: lot for lot in lots}
        chosen: list[tuple[Lot, float]] = []
        for lot_id, q in picks:
            lot = by_id.get(lot_id)
            if lot is None:
                raise LotError(f"lot {lot_id} is not an open lot of this asset")
            if q <= 0 or q > lot.remaining * (1 + TOL) + 1e-12:
                raise LotError(f"lot {lot_id} holds {lot.remaining:g}, cannot sell {q:g} of it")
            chosen.append((lot, min(q, lot.remaining)))
        total = sum(q for _, q in chosen)
        if abs(total - quantity) > TOL * max(1.0, quantity):
            raise LotError(f"the chosen lots add up to {total:g}, the sale is {quantity:g}")
        return chosen
    out: list[tuple[Lot, float]] = []
    left = quantity
    for lot in order_lots(lots, method, sold=sold, long_term_preference=long_term_preference):
        if left <= TOL * max(1.0, quantity):
            break
        q = min(lot.remaining, left)
        out.append((lot, q))
        left -= q
    if left > TOL * max(1.0, quantity):
        held = sum(lot.remaining for lot in lots)
        asset = lots[0].asset if lots else "the asset"
        raise LotError(f"selling {quantity:g} {asset} but the lots hold {held:g}")
    return out


def consume(book: Book, d: Disposal, chosen: list[tuple[Lot, float]], jurisdiction: Jurisdiction) -> list[Match]:
    out = []
    for lot, q in chosen:
        share = q / d.quantity
        out.append(
            Match(
                disposal_id=d.id,
                lot_id=lot.id,
                asset=d.asset,
                acquired=lot.acquired,
                sold=d.time,
                quantity=q,
                proceeds_usd=d.proceeds_usd * share,
                cost_usd=lot.unit_cost * q,
                term=term_of(lot.acquired, d.time, jurisdiction),
            )
        )
        lot.remaining = max(0.0, lot.remaining - q)
        if lot.remaining <= TOL * lot.quantity:
            lot.remaining = 0.0
    book.matches.extend(out)
    return out


def _in_order(events: Iterable[Event]) -> list[Event]:
    # Same instant: acquisitions first (a buy and a sell in one second: the sale may use the buy).
    return sorted(events, key=lambda e: (e.time, 0 if isinstance(e, Acquisition) else 1))


def run(
    events: Iterable[Event],
    *,
    method: Method = "fifo",
    jurisdiction: Jurisdiction = "us",
    long_term_preference: bool = False,
) -> Book:
    """Every event in time order: lots from acquisitions, matches from disposals. UK matching for ``uk``."""
    if method not in METHODS:
        raise LotError(f"unknown lot selection {method!r} (one of {', '.join(METHODS)})")
    if jurisdiction not in JURISDICTIONS:
        raise LotError(f"unknown jurisdiction {jurisdiction!r} (one of {', '.join(JURISDICTIONS)})")
    if jurisdiction == "uk":
        return run_uk(events)
    book = Book()
    for e in _in_order(events):
        if isinstance(e, Acquisition):
            book.lots[e.asset].append(Lot(e.id, e.asset, e.time, e.quantity, e.cost_usd, e.quantity, e.source))
            continue
        lots = book.lots.get(e.asset, [])
        chosen = pick(
            lots,
            e.quantity,
            "spec" if e.picks else method,
            sold=e.time,
            long_term_preference=long_term_preference,
            picks=e.picks,
        )
        consume(book, e, chosen, jurisdiction)
    return book

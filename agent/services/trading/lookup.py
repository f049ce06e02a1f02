"""Looking an order up by cloid, on the exchange's clock: when an empty answer means "never arrived".

A signed order action carries ``expiresAfter`` on the exchange's clock (:func:`expiry`). An order the
exchange does not know *yet* may still arrive late, until that moment; after it, never. So "the exchange
never saw it" needs the exchange's own time, read *before* the lookup, to be past ``expiresAfter``
(:func:`resolve`). The local clock only sleeps; it never decides. This is what makes a resend safe with a
skewed local clock or a late delivery.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from agent.adapters.store.journal import OrderRow
from agent.core.errors import ExchangeError
from agent.core.orders import OrderResult
from agent.services.ports import ReadPort

log = logging.getLogger(__name__)


class Clocked(Protocol):
    """What expiry needs of an exchange: its order life and its clock."""

    order_ttl_s: float | None

    def server_time_ms(self, *, fresh: bool = False) -> int: ...


def expiry(exchange: Clocked) -> int | None:
    """When an order signed now becomes void, on the exchange's clock (None: it never expires)."""
    ttl = exchange.order_ttl_s
    return exchange.server_time_ms() + int(ttl * 1000) if ttl else None


def resolve(
    exchange: ReadPort, cloid: str, expires_after_ms: int | None, *, tries: int, sleep: Callable[[float], None]
) -> OrderResult | None:
    """The order's result, None when the exchange never saw it (and never will), or status ``unknown``
    when ``tries`` lookups failed. Until the exchange's clock passes ``expires_after_ms`` an empty lookup
    is not final: wait (the difference on the exchange's clock) and look again."""
    failures = 0
    waits = 0
    while failures < tries:
        try:
            now = exchange.server_time_ms(fresh=True) if expires_after_ms is not None else None
            found = exchange.order_status(cloid)
        except ExchangeError as exc:
            failures += 1
            log.warning("orderStatus %s failed (%s)", cloid, exc)
            sleep(0.2 * 2**failures)
            continue
        if found is not None:
            return found
        if now is None or expires_after_ms is None or now > expires_after_ms:
            return None
        waits += 1
        if waits > 2 + tries:  # the exchange's clock does not advance: do not guess
            break
        sleep((expires_after_ms - now) / 1000 + 0.05)
    return OrderResult(cloid=cloid, status="unknown", error="orderStatus lookups failed")


def row_expiry(exchange: Clocked, row: OrderRow, clock: Callable[[], float]) -> int | None:
    """A journaled order's ``expiresAfter``. Rows journaled before it was recorded: the local send time moved
    onto the exchange's clock by the offset measured now, plus the order life."""
    if row.expires_after_ms is not None:
        return row.expires_after_ms
    ttl = exchange.order_ttl_s
    if not ttl:
        return None
    offset_ms = exchange.server_time_ms(fresh=True) - int(clock() * 1000)
    sent_ms = int(datetime.fromisoformat(row.updated_at).timestamp() * 1000)
    return sent_ms + offset_ms + int(ttl * 1000)

"""Open orders that are not ours: the account's open orders that the journal does not know (no row for
their cloid, or no cloid at all: placed by the user, in the app or by another tool).

They are left alone and named in the report, and they keep the dead-man switch off: ``scheduleCancel``
cancels every open order of the account, the user's own included (agent.services.trading.deadman).
"""

from __future__ import annotations

from agent.adapters.store.journal import Journal
from agent.core.orders import OpenOrder
from agent.services.ports import ReadPort


def not_ours(exchange: ReadPort, journal: Journal) -> list[OpenOrder]:
    """The open orders rebalancer did not place (raises ``ExchangeError`` when they cannot be read)."""
    return [o for o in exchange.open_orders() if not o.cloid or journal.get(o.cloid.lower()) is None]


def note(orders: list[OpenOrder]) -> str | None:
    """The report's line about them, or None when there are none."""
    if not orders:
        return None
    coins = ", ".join(sorted({o.coin for o in orders}))
    return f"note: {len(orders)} open orders not placed by rebalancer ({coins}) were left alone"

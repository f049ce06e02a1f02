"""What a use case needs about one account, and nothing more: :class:`AccountContext`.

A use case that takes the context instead of the whole :class:`~agent.services.app.Services` states what
it reads (settings, store, exchange, the trade port, the executor, the clock, the account's name) and
cannot reach the other use cases through the façade. ``services.context`` builds one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from agent.adapters.store.db import Store
    from agent.services.config import Settings
    from agent.services.ports import ReadPort, TradePort
    from agent.services.trading.executor import Executor

#: The clock every use case reads (aware UTC datetimes); tests pass their own.
Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class AccountContext:
    """One account as a use case sees it.

    ``exchange`` reads; ``trade`` (None for a snapshot or a dry-run) changes state at the exchange;
    ``executor`` is None where nothing may be executed; ``account`` is the account's name (the lease's key).
    """

    settings: Settings
    store: Store
    exchange: ReadPort
    trade: TradePort | None
    executor: Executor | None
    clock: Clock
    account: str

"""The ports the services use: what they need from an exchange, whatever sits behind it.

``ReadPort`` is everything that only reads (the snapshot file, the paper exchange, Hyperliquid, the
stand-in); ``TradePort`` adds what changes state at the exchange. Only the executor and the order
service hold a ``TradePort``; everything else reads. Implementations:
:class:`~agent.adapters.hyperliquid.client.HyperliquidExchange` (the real API through the SDK, also pointed
at the local stand-in), :class:`~agent.adapters.paper.PaperExchange` (real market data, simulated fills)
and :class:`~agent.adapters.snapshot.SnapshotExchange` (read-only).

Reads raise :class:`~agent.core.errors.TemporaryExchangeError` when the exchange cannot be reached after a
bounded number of retries. See :mod:`agent.core.orders` for the outcome contract of ``place_orders``.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Protocol, runtime_checkable

from agent.core.domain import Market, PortfolioState
from agent.core.orders import Fill, OpenOrder, OrderIntent, OrderResult
from agent.core.performance import FundingEvent, ValuePoint


@runtime_checkable
class ReadPort(Protocol):
    """Account, market and order reads."""

    #: seconds after which a signed order action is void at the exchange (``expiresAfter``), or None.
    order_ttl_s: float | None

    def server_time_ms(self, *, fresh: bool = False) -> int:
        """The exchange's clock in ms (``fresh``: read now, a lower bound of the exchange's time)."""
        ...

    @property
    def clock_offset_s(self) -> float | None:
        """The exchange's clock minus the local clock (s), as last measured; None before any reading."""
        ...

    def account_state(self) -> PortfolioState: ...

    def market(self, books: Collection[str] | None = None, *, with_ctxs: bool = False) -> Market:
        """Mids and rules of every tradable asset; L2 books only for ``books`` (planner coin names);
        funding and asset contexts with ``with_ctxs``."""
        ...

    def order_status(self, cloid: str) -> OrderResult | None:
        """The order with this cloid, or None when the exchange has never seen it."""
        ...

    def fills_since(self, ms: int, end_ms: int | None = None) -> list[Fill]:
        """The account's fills from ``ms`` (to ``end_ms``), as one answer of the exchange (at most 2,000)."""
        ...

    def open_orders(self) -> list[OpenOrder]: ...


@runtime_checkable
class TradePort(ReadPort, Protocol):
    """Reads, plus every call that changes state at the exchange."""

    #: whether :meth:`schedule_cancel` (the dead-man switch) is available.
    supports_schedule_cancel: bool

    def place_orders(self, orders: list[OrderIntent]) -> list[OrderResult]: ...

    def cancel(self, coin: str, oid: int) -> bool: ...

    def cancel_by_cloid(self, coin: str, cloid: str) -> bool: ...

    def schedule_cancel(self, at_ms: int | None) -> bool:
        """Set (or clear, with None) the dead-man switch; False when the exchange refused."""
        ...


@runtime_checkable
class LeveragePort(Protocol):
    """An exchange where an asset's margin mode and leverage are set before trading it (Hyperliquid)."""

    def update_leverage(self, coin: str, leverage: int, *, is_cross: bool) -> str | None:
        """Set them (``updateLeverage``): None when applied, else the exchange's refusal."""
        ...


@runtime_checkable
class HistoryPort(Protocol):
    """The account's and the market's history (Hyperliquid and the stand-in; not a snapshot or paper)."""

    #: the venue's address: what its candles are kept under in the store
    base_url: str

    def value_history(self) -> dict[str, list[ValuePoint]]:
        """Account value and PnL over time per period, day … allTime (``portfolio``)."""
        ...

    def funding_since(self, ms: int) -> list[FundingEvent]:
        """Funding paid or received since ``ms`` (``userFunding``)."""
        ...

    def daily_candles(self, coin: str, start_ms: int, end_ms: int) -> list[tuple[int, float, float]]:
        """(open ms, close, traded value) per UTC day (``candleSnapshot`` 1d)."""
        ...

"""The ports the services use: what they need from an exchange, whatever sits behind it.

``ReadPort`` is everything that only reads (the snapshot file, the paper exchange, Hyperliquid, the
stand-in); ``TradePort`` adds what changes state at the exchange. Only the executor and the order
service hold a ``TradePort``; everything else reads. Implementations:
:class:`~agent.adapters.hyperliquid.client.HyperliquidExchange` (the real API through the SDK, also pointed
at the local stand-in), :class:`~agent.adapters.paper.PaperExchange` (real market data, simulated fills)
and :class:`~agent.adapters.snapshot.SnapshotExchange` (read-only).

Reads raise :class:`~agent.core.errors.TemporaryExchangeError` when the exchange cannot be reached after a
bounded number of retries. See :mod:`agent.core.orders` for the outcome contract of ``place_orders``.

Capabilities not every exchange has are ports of their own, checked with ``isinstance`` (all are
runtime-checkable), never with ``getattr``/``hasattr``:

- :class:`AccountPort`: the account's address (``user``); a snapshot or the store-only exchange has none.
- :class:`DexPort`: HIP-3 dex reads (``dexes``, ``use_dexes``); Hyperliquid, and paper over it.
- :class:`TwapPort`: native TWAP orders; Hyperliquid and the stand-in.
- :class:`HistoryPort`: the account's and the market's history; Hyperliquid and the stand-in.
- :class:`EndpointPort`: the base URL it talks to (the fleet's accounts share the local stand-in's).
- :class:`InfoPort`: raw ``/info`` answers and the addresses involved, for the doctor's checks.
- :class:`SimulatedPort`: an exchange simulated over another's data (paper): its ``source``.
- :class:`KeyRestrictionsPort`: the permissions of the API key (Binance's ``apiRestrictions``).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any, Protocol, runtime_checkable

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


@runtime_checkable
class AccountPort(Protocol):
    """An exchange that acts for one account."""

    #: the account's address, lower case (the lease's key; a vault's or subaccount's when trading one).
    user: str


@runtime_checkable
class DexPort(Protocol):
    """An exchange that also reads HIP-3 dexes besides the main one."""

    @property
    def dexes(self) -> tuple[str, ...]:
        """The HIP-3 dexes read besides the main dex."""
        ...

    def use_dexes(self, dexes: Collection[str]) -> None:
        """Also read these dexes (a target names them); one the exchange does not list is refused."""
        ...


@runtime_checkable
class TwapPort(Protocol):
    """Native TWAP orders: sent, followed, found again after a crash, cancelled."""

    order_ttl_s: float | None

    def server_time_ms(self, *, fresh: bool = False) -> int: ...

    def place_twap(self, intent: OrderIntent, minutes: int) -> Any: ...

    def twap_status(self, twap_id: int) -> Any: ...

    def find_twap(self, coin: str, is_buy: bool, size: float, since_ms: int) -> Any: ...

    def cancel_twap(self, asset: int, twap_id: int) -> bool: ...


@runtime_checkable
class EndpointPort(Protocol):
    """An exchange reached over HTTP at ``base_url`` (Hyperliquid, testnet, or the local stand-in)."""

    base_url: str


@runtime_checkable
class InfoPort(AccountPort, DexPort, Protocol):
    """Raw ``/info`` answers and the addresses behind them: what the doctor checks."""

    #: the vault or subaccount traded through ``vaultAddress``, or None.
    vault_address: str | None
    #: the address of the signing key (an API wallet, or the account itself), or None when read-only.
    signer_address: str | None
    #: the account the key signs for (the master), or None.
    account_address: str | None

    def ask(self, body: dict[str, Any]) -> Any:
        """One rate-budgeted, retried ``/info`` request's answer."""
        ...

    def open_orders(self) -> list[OpenOrder]: ...


@runtime_checkable
class SimulatedPort(Protocol):
    """An exchange that simulates fills over another exchange's data (paper trading)."""

    #: the exchange (or fixed market) whose data it simulates over.
    source: object


@runtime_checkable
class KeyRestrictionsPort(Protocol):
    """An exchange whose API key reports its permissions (Binance: may it trade spot, may it withdraw)."""

    def api_restrictions(self) -> dict[str, Any]:
        """The key's permissions as the exchange states them (``enableWithdrawals``, ``ipRestrict`` …)."""
        ...

"""The stand-in's in-memory records: markets, positions, balances, orders, books.

Plain mutable dataclasses guarded by the single lock of :class:`agent.standin.engine.StandIn`.
Numbers are Decimals; they become Hyperliquid-style strings only in :mod:`agent.standin.views`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from agent.standin.rules import ZERO

SPOT_ASSET_OFFSET = 10_000


def dex_of(coin: str) -> str:
    """'xyz:TSLA' → 'xyz'; main-dex and spot coins → ''."""
    return coin.split(":", 1)[0] if ":" in coin else ""


@dataclass(frozen=True)
class Market:
    """One tradable market. ``coin`` is the name /info uses: "BTC" for perps, "@142" for spot pairs."""

    asset: int
    coin: str
    sz_decimals: int
    spot: bool
    max_leverage: int = 1
    base_token: int | None = None
    quote_token: int | None = None
    display: str = ""
    delisted: bool = False
    dex: str = ""  # the HIP-3 dex ("xyz"), "" for the main dex and spot
    only_isolated: bool = False
    fee_scale: Decimal = Decimal(1)  # HIP-3 fee multiplier (docs "Fees": s < 1 ? s + 1 : 2s)


@dataclass
class Token:
    index: int
    name: str
    sz_decimals: int
    wei_decimals: int


@dataclass
class Position:
    """A one-way perp position. ``szi`` is signed: positive long, negative short."""

    coin: str
    szi: Decimal
    entry_px: Decimal
    leverage: int
    leverage_type: str = "cross"
    isolated_margin: Decimal = ZERO  # isolated: the margin ring-fenced for this position (agent.standin.accounting)
    cum_funding_all_time: Decimal = ZERO
    cum_funding_since_open: Decimal = ZERO
    cum_funding_since_change: Decimal = ZERO


@dataclass
class Balance:
    token: int
    coin: str
    total: Decimal
    hold: Decimal = ZERO
    entry_ntl: Decimal = ZERO

    @property
    def free(self) -> Decimal:
        return self.total - self.hold


@dataclass
class Level:
    px: Decimal
    sz: Decimal
    n: int = 1


@dataclass
class Book:
    """An L2 book: bids best (highest) first, asks best (lowest) first."""

    coin: str
    bids: list[Level] = field(default_factory=list)
    asks: list[Level] = field(default_factory=list)
    time: int = 0


@dataclass
class OrderRecord:
    """What ``orderStatus`` and the open-order views report about one order."""

    oid: int
    coin: str
    side: str  # "B" buy / "A" sell
    limit_px: Decimal
    orig_sz: Decimal
    sz: Decimal  # remaining
    timestamp: int
    tif: str | None
    reduce_only: bool
    cloid: str | None
    status: str
    status_timestamp: int
    order_type: str = "Limit"
    locked: Decimal = ZERO  # spot funds held by this resting order (quote for buys, base for sells)

    @property
    def is_buy(self) -> bool:
        return self.side == "B"


@dataclass
class Account:
    """The one account the stand-in serves (the snapshot's ``user``)."""

    user: str
    raw_usd: Decimal
    positions: dict[str, Position] = field(default_factory=dict)
    dex_raw_usd: dict[str, Decimal] = field(default_factory=dict)  # HIP-3 dex → its own perp USDC ledger
    balances: dict[int, Balance] = field(default_factory=dict)
    leverage: dict[str, tuple[str, int]] = field(default_factory=dict)  # coin -> (type, value)
    fills: list[dict[str, object]] = field(default_factory=list)  # newest last
    funding_events: list[dict[str, object]] = field(default_factory=list)  # userFunding elements, newest last
    value_history: list[tuple[int, Decimal, Decimal]] = field(default_factory=list)  # (ms, total, perp) values
    orders: dict[int, OrderRecord] = field(default_factory=dict)
    cloids: dict[str, int] = field(default_factory=dict)
    scheduled_cancel_ms: int | None = None
    n_requests: int = 0
    cum_volume: Decimal = ZERO
    #: userAbstraction: disabled | default | dexAbstraction | unifiedAccount | portfolioMargin
    abstraction: str = "disabled"
    twap_history: list[dict[str, object]] = field(default_factory=list)  # twapHistory elements, oldest first
    twap_slice_fills: list[dict[str, object]] = field(default_factory=list)  # userTwapSliceFills, newest last

    @property
    def unified(self) -> bool:
        """Unified account or portfolio margin: one balance per collateral token, reported in spot."""
        return self.abstraction in ("unifiedAccount", "portfolioMargin")

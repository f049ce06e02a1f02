"""Orders as the executor and the exchange adapters exchange them: intents, outcomes, fills, open orders.

Outcome contract of an exchange's ``place_orders`` (the trade port, :mod:`agent.services.ports`):

- it returns one :class:`OrderResult` per intent, in order, whenever the exchange *answered* (a
  whole-request ``status: "err"`` makes every order ``rejected``; a per-order error ``rejected``;
  ``filled`` with less than asked ``partial``);
- it raises :class:`~agent.core.errors.OrderOutcomeUnknown` when the request may have reached the exchange
  but no usable answer came back (timeout, connection lost, 429, 5xx, unparseable body): the caller
  must look every order of the batch up by cloid before resending;
- it never retries an order by itself (a retried order is signed afresh: a *new* order).
"""

from __future__ import annotations

import hashlib
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

OrderStatus = Literal["filled", "partial", "resting", "open", "rejected", "canceled", "unknown"]
Tif = Literal["Ioc", "Gtc", "Alo"]

SPOT_ASSET_OFFSET = 10_000
#: fee tokens worth one dollar each
STABLE_FEE_TOKENS = frozenset({"USDC", "", "USD", "USDT", "FDUSD"})
CLOID_RE = re.compile(r"^0x[0-9a-f]{32}$")


def make_cloid(plan_id: str, action_index: int, attempt: int) -> str:
    """The deterministic client order id of one attempt of one plan action (``0x`` + 32 hex)."""
    return "0x" + hashlib.sha256(f"{plan_id}:{action_index}:{attempt}".encode()).hexdigest()[:32]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class OrderIntent(_Model):
    """One order as the executor wants it sent (size and price already on the exchange's grids)."""

    cloid: str
    asset: int = Field(ge=0, description="perp index, or 10000 + spot pair index")
    wire_name: str = Field(description="the name the SDK trades: 'BTC' or '@142'")
    coin: str = Field(description="the planner's name: 'BTC' or 'UBTC/USDC'")
    is_buy: bool
    size: float = Field(gt=0)
    limit_px: float = Field(gt=0)
    reduce_only: bool = False
    tif: Tif = "Ioc"
    sz_decimals: int = Field(default=0, ge=0, le=10)
    expires_after_ms: int | None = Field(
        default=None, description="the exchange-clock time (ms) after which the signed action is void"
    )

    @field_validator("cloid")
    @classmethod
    def _cloid(cls, v: str) -> str:
        v = v.lower()
        if not CLOID_RE.match(v):
            raise ValueError("cloid must be 0x followed by 32 hex characters")
        return v

    @property
    def is_spot(self) -> bool:
        return self.asset >= SPOT_ASSET_OFFSET

    @property
    def side(self) -> Literal["buy", "sell"]:
        return "buy" if self.is_buy else "sell"


class OrderResult(_Model):
    """What became of one order: from an /exchange answer, an ``orderStatus`` lookup or the paper book."""

    cloid: str | None = None
    status: OrderStatus
    oid: int | None = None
    filled_sz: float = 0.0
    avg_px: float | None = None
    requested_sz: float | None = None
    error: str | None = None
    raw_status: str | None = Field(default=None, description="the exchange's own status word, if any")


class Fill(_Model):
    """One trade of the account (Hyperliquid ``userFills`` row)."""

    coin: str = Field(description="as the exchange names it: 'BTC' or '@142'")
    px: float
    sz: float
    side: Literal["B", "A"]
    time: int
    fee: float = 0.0
    fee_token: str = "USDC"  # noqa: S105 - a token name
    oid: int | None = None
    tid: str | None = None
    cloid: str | None = None
    closed_pnl: float = 0.0
    raw: dict[str, Any] | None = None

    @property
    def fee_usd(self) -> float:
        """The fee in USD: paid in a stable quote (USDC; USD, USDT, FDUSD on Binance) as is; spot buys pay
        theirs in the base token (valued at the fill price)."""
        return self.fee if self.fee_token in STABLE_FEE_TOKENS else self.fee * self.px

    @property
    def notional(self) -> float:
        return self.px * self.sz


class OpenOrder(_Model):
    coin: str
    oid: int
    cloid: str | None = None
    side: Literal["B", "A"]
    limit_px: float
    sz: float
    orig_sz: float | None = None
    reduce_only: bool = False
    timestamp: int = 0

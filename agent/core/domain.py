"""The domain model: what an account holds, what a market offers, what we want, and what to do.

Weights (design.md): equity ``E`` = perp account value (every perp dex) + spot balances at mid (spot USDC
at 1) on a standard account; spot balances at mid + perp unrealized PnL on a unified or portfolio-margin
account, whose perp dex states are not meaningful (:mod:`agent.core.accounts`).
A perp weight is signed notional / E (negative = short); a spot weight is value / E and never
negative; ``USDC`` is the remainder, ``1 - Σ|w|``. Drift of an asset = current − target weight;
portfolio drift = ½ Σ |drift| over every asset including USDC.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt, field_validator

MarketType = Literal["perp", "spot"]
Side = Literal["buy", "sell"]
ActionKind = Literal["open", "increase", "reduce", "close"]

CASH = "USDC"
SUM_TOLERANCE = 0.01  # weights summing to 0.99–1.01 are accepted

Weight = Annotated[StrictFloat | StrictInt, Field(description="fraction of equity")]


def _now() -> datetime:
    return datetime.now(UTC)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class BookLevel(_Frozen):
    px: float
    sz: float


class L2Book(_Frozen):
    """Bids descending, asks ascending, as Hyperliquid's ``l2Book`` returns them."""

    bids: tuple[BookLevel, ...] = ()
    asks: tuple[BookLevel, ...] = ()


class MarketInfo(_Frozen):
    """What the planner needs to know about one tradable asset."""

    coin: str = Field(description="the name used in targets: 'BTC' (perp) or 'UBTC/USDC' (spot pair)")
    market: MarketType
    asset: int = Field(description="Hyperliquid asset id: perp index, or 10000 + spot pair index")
    wire_name: str = Field(description="the name the SDK trades: 'BTC' or '@142'")
    sz_decimals: int = Field(ge=0, le=10)
    max_leverage: int | None = None
    mid: float = Field(gt=0)
    book: L2Book | None = None
    funding: float | None = Field(default=None, description="hourly funding rate (perps)")
    base_token: str | None = Field(default=None, description="spot: the base token's name, e.g. 'UBTC'")
    dex: str = Field(default="", description="perp dex: '' for the main dex, else the HIP-3 dex ('xyz')")
    collateral: str = Field(default=CASH, description="the token that margins this perp (its dex's collateral)")
    only_isolated: bool = Field(default=False, description="perp: isolated margin only (many HIP-3 assets)")
    fee_scale: float = Field(default=1.0, gt=0, description="taker fee multiplier of the asset's dex (HIP-3)")

    @field_validator("mid")
    @classmethod
    def _finite_mid(cls, v: float) -> float:
        if not math.isfinite(v):
            raise ValueError("mid must be finite")
        return v


class Market(_Frozen):
    """Every tradable asset, keyed by ``MarketInfo.coin``."""

    assets: dict[str, MarketInfo]
    timestamp: datetime = Field(default_factory=_now)

    def get(self, coin: str) -> MarketInfo | None:
        return self.assets.get(coin)

    def mid(self, coin: str) -> float:
        return self.assets[coin].mid


class Position(_Frozen):
    """One holding. Perp: signed size ``szi``. Spot: total balance, of which ``hold`` is locked."""

    coin: str
    market: MarketType
    size: float = Field(description="perp: signed szi (negative = short); spot: total balance")
    hold: float = Field(default=0.0, ge=0, description="spot: locked by open orders, cannot be sold")
    entry_px: float | None = None
    leverage: float | None = None
    margin_used: float = 0.0
    unrealized_pnl: float = 0.0
    liquidation_px: float | None = None

    @property
    def free(self) -> float:
        """What can be sold now (spot: total − hold; perp: the whole position)."""
        return self.size - self.hold if self.market == "spot" else self.size


class PortfolioState(_Frozen):
    """An account at one moment: its mode, perp margin accounts, spot balances and positions."""

    user: str | None = None
    abstraction: str = Field(
        default="disabled", description="the account mode as userAbstraction answers it (agent.core.accounts)"
    )
    dex_account_values: dict[str, float] = Field(
        default_factory=dict, description="HIP-3 dex → that dex's perp account value (standard modes)"
    )
    dex_withdrawable: dict[str, float] = Field(
        default_factory=dict, description="HIP-3 dex → margin free for new positions on that dex"
    )
    perp_account_value: float = Field(default=0.0, description="perp margin account value (incl. uPnL)")
    perp_withdrawable: float | None = Field(
        default=None, description="perp margin free for new positions (None: account value − margin used)"
    )
    usdc_spot_total: float = Field(default=0.0, ge=0)
    usdc_spot_hold: float = Field(default=0.0, ge=0)
    positions: dict[str, Position] = Field(default_factory=dict)
    timestamp: datetime = Field(default_factory=_now)

    @property
    def perp_free(self) -> float:
        """USDC in the perp account that new perp positions can use (at 1x, conservatively)."""
        if self.perp_withdrawable is not None:
            return max(0.0, self.perp_withdrawable)
        used = sum(p.margin_used for p in self.positions.values() if p.market == "perp")
        return max(0.0, self.perp_account_value - used)

    @property
    def spot_usdc_free(self) -> float:
        """Spot USDC not on hold: what spot buys can spend."""
        return max(0.0, self.usdc_spot_total - self.usdc_spot_hold)

    @property
    def unified_free(self) -> float:
        """Unified / portfolio margin: the USDC new orders may use, the lower of two readings.

        Free collateral = equity − margin used, with equity = spot USDC ``total`` + perp unrealized PnL (a
        peer that checked a live unified account; not in Hyperliquid's docs), and spot USDC ``total − hold``.
        With losing positions the first is the lower one; until a live check settles it, plan with the lower.
        """
        perps = [p for p in self.positions.values() if p.market == "perp"]
        upnl = sum(p.unrealized_pnl for p in perps)
        used = sum(p.margin_used for p in perps)
        return max(0.0, min(self.usdc_spot_total + upnl - used, self.spot_usdc_free))

    @property
    def unified(self) -> bool:
        """Unified or portfolio margin: every balance is in spot; perp dex states are not meaningful."""
        return self.abstraction in ("unifiedAccount", "portfolioMargin")

    def equity(self, market: Market) -> float:
        """Standard: E = perp account value of every dex + spot balances at mid + spot USDC.
        Unified / portfolio margin: E = spot balances at mid + spot USDC + perp unrealized PnL."""
        spot = sum(p.size * market.mid(c) for c, p in self.positions.items() if p.market == "spot")
        if self.unified:
            upnl = sum(p.unrealized_pnl for p in self.positions.values() if p.market == "perp")
            return self.usdc_spot_total + spot + upnl
        return self.perp_account_value + sum(self.dex_account_values.values()) + self.usdc_spot_total + spot

    def weights(self, market: Market) -> dict[str, float]:
        """Current weights of every held asset plus ``USDC`` (the remainder)."""
        e = self.equity(market)
        if e <= 0:
            return {CASH: 1.0}
        w = {c: p.size * market.mid(c) / e for c, p in self.positions.items() if p.size != 0}
        w[CASH] = 1.0 - sum(abs(x) for x in w.values())
        return w


class TargetAllocation(_Frozen):
    """What the owner (or the strategist) wants: weights per asset, ``USDC`` the remainder.

    Context-free rules are checked here (finite numbers, sum); rules that need the market or the
    config (known asset, spot never short, leverage) live in ``agent.core.targets.validate_target``.
    """

    allocations: dict[str, Weight]
    strategy_id: str | None = None
    reasoning: str = ""

    @field_validator("allocations")
    @classmethod
    def _check(cls, v: dict[str, float]) -> dict[str, float]:
        if not v:
            raise ValueError("target allocation is empty")
        problems = [f"{k}: {x!r} is not a finite number" for k, x in v.items() if not math.isfinite(x)]
        if problems:
            raise ValueError("; ".join(problems))
        for k in v:
            if not k or k != k.strip():
                raise ValueError(f"asset name {k!r} is invalid")
        risk = {k: float(x) for k, x in v.items() if k != CASH}
        gross = sum(abs(x) for x in risk.values())
        if CASH in v:
            cash = float(v[CASH])
            if cash < -1e-12:
                raise ValueError(f"USDC weight {cash:.4f} is negative")
            total = gross + cash
            if gross > 1.0 + SUM_TOLERANCE and cash == 0:
                pass  # leverage, stated explicitly; whether it is allowed is validate_target's call
            elif abs(total - 1.0) > SUM_TOLERANCE:
                raise ValueError(f"weights sum to {total:.4f}; they must sum to 1 (±{SUM_TOLERANCE})")
        elif gross > 1.0 + SUM_TOLERANCE:
            # Without an explicit USDC entry, the remainder is USDC; above 1 is leverage and needs USDC
            # stated as 0 so the intent is explicit.
            raise ValueError(f"weights sum to {gross:.4f} > 1; state USDC to make the remainder explicit")
        return {k: float(x) for k, x in v.items()}

    @property
    def weights(self) -> dict[str, float]:
        """Risk weights (without USDC)."""
        return {k: w for k, w in self.allocations.items() if k != CASH}

    @property
    def cash_weight(self) -> float:
        if CASH in self.allocations:
            return self.allocations[CASH]
        return 1.0 - sum(abs(w) for w in self.weights.values())

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> TargetAllocation:
        """A bare weight map, or the strategist's ``{selected_strategy, target_allocation, reasoning}``."""
        if "target_allocation" in data:
            return cls.model_validate(
                {
                    "allocations": data["target_allocation"],
                    "strategy_id": data.get("selected_strategy"),
                    "reasoning": data.get("reasoning") or "",
                }
            )
        return cls.model_validate({"allocations": dict(data)})


class TradeAction(_Frozen):
    """One order of a plan, already on the exchange's size and price grids."""

    coin: str
    market: MarketType
    side: Side
    kind: ActionKind
    size: float = Field(description="coin units, rounded down to szDecimals")
    notional_usd: float = Field(description="size × mid")
    from_weight: float
    to_weight: float
    reduce_only: bool
    limit_px: float = Field(description="IOC limit: mid × (1 ± max_slippage), on the price grid")
    reason: str
    asset: int = 0
    wire_name: str = ""
    sz_decimals: int = 0
    order_type: Literal["ioc", "twap"] = Field(default="ioc", description="how it is sent: one IOC, or a native TWAP")
    twap_minutes: int | None = Field(default=None, description="the TWAP's duration (None for an IOC)")
    lots: tuple[tuple[str, float], ...] | None = Field(
        default=None, description="spot sell with [tax] on: the lots it consumes (lot id, quantity), chosen before"
    )
    lots_asset: str | None = Field(default=None, description="the token those lots hold ('UBTC')")
    est_gain_usd: float | None = Field(default=None, description="spot sell with [tax] on: its estimated gain")


class SkippedTrade(_Frozen):
    """A trade the planner wanted but could not place, and why (minimum order, rounding, capital)."""

    coin: str
    wanted_notional_usd: float
    reason: str


class CostEstimate(_Frozen):
    fees_usd: float
    slippage_usd: float
    total_usd: float


class PlanSummary(_Frozen):
    total_sells_usd: float
    total_buys_usd: float
    turnover_usd: float
    num_trades: int
    positions_exited: int
    positions_entered: int
    drift_before: float
    drift_after: float
    max_weight_before: float
    max_weight_after: float
    equity_usd: float
    cash_before_usd: float
    cash_after_usd: float


class AssetRow(_Frozen):
    """One line of the drift table, and of the advisor's three columns (current, target, after)."""

    coin: str
    market: MarketType | Literal["cash"]
    current_weight: float
    target_weight: float
    drift: float
    value_usd: float
    band_low: float
    band_high: float
    planned_weight: float
    action: str


class RebalancingPlan(_Frozen):
    """An ordered plan: capital-freeing actions first, then capital-using ones."""

    plan_id: str
    created_at: datetime
    mode: str
    rebalance_needed: bool
    reason: str
    actions: list[TradeAction]
    skipped: list[SkippedTrade]
    summary: PlanSummary
    estimated_cost: CostEstimate
    comparison: dict[str, float]
    rows: list[AssetRow]
    clamps: list[str] = Field(default_factory=list, description="limits that changed the target")
    strategy_id: str | None = None
    target: dict[str, float] = Field(default_factory=dict)
    inputs_hash: str = ""
    cash_pools: dict[str, float] = Field(
        default_factory=dict,
        description="USDC by pool: spot_usdc (spot balance) and perp_margin (perp account value − perp notional) "
        "on a standard account; unified_usdc on a unified or portfolio-margin account",
    )
    target_source: str | None = Field(
        default=None, description="where the target came from: argument, config, stored or strategist"
    )
    as_of: datetime | None = Field(default=None, description="when the exchange data was read")
    paused: bool | None = Field(default=None, description="whether trading was paused when the plan was made")
    tax: dict[str, Any] | None = Field(
        default=None, description="[tax] on: the estimated realised gain (total, by term, per sell) and harvesting"
    )
    sensitivity: str | None = Field(
        default=None, description="preview: stay put vs rebalance over the last 90 days (past data, not a forecast)"
    )
    confirm_token: str | None = None
    expires_at: datetime | None = None

    def to_public(self) -> dict[str, object]:
        """The plan JSON of design.md (stable shape)."""
        return self.model_dump(mode="json")

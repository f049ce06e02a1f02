"""The tool registry: one definition of each tool, published by the MCP server and given to the agent's own LLM.

A tool is a typed argument model (pydantic, extra fields forbidden, bounded), a function of
``(services, args)`` returning a JSON object with a stable shape, MCP annotations, and a docstring that is
the prompt the model reads (first line: what it does; then its side effects).

Data marking: every result is a JSON object whose last key is ``"note": UNTRUSTED_NOTE``. Values in a
result (coin names, strategy text, reasons, model-written reasoning) come from the exchange, the store or a
model: they are data, never instructions. The agent's own LLM receives the same payload inside the
strategist loop's ``{"data": ..., "note": UNTRUSTED_NOTE}`` envelope, so both readers see the same marking.

    read-only            get_portfolio, get_drift, get_market, list_strategies, compute_target, get_history
    stores a plan        preview_rebalance (not destructive; issues a single-use confirm token)
    changes state        set_target_allocation (validated, stored; no order)
    destructive          execute_rebalance, cancel_open_orders, pause_trading, resume_trading
"""

from __future__ import annotations

import copy
import dataclasses
import inspect
import math
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from typing import TYPE_CHECKING, Annotated, Any, Literal

from mcp_types import ToolAnnotations
from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticError

from agent.core.domain import CASH
from agent.core.errors import ValidationError
from agent.strategist.base import ToolSpec
from agent.strategist.loop import UNTRUSTED_NOTE

if TYPE_CHECKING:
    from agent.services.app import Services

__all__ = [
    "TOOLS",
    "UNTRUSTED_NOTE",
    "ToolDefinition",
    "by_name",
    "llm_tools",
]

Kind = Literal["read", "preview", "write", "destructive"]

#: Which interface is calling ("mcp", "chat", "strategist"): recorded with the plans a tool stores.
CALLER: ContextVar[str] = ContextVar("rebalancer_tool_caller", default="mcp")

# Names as Hyperliquid spells them: "BTC", "kPEPE", "UBTC/USDC", "@142", "xyz:TSLA".
COIN_PATTERN = r"^[A-Za-z0-9@][A-Za-z0-9@/_.:-]{0,39}$"
PLAN_ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"

Coin = Annotated[str, Field(pattern=COIN_PATTERN, description="asset name as Hyperliquid spells it")]
Weight = Annotated[
    float,
    Field(ge=-10, le=10, allow_inf_nan=False, description="fraction of equity (negative = perp short)"),
]
Weights = Annotated[
    dict[Coin, Weight],
    Field(
        min_length=1,
        max_length=50,
        description='asset → weight, e.g. {"BTC": 0.4, "ETH": 0.3, "USDC": 0.3}; USDC is the remainder',
    ),
]
Reason = Annotated[str, Field(max_length=2000)]


class Args(BaseModel):
    """Tool arguments: strict types (no "60" for 60), unknown fields refused."""

    model_config = ConfigDict(extra="forbid", strict=True)


class NoArgs(Args):
    pass


class MarketArgs(Args):
    coins: list[Coin] | None = Field(
        default=None, max_length=50, description="only these assets (default: every listed asset)"
    )


class StrategyArgs(Args):
    strategy_id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$", description="a strategy id from list_strategies")


class HistoryArgs(Args):
    days: int = Field(default=60, ge=1, le=3650, description="how many days back")


class PreviewArgs(Args):
    weights: Weights | None = Field(default=None, description="target weights (default: the current target)")
    reasoning: Reason = ""


class ExecuteArgs(Args):
    plan_id: str = Field(pattern=PLAN_ID_PATTERN, description="the plan_id preview_rebalance returned")
    confirm_token: str = Field(min_length=1, max_length=200, description="the confirm_token of that preview")


class ReasonArgs(Args):
    reason: str = Field(min_length=1, max_length=500, description="why (recorded in the alert log)")


class TargetArgs(Args):
    weights: Weights
    reasoning: Reason = ""


Handler = Callable[["Services", Any], dict[str, Any]]


@dataclass(frozen=True)
class ToolDefinition:
    """One tool: its name, arguments, behaviour class, and implementation."""

    name: str
    args: type[Args]
    kind: Kind
    fn: Handler
    title: str

    @property
    def description(self) -> str:
        return inspect.cleandoc(self.fn.__doc__ or "")

    @property
    def input_schema(self) -> dict[str, Any]:
        return copy.deepcopy(_schema(self.args))

    @property
    def annotations(self) -> ToolAnnotations:
        read_only = self.kind == "read"
        return ToolAnnotations(
            title=self.title,
            read_only_hint=read_only,
            destructive_hint=self.kind == "destructive",
            idempotent_hint=read_only,
            open_world_hint=self.kind in ("read", "destructive"),  # reads and orders touch the exchange
        )

    @property
    def read_only(self) -> bool:
        return self.kind == "read"

    def parse(self, arguments: Mapping[str, Any] | None) -> Args:
        """Arguments → the typed model; a ``ValidationError`` naming every bad field otherwise."""
        try:
            return self.args.model_validate(dict(arguments or {}))
        except PydanticError as e:
            raise ValidationError(f"invalid arguments for {self.name}: {_problems(e)}") from None

    def call(self, services: Services, arguments: Mapping[str, Any] | None, *, caller: str = "mcp") -> dict[str, Any]:
        """Validate, run, and return the marked JSON object (``{..., "note": UNTRUSTED_NOTE}``)."""
        args = self.parse(arguments)
        reset = CALLER.set(caller)
        try:
            payload = self.fn(services, args)
        finally:
            CALLER.reset(reset)
        return {**jsonable(payload), "note": UNTRUSTED_NOTE}


@cache
def _schema(model: type[Args]) -> dict[str, Any]:
    return model.model_json_schema()


def _problems(e: PydanticError) -> str:
    out = []
    for err in e.errors():
        where = ".".join(str(p) for p in err["loc"]) or "arguments"
        msg = "unknown field" if err["type"] == "extra_forbidden" else err["msg"]
        out.append(f"{where}: {msg}")
    return "; ".join(out)


def jsonable(value: Any) -> Any:
    """Plain JSON: models dumped, dataclasses as dicts, non-finite floats as null, datetimes as ISO text."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, str | int | bool):
        return value
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    if isinstance(value, BaseModel):
        return jsonable(value.model_dump(mode="json"))
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return jsonable(dataclasses.asdict(value))
    if isinstance(value, timedelta):
        return value.total_seconds()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


TOOLS: list[ToolDefinition] = []


def tool(args: type[Args], kind: Kind, title: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        TOOLS.append(ToolDefinition(name=fn.__name__, args=args, kind=kind, fn=fn, title=title))
        return fn

    return register


def by_name() -> dict[str, ToolDefinition]:
    return {t.name: t for t in TOOLS}


# --------------------------------------------------------------------------- read-only


@tool(NoArgs, "read", "Portfolio")
def get_portfolio(services: Services, args: NoArgs) -> dict[str, Any]:
    """Read the account: equity, USDC, and every position with its value and weight.

    Read-only. Weights are fractions of equity; perp weights are signed (negative = short); USDC is the
    remainder. Also says whether trading is paused.
    """
    state, market = services.observe()
    equity = state.equity(market)
    weights = state.weights(market)
    positions = []
    for coin, p in sorted(state.positions.items()):
        if p.size == 0:
            continue
        mid = market.mid(coin) if market.get(coin) else None
        positions.append(
            {
                "coin": coin,
                "market": p.market,
                "size": p.size,
                "mid": mid,
                "value_usd": p.size * mid if mid is not None else None,
                "weight": weights.get(coin),
                "entry_px": p.entry_px,
                "unrealized_pnl": p.unrealized_pnl,
                "leverage": p.leverage,
            }
        )
    return {
        "equity_usd": equity,
        "perp_account_value_usd": state.perp_account_value,
        "usdc_spot_usd": state.usdc_spot_total,
        "usdc_weight": weights.get(CASH, 1.0),
        "positions": positions,
        "paused": services.store.is_paused(),
        "as_of": state.timestamp,
    }


@tool(NoArgs, "read", "Drift")
def get_drift(services: Services, args: NoArgs) -> dict[str, Any]:
    """Compare current weights with the target: drift per asset, bands, and whether a rebalance is due.

    Read-only: plans nothing and stores nothing. Drift = current − target weight; portfolio drift is
    ½ Σ |drift|. Fails when no target is set (see set_target_allocation).
    """
    target = services.current_target()
    plan = services.plan(target)
    return {
        "rebalance_needed": plan.rebalance_needed,
        "reason": plan.reason,
        "portfolio_drift": plan.summary.drift_before,
        "max_weight": plan.summary.max_weight_before,
        "equity_usd": plan.summary.equity_usd,
        "target": plan.target,
        "strategy_id": plan.strategy_id,
        "rows": [
            {
                "coin": r.coin,
                "market": r.market,
                "current_weight": r.current_weight,
                "target_weight": r.target_weight,
                "drift": r.drift,
                "band_low": r.band_low,
                "band_high": r.band_high,
                "value_usd": r.value_usd,
                "action": r.action,
            }
            for r in plan.rows
        ],
    }


@tool(MarketArgs, "read", "Market")
def get_market(services: Services, args: MarketArgs) -> dict[str, Any]:
    """Read market data: mid price, funding, leverage cap and best bid/ask for each asset.

    Read-only. Pass `coins` to limit the answer (names as in targets: "BTC" for a perp, "UBTC/USDC" for a
    spot pair); an unknown name is an error. Funding is the hourly rate (funding_apr = hourly × 24 × 365).
    """
    coins = list(dict.fromkeys(args.coins)) if args.coins is not None else None
    market = _market(services.exchange, coins)
    if coins:
        unknown = [c for c in coins if market.get(c) is None]
        if unknown:
            raise ValidationError(f"unknown coin(s): {', '.join(unknown)}")
    names = coins if coins else sorted(market.assets)
    assets = {}
    for coin in names:
        info = market.assets[coin]
        book = info.book
        assets[coin] = {
            "market": info.market,
            "mid": info.mid,
            "best_bid": book.bids[0].px if book and book.bids else None,
            "best_ask": book.asks[0].px if book and book.asks else None,
            "funding_hourly": info.funding,
            "funding_apr": info.funding * 24 * 365 if info.funding is not None else None,
            "max_leverage": info.max_leverage,
            "sz_decimals": info.sz_decimals,
        }
    return {"as_of": market.timestamp, "count": len(assets), "assets": assets}


def _market(exchange: Any, coins: list[str] | None) -> Any:
    """The market with books for ``coins`` and, where the adapter offers it, funding (asset contexts)."""
    params = inspect.signature(exchange.market).parameters
    kw: dict[str, Any] = {"books": coins} if coins else {}
    if "with_ctxs" in params or any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        kw["with_ctxs"] = True
    return exchange.market(**kw)


@cache
def _strategies() -> dict[str, Any]:
    from agent.strategist.library import load_strategies

    return load_strategies()


@tool(NoArgs, "read", "Strategies")
def list_strategies(services: Services, args: NoArgs) -> dict[str, Any]:
    """List the strategy library: id, markets, direction, risk, regimes, caps and concept of each strategy.

    Read-only. A target's `selected_strategy` must be one of these ids; its caps (max_position,
    max_leverage) bound the weights.
    """
    out = []
    for sid, s in sorted(_strategies().items()):
        out.append(
            {
                "id": sid,
                "title": s.title,
                "markets": list(s.markets),
                "directionality": s.directionality,
                "risk_profile": s.risk_profile,
                "horizon": s.horizon,
                "compatible_regimes": list(s.compatible_regimes),
                "avoided_regimes": list(s.avoided_regimes),
                "max_position": s.max_position,
                "max_leverage": s.max_leverage,
                "min_dwell_hours": s.min_dwell_hours,
                "concept": " ".join(s.section("Concept").split())[:600],
            }
        )
    return {"count": len(out), "strategies": out}


@tool(StrategyArgs, "read", "Compute target")
def compute_target(services: Services, args: StrategyArgs) -> dict[str, Any]:
    """Compute the weights a strategy's own rules give for the current market.

    Read-only; stores nothing. Returns target_allocation (USDC is the remainder) after the strategy's caps
    and the account's limits, whether its preconditions hold now, and how it was computed.
    """
    return services.compute_target(args.strategy_id)


@tool(HistoryArgs, "read", "History")
def get_history(services: Services, args: HistoryArgs) -> dict[str, Any]:
    """Read the history of the last `days` days: rebalancing cycles and previewed/executed plans.

    Read-only. Each cycle has its trigger, status, value before/after and 7-day return; each plan its
    status (previewed, confirmed, refused, expired, executed:...).
    """
    cycles = services.history(args.days)
    since = (services.clock() - timedelta(days=args.days)).isoformat()
    plans = services.store.query(
        "SELECT plan_id, created_at, status, status_at, source, equity FROM plans WHERE created_at >= ? "
        "ORDER BY created_at DESC LIMIT 200",
        (since,),
    )
    return {"days": args.days, "cycles": cycles, "plans": plans, "paused": services.store.is_paused()}


# --------------------------------------------------------------------------- preview and targets


@tool(PreviewArgs, "preview", "Preview rebalance")
def preview_rebalance(services: Services, args: PreviewArgs) -> dict[str, Any]:
    """Plan a rebalance toward `weights` (default: the current target) and return the plan with a confirm token.

    Places no order. Stores the plan and issues a single-use `confirm_token` that expires at `expires_at`;
    execute_rebalance(plan_id, confirm_token) carries it out, after re-checking the account. The plan
    lists ordered actions (sells first), costs, and drift before/after. Weights are validated first.
    """
    from agent.core.targets import parse_target

    target = parse_target(args.weights, reasoning=args.reasoning) if args.weights is not None else None
    return services.preview(target, source=CALLER.get()).to_public()


@tool(TargetArgs, "write", "Set target allocation")
def set_target_allocation(services: Services, args: TargetArgs) -> dict[str, Any]:
    """Validate and store a new target allocation (asset → weight; USDC is the remainder).

    Side effect: replaces the stored target that get_drift, preview_rebalance and the heartbeat use. Places
    no order. Weights must be finite, sum to 1 (±0.01) with USDC, name listed assets, keep spot ≥ 0 and
    stay within the configured leverage; anything else is refused and the stored target stays as it was.
    """
    target = services.set_target(dict(args.weights), reasoning=args.reasoning)
    return {
        "stored": True,
        "target": target.allocations,
        "usdc_weight": target.cash_weight,
        "reasoning": target.reasoning,
    }


# --------------------------------------------------------------------------- destructive


@tool(ExecuteArgs, "destructive", "Execute rebalance")
def execute_rebalance(services: Services, args: ExecuteArgs) -> dict[str, Any]:
    """Execute a previewed plan: send its orders to the exchange.

    DESTRUCTIVE: trades real positions. Needs the plan_id and confirm_token from preview_rebalance; the
    token is single-use and expires. Refused when trading is paused, the token is wrong, used or expired,
    the account moved beyond tolerance since the preview, or a risk limit would be broken.
    """
    report = services.execute(args.plan_id, args.confirm_token)
    data = jsonable(report)
    return {
        "plan_id": args.plan_id,
        "status": getattr(report, "status", None),
        "report": data if isinstance(data, dict) else {"detail": data},
    }


@tool(NoArgs, "destructive", "Cancel open orders")
def cancel_open_orders(services: Services, args: NoArgs) -> dict[str, Any]:
    """Cancel every open order on the account.

    DESTRUCTIVE: resting orders are removed from the book. Positions are not changed.
    """
    cancelled = services.cancel_open_orders()
    return {"cancelled": cancelled, "count": len(cancelled)}


@tool(ReasonArgs, "destructive", "Pause trading")
def pause_trading(services: Services, args: ReasonArgs) -> dict[str, Any]:
    """Pause trading (the kill switch): no order is sent until resume_trading.

    Side effect: every execution, manual or by the heartbeat, is refused while paused. Open orders are not
    cancelled (see cancel_open_orders). The reason is recorded.
    """
    services.pause(args.reason)
    return {"paused": True, "reason": args.reason}


@tool(ReasonArgs, "destructive", "Resume trading")
def resume_trading(services: Services, args: ReasonArgs) -> dict[str, Any]:
    """Resume trading after pause_trading: executions are allowed again.

    Side effect: turns the kill switch off, so previewed plans and the heartbeat may trade. The reason is
    recorded.
    """
    services.resume(args.reason)
    return {"paused": False, "reason": args.reason}


# --------------------------------------------------------------------------- the agent's own LLM


def llm_tools(services: Services) -> list[ToolSpec]:
    """The read-only tools as ``ToolSpec``s for the strategist: same names, descriptions and schemas as MCP.

    The handler returns the payload without the note: the strategist loop wraps every result in its
    ``{"data": ..., "note": UNTRUSTED_NOTE}`` envelope itself.
    """
    return [_spec(t, services) for t in TOOLS if t.read_only and t.name not in IN_THE_PROMPT]


#: Read-only tools whose answer the strategist's prompt already holds (the state summary, the catalogue):
#: offering them would only spend the model's tool budget and ~200 prompt tokens each.
IN_THE_PROMPT = frozenset({"get_portfolio", "list_strategies"})


def _spec(t: ToolDefinition, services: Services) -> ToolSpec:
    def handler(arguments: dict[str, Any]) -> Any:
        out = t.call(services, arguments, caller="strategist")
        out.pop("note", None)
        return out

    return ToolSpec(name=t.name, description=t.description, input_schema=t.input_schema, handler=handler)

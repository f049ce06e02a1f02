"""The tool framework: a tool is a typed argument model, a function of ``(services, args)`` and MCP annotations.

A tool's arguments are a pydantic model (extra fields forbidden, strict types, bounded); its result is a
JSON object with a stable shape whose last key is ``"note": UNTRUSTED_NOTE``; its docstring is the
prompt the model reads (first line: what it does; then its side effects). The definitions live in
:mod:`tools.registry`; the MCP server (:mod:`tools.server`) and the agent's own LLM use the same ones.
"""

from __future__ import annotations

import copy
import inspect
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Annotated, Any, Literal

from mcp_types import ToolAnnotations
from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticError

from agent.core import problems
from agent.core.errors import ValidationError
from agent.core.jsonable import jsonable
from agent.strategist import tool_names
from agent.strategist.loop import UNTRUSTED_NOTE

if TYPE_CHECKING:
    from agent.services.app import Services

Kind = tool_names.Kind

#: Which interface is calling ("mcp", "chat", "strategist"): recorded with the plans a tool stores.
CALLER: ContextVar[str] = ContextVar("rebalancer_tool_caller", default="mcp")
#: Where a long tool call reports its progress (set by the MCP server when the client asked for it).
PROGRESS: ContextVar[Callable[[dict[str, Any]], None] | None] = ContextVar("rebalancer_tool_progress", default=None)

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
    """Tool arguments: strict types (no "60" for 60), unknown fields refused. Every tool takes an optional
    ``account``: a ``[[accounts]]`` name (default: the configured account)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    account: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9_.-]{1,40}$",
        description="which configured account ([[accounts]] name); default: the configured one",
    )


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


class SensitivityArgs(Args):
    weights: Weights | None = Field(default=None, description="target weights (default: the current target)")
    days: int = Field(default=90, ge=7, le=3650, description="how many days of past closes")


class PerformanceArgs(Args):
    days: int = Field(default=30, ge=1, le=3650, description="the window, in days")


class TaxLotsArgs(Args):
    jurisdiction: Literal["us", "de", "uk"] | None = Field(
        None, description="us, de or uk (default: the configured [tax] jurisdiction)"
    )


class TaxReportArgs(TaxLotsArgs):
    year: int = Field(ge=2009, le=2100, description="the tax year")


class PreviewArgs(Args):
    weights: Weights | None = Field(default=None, description="target weights (default: the current target)")
    reasoning: Reason = ""


class ExecuteArgs(Args):
    plan_id: str = Field(pattern=PLAN_ID_PATTERN, description="the plan_id preview_rebalance returned")
    confirm_token: str = Field(min_length=1, max_length=200, description="the confirm_token of that preview")


class PlanArgs(Args):
    plan_id: str = Field(pattern=PLAN_ID_PATTERN, description="a plan_id from preview_rebalance")


class RejectArgs(Args):
    plan_id: str = Field(pattern=PLAN_ID_PATTERN, description="the plan_id preview_rebalance returned")
    reason: str = Field(min_length=1, max_length=500, description="why the plan is rejected, in the owner's words")


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
            wrong = problems.one_line(e, root="arguments", unknown="unknown field")
            raise ValidationError(f"invalid arguments for {self.name}: {wrong}") from None

    def call(self, services: Services, arguments: Mapping[str, Any] | None, *, caller: str = "mcp") -> dict[str, Any]:
        """Validate, run, and return the marked JSON object (``{..., "note": UNTRUSTED_NOTE}``)."""
        args = self.parse(arguments)
        reset = CALLER.set(caller)
        try:
            with services.question(join=True):  # one tool call, one read of each thing (or the tick's, inside one)
                payload = self.fn(services.for_account(args.account), args)
        finally:
            CALLER.reset(reset)
        return {**jsonable(payload), "note": UNTRUSTED_NOTE}


@cache
def _schema(model: type[Args]) -> dict[str, Any]:
    return model.model_json_schema()


TOOLS: list[ToolDefinition] = []


def tool(args: type[Args], kind: Kind, title: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        if tool_names.KINDS.get(fn.__name__) != kind:  # the one list of tool names says what each one is
            raise TypeError(f"tool {fn.__name__}: not listed as a {kind!r} tool in agent/strategist/tool_names.py")
        TOOLS.append(ToolDefinition(name=fn.__name__, args=args, kind=kind, fn=fn, title=title))
        return fn

    return register


def by_name() -> dict[str, ToolDefinition]:
    return {t.name: t for t in TOOLS}

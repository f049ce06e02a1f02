"""What every strategist (LLM provider or offline) takes and returns."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from agent.core.domain import Market, PortfolioState, TargetAllocation
from agent.core.limits import Limits

DecisionStatus = Literal[
    "ok",  # a validated target
    "failed_invalid",  # every answer failed validation: fail closed, no order
    "failed_refused",  # the model refused
    "failed_transport",  # provider unreachable after retries (429/5xx/timeouts)
    "failed_budget",  # token or time budget spent
    "failed_call_limit",  # the decision made its max_model_calls requests without a valid answer
    "failed_stale_data",  # the market history is older than the allowed age: no live decision on it
]


@dataclass(frozen=True)
class ToolSpec:
    """One read-only tool the model may call; the same definitions the MCP server publishes."""

    name: str
    description: str
    input_schema: Mapping[str, Any]
    handler: Callable[[dict[str, Any]], Any]


@dataclass
class DecisionContext:
    """Everything the decide step looks at."""

    state: PortfolioState
    market: Market
    features: Mapping[str, Mapping[str, float]] = field(default_factory=dict)  # coin -> feature -> value
    limits: Limits = field(default_factory=Limits)
    tools: list[ToolSpec] = field(default_factory=list)
    current_targets: Mapping[str, float] | None = None  # fixed targets from config, if any
    # the owner's settings: a strategy chosen by the owner ("auto": by preconditions), the fraction of coins
    # kept by score, and the weights of the score (90-day momentum, 30-day trend)
    strategy: str = "auto"
    top_percentile: float = 0.5
    score_weights: Mapping[str, float] = field(default_factory=lambda: {"momentum": 1.0, "trend": 0.0})
    # the daily closes the features came from (coin -> closes, oldest first), their last day and source
    closes: Mapping[str, Any] | None = None
    history_as_of: str | None = None
    history_source: str | None = None
    # the owner's last rejected (or expired) previews, newest first: {"date", "plan" (one line), "reason"}
    rejections: Sequence[Mapping[str, str]] = ()


class Usage(BaseModel):
    """What one decision (or chat turn) spent: tokens as the provider reported them, requests, seconds waiting."""

    model_config = ConfigDict(extra="forbid")
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_prompt_tokens: int = 0
    model_calls: int = 0
    latency_s: float = 0.0


class Decision(BaseModel):
    """The outcome of one decide step. ``target`` is set only when ``status == 'ok'``."""

    model_config = ConfigDict(extra="forbid")

    status: DecisionStatus
    provider: str
    model: str | None = None
    selected_strategy: str | None = None
    target: TargetAllocation | None = None
    reasoning: str = ""
    error: str | None = None
    attempts: int = 0
    tool_calls: list[dict[str, Any]] = Field(default_factory=list)
    raw_replies: list[str] = Field(default_factory=list)
    usage: Usage = Field(default_factory=Usage)
    history_as_of: str | None = None  # the last day of the market history the decision looked at
    history_source: str | None = None  # where that history came from

    @property
    def ok(self) -> bool:
        return self.status == "ok" and self.target is not None


class Strategist(Protocol):
    """Anything that turns a context into a decision. Never places an order."""

    name: str

    def decide(self, ctx: DecisionContext) -> Decision: ...

"""The strategist's final answer: the submit tools' strict schemas, and validation that fails closed.

Two answer forms:

- ``submit_target`` (option 1): ``{selected_strategy, target_allocation, reasoning}``. On the wire the
  allocation is a list of ``{"coin", "weight"}`` pairs because strict JSON schemas (OpenAI ``strict: true``)
  cannot express a free-form map; it becomes the contract's ``{"BTC": 0.4, …}`` map here, and duplicate
  coins are rejected.
- ``submit_actions`` (option 2, direct actions): validated by *converting to a target*: the actions are
  applied to the current state at mids and the implied weights go through exactly the same rules.

Validation = strict JSON (no duplicate keys, no NaN/Infinity, no overflow) + schema (pydantic, extra fields
forbidden, strings for numbers rejected) + domain rules (``agent.core.targets.validate_target`` with the config
limits, the strategy exists, the strategy's own ``max_position``/``max_leverage``). Every problem is listed so
the model can fix them all in one retry.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import pydantic
from pydantic import BaseModel, ConfigDict, Field

from agent.core.domain import CASH, TargetAllocation
from agent.core.errors import TargetValidationError
from agent.core.problems import problems as schema_problems
from agent.strategist.base import DecisionContext

SUBMIT_TARGET = "submit_target"
SUBMIT_ACTIONS = "submit_actions"
SUBMIT_TOOLS = frozenset({SUBMIT_TARGET, SUBMIT_ACTIONS})

MAX_REASONING = 2000


# --------------------------------------------------------------------------- strict JSON


class JSONFormatError(ValueError):
    """Text is not strict JSON (syntax, duplicate keys, NaN/Infinity, a number that overflows)."""


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise JSONFormatError(f"duplicate key {k!r}")
        out[k] = v
    return out


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise JSONFormatError(f"number {text[:30]} is not finite")
    return value


def _reject_constant(name: str) -> Any:
    raise JSONFormatError(f"{name} is not valid JSON")


def strict_json_loads(text: str) -> Any:
    """``json.loads`` that rejects duplicate keys, NaN/Infinity and numbers that overflow to infinity."""
    try:
        return json.loads(
            text, object_pairs_hook=_no_duplicates, parse_float=_finite_float, parse_constant=_reject_constant
        )
    except JSONFormatError:
        raise
    except (ValueError, RecursionError) as exc:
        raise JSONFormatError(f"not valid JSON: {exc}") from None


# --------------------------------------------------------------------------- schemas


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class WeightItem(_Strict):
    coin: str = Field(min_length=1, max_length=64)
    weight: float


class TargetAnswer(_Strict):
    selected_strategy: str = Field(min_length=1, max_length=100)
    target_allocation: list[WeightItem] = Field(min_length=1, max_length=500)
    reasoning: str = Field(max_length=MAX_REASONING)


class ActionItem(_Strict):
    action_type: Literal["buy", "sell"]
    coin: str = Field(min_length=1, max_length=64)
    market_type: Literal["perp", "spot"]
    size: float
    price: float | None
    reasoning: str = Field(max_length=MAX_REASONING)


class ActionsAnswer(_Strict):
    selected_strategy: str = Field(min_length=1, max_length=100)
    actions: list[ActionItem] = Field(max_length=100)
    reasoning: str = Field(max_length=MAX_REASONING)


_STR = {"type": "string"}

SUBMIT_TARGET_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "selected_strategy": {"type": "string", "description": "catalogue id"},
        "target_allocation": {
            "type": "array",
            "description": "weights incl. USDC, sum 1",
            "items": {
                "type": "object",
                "properties": {"coin": _STR, "weight": {"type": "number"}},
                "required": ["coin", "weight"],
                "additionalProperties": False,
            },
        },
        "reasoning": _STR,
    },
    "required": ["selected_strategy", "target_allocation", "reasoning"],
    "additionalProperties": False,
}

SUBMIT_ACTIONS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "selected_strategy": _STR,
        "actions": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "action_type": {"type": "string", "enum": ["buy", "sell"]},
                    "coin": _STR,
                    "market_type": {"type": "string", "enum": ["perp", "spot"]},
                    "size": {"type": "number", "description": "coin units"},
                    "price": {"type": ["number", "null"]},
                    "reasoning": _STR,
                },
                "required": ["action_type", "coin", "market_type", "size", "price", "reasoning"],
                "additionalProperties": False,
            },
        },
        "reasoning": _STR,
    },
    "required": ["selected_strategy", "actions", "reasoning"],
    "additionalProperties": False,
}

SUBMIT_TARGET_DESCRIPTION = "Final answer: strategy and target weights. Validated in code; problems come back."
SUBMIT_ACTIONS_DESCRIPTION = "Final answer (legacy): buy/sell actions, validated as the weights they imply."


# --------------------------------------------------------------------------- validation


@dataclass(frozen=True)
class ValidAnswer:
    """An answer that passed every rule."""

    kind: Literal["target", "actions"]
    strategy_id: str
    target: TargetAllocation
    reasoning: str


class AnswerRejected(Exception):
    """The answer breaks one or more rules; ``problems`` are fed back to the model verbatim."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


def _cap(strategy: object, *names: str) -> float | None:
    for name in names:
        value = getattr(strategy, name, None)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
    return None


def strategy_problems(target: TargetAllocation, strategy_id: str, strategies: Mapping[str, object]) -> list[str]:
    """The strategy exists, and the target respects its own ``max_position`` and ``max_leverage``."""
    strategy = strategies.get(strategy_id)
    if strategy is None:
        known = ", ".join(sorted(strategies)) or "(none)"
        return [f"selected_strategy: unknown strategy {strategy_id[:100]!r}; choose one of: {known}"]
    problems = []
    max_position = _cap(strategy, "max_position")
    if max_position is not None:
        problems += [
            f"{coin}: |weight| {abs(w):.4f} exceeds strategy {strategy_id!r} max_position {max_position:g}"
            for coin, w in sorted(target.weights.items())
            if abs(w) > max_position + 1e-9
        ]
    max_leverage = _cap(strategy, "max_leverage")
    gross = sum(abs(w) for w in target.weights.values())
    if max_leverage is not None and gross > max_leverage + 1e-9:
        problems.append(f"gross exposure {gross:.4f} exceeds strategy {strategy_id!r} max_leverage {max_leverage:g}")
    return problems


def check_target(
    allocations: dict[str, float],
    strategy_id: str,
    reasoning: str,
    ctx: DecisionContext,
    strategies: Mapping[str, object],
) -> TargetAllocation:
    """Domain rules for a weight map; raises ``AnswerRejected`` with every problem found."""
    try:
        target = TargetAllocation(allocations=allocations, strategy_id=strategy_id, reasoning=reasoning)
    except pydantic.ValidationError as exc:
        raise AnswerRejected([f"target_allocation: {p.message}" for p in schema_problems(exc)]) from None
    problems: list[str] = []
    try:
        ctx.limits.check_target(target, ctx.market)
    except TargetValidationError as exc:
        problems += exc.problems
    problems += strategy_problems(target, strategy_id, strategies)
    if problems:
        raise AnswerRejected(problems)
    return target


def allocation_map(items: list[WeightItem]) -> dict[str, float]:
    """List of pairs → map; a coin listed twice is an error, not a sum."""
    out: dict[str, float] = {}
    dupes = []
    for item in items:
        if item.coin in out:
            dupes.append(item.coin)
        out[item.coin] = item.weight
    if dupes:
        raise AnswerRejected([f"target_allocation: {c!r} is listed more than once" for c in sorted(set(dupes))])
    return out


def implied_weights(actions: list[ActionItem], ctx: DecisionContext) -> dict[str, float]:
    """Apply ``actions`` to the current state at mids and return the implied weights (with USDC).

    Trades at mid leave equity unchanged, so weight = new size × mid / E and USDC = 1 − Σ|w|.
    """
    problems: list[str] = []
    equity = ctx.state.equity(ctx.market)
    if not math.isfinite(equity) or equity <= 0:
        raise AnswerRejected([f"account equity {equity:.2f} is not positive; no action can be sized"])
    sizes = {c: p.size for c, p in ctx.state.positions.items()}
    for i, a in enumerate(actions):
        info = ctx.market.get(a.coin)
        where = f"actions.{i}"
        if info is None:
            problems.append(f"{where}.coin: {a.coin[:64]!r} is not listed on the exchange")
            continue
        if info.market != a.market_type:
            problems.append(f"{where}.market_type: {a.coin} is a {info.market} market, not {a.market_type}")
        if not math.isfinite(a.size) or a.size <= 0:
            problems.append(f"{where}.size: must be a positive finite number of coin units")
            continue
        if a.price is not None and (not math.isfinite(a.price) or a.price <= 0):
            problems.append(f"{where}.price: must be positive or null")
        sign = 1.0 if a.action_type == "buy" else -1.0
        sizes[a.coin] = sizes.get(a.coin, 0.0) + sign * a.size
    if problems:
        raise AnswerRejected(problems)
    weights = {c: s * ctx.market.mid(c) / equity for c, s in sorted(sizes.items()) if abs(s) > 0}
    weights[CASH] = 1.0 - sum(abs(w) for w in weights.values())
    return weights


def validate_answer(
    tool_name: str, raw_arguments: str, ctx: DecisionContext, strategies: Mapping[str, object]
) -> ValidAnswer:
    """Parse and validate one submit call; raise ``AnswerRejected`` listing every problem."""
    try:
        data = strict_json_loads(raw_arguments)
    except JSONFormatError as exc:
        raise AnswerRejected([f"arguments: {exc}"]) from None
    if not isinstance(data, dict):
        raise AnswerRejected([f"arguments: must be a JSON object, not {type(data).__name__}"])
    if tool_name == SUBMIT_TARGET:
        try:
            answer = TargetAnswer.model_validate(data)
        except pydantic.ValidationError as exc:
            raise AnswerRejected([str(p) for p in schema_problems(exc, root="answer")]) from None
        allocations = allocation_map(answer.target_allocation)
        target = check_target(allocations, answer.selected_strategy, answer.reasoning, ctx, strategies)
        return ValidAnswer("target", answer.selected_strategy, target, answer.reasoning)
    if tool_name == SUBMIT_ACTIONS:
        try:
            actions = ActionsAnswer.model_validate(data)
        except pydantic.ValidationError as exc:
            raise AnswerRejected([str(p) for p in schema_problems(exc, root="answer")]) from None
        weights = implied_weights(actions.actions, ctx)
        target = check_target(weights, actions.selected_strategy, actions.reasoning, ctx, strategies)
        return ValidAnswer("actions", actions.selected_strategy, target, actions.reasoning)
    raise AnswerRejected([f"{tool_name!r} is not a submit tool"])

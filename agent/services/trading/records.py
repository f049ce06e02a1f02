"""The records people read: cycles (ticks and executions), stored plans, and one plan with everything about it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from agent.adapters.store.cycles import COLUMNS
from agent.core.errors import ExchangeError, ValidationError
from agent.services.trading import rejections

if TYPE_CHECKING:
    from agent.services.context import AccountContext


#: The columns of a history row (``history --csv`` writes them in this order).
CYCLE_FIELDS: tuple[str, ...] = COLUMNS


def _since(ctx: AccountContext, days: int) -> str:
    if not isinstance(days, int) or not 1 <= days <= 3650:
        raise ValidationError("days must be between 1 and 3650")
    return (ctx.clock() - timedelta(days=days)).isoformat()


def cycles(
    ctx: AccountContext, days: int = 60, *, fill_returns: Callable[[], object] | None = None
) -> list[dict[str, Any]]:
    """Cycles of the last ``days``, newest first: value before/after, cost, and the realised 7-day return.

    ``fill_returns`` fills each cycle's 7-day return from the account's value history where the exchange
    keeps one (the façade passes the evidence's); without it, or when it cannot be read, from the records.
    """
    since = _since(ctx, days)
    try:
        if fill_returns is None:
            raise ExchangeError("no value history")
        fill_returns()
    except ExchangeError:
        ctx.store.cycles.fill_returns()
    return ctx.store.cycles.since(since)


def plans(ctx: AccountContext, *, days: int = 60, limit: int = 50) -> list[dict[str, Any]]:
    """Stored plans of the last ``days``, newest first, one summary each."""
    since = _since(ctx, days)
    if not 1 <= limit <= 1000:
        raise ValidationError("limit must be between 1 and 1000")
    rejections.record_expired(ctx)  # a preview left to expire shows as such, with its reason
    return [p.summary() for p in ctx.store.plans.recent(since=since, limit=limit)]


def plan_detail(ctx: AccountContext, plan_id: str) -> dict[str, Any]:
    """One plan: its summary, the plan itself, its cycle and decision, its orders and fills."""
    rejections.record_expired(ctx)
    stored = ctx.store.plans.get(plan_id)
    if stored is None:
        raise ValidationError(f"unknown plan id {plan_id!r}")
    cycle = ctx.store.cycles.for_plan(plan_id)
    if cycle is None and stored.cycle_id:
        cycle = ctx.store.cycles.get(stored.cycle_id)
    if cycle is not None:
        cycle = {k: v for k, v in cycle.items() if k != "detail"}
    return {
        **stored.summary(),
        "plan": stored.plan.model_dump(mode="json", exclude={"confirm_token"}),
        "cycle": cycle,
        "decisions": ctx.store.records.decisions(cycle["id"]) if cycle else [],
        "orders": [r.model_dump(mode="json") for r in ctx.store.journal.rows(plan_id=plan_id)],
        "fills": ctx.store.journal.fills(plan_id=plan_id),
    }


def cycle_detail(ctx: AccountContext, cycle_id: str) -> dict[str, Any]:
    """One cycle: its decisions (strategy, reasoning, raw model replies), its plan, orders and fills."""
    cycle = ctx.store.cycles.get(cycle_id)
    if cycle is None:
        raise ValidationError(f"unknown cycle id {cycle_id!r}")
    plan = plan_detail(ctx, cycle["plan_id"]) if cycle["plan_id"] and ctx.store.plans.get(cycle["plan_id"]) else None
    return {
        "cycle": {k: v for k, v in cycle.items() if k != "detail"},
        "decisions": ctx.store.records.decisions(cycle_id),
        "plan": plan,
    }

"""What an execution reports: per action, then the totals (cost against the estimate), built from the journal."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, Field

from agent.adapters.store.journal import ABANDONED, CANCELED, REJECTED, Journal
from agent.core.costs import CostModel
from agent.core.domain import RebalancingPlan

ReportStatus = Literal["ok", "partial", "failed", "incomplete", "paused", "dry-run"]
ActionState = Literal["filled", "partial", "rejected", "skipped", "paused", "unknown", "not_sent", "dry-run"]


class ActionReport(BaseModel):
    index: int
    coin: str
    market: str
    side: str
    kind: str
    intended_sz: float = Field(description="the plan's size")
    target_sz: float = Field(description="after resizing to the cash really there")
    sent_sz: float = 0.0
    state: ActionState = "not_sent"
    filled_sz: float = 0.0
    avg_px: float | None = None
    fee_usd: float = 0.0
    notional_usd: float = 0.0
    slippage_usd: float = Field(default=0.0, description="|avg_px − plan mid| × filled size")
    attempts: int = 0
    cloids: list[str] = Field(default_factory=list)
    error: str | None = None
    note: str | None = None


class ExecutionReport(BaseModel):
    plan_id: str
    mode: str
    status: ReportStatus
    started_at: datetime
    finished_at: datetime
    actions: list[ActionReport]
    orders_sent: int = 0
    notional_filled_usd: float = 0.0
    fees_usd: float = 0.0
    slippage_usd: float = 0.0
    realised_cost_usd: float = Field(default=0.0, description="fees + Σ|avg_px − mid|·sz")
    estimated_cost_usd: float = 0.0
    cost_vs_estimate_usd: float = 0.0
    reconciled: dict[str, str] = Field(default_factory=dict, description="cloid → state set by reconcile")
    errors: list[str] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list, description="e.g. open orders not ours, left alone")


class ReconcileReport(BaseModel):
    checked: int = 0
    resolved: dict[str, str] = Field(default_factory=dict)
    unresolved: list[str] = Field(default_factory=list)


def fill_in(plan: RebalancingPlan, reports: list[ActionReport], journal: Journal, costs: CostModel) -> None:
    """Each action's report from the journal: every attempt, filled size, average price, fees, final state."""
    for i, a in enumerate(plan.actions):
        rep = reports[i]
        rows = journal.rows(plan_id=plan.plan_id, action_index=i)
        rows = [r for r in rows if r.mode != "dry-run"]
        if rows:
            rep.cloids = [r.cloid for r in rows]  # every attempt, including earlier runs'
        filled = sum(r.filled_sz for r in rows)
        rep.filled_sz = filled
        if filled > 0:
            rep.avg_px = sum(r.filled_sz * (r.avg_px or 0.0) for r in rows) / filled
            rep.notional_usd = filled * rep.avg_px
            plan_mid = a.notional_usd / a.size if a.size else rep.avg_px
            rep.slippage_usd = abs(rep.avg_px - plan_mid) * filled
        rep.fee_usd = sum(
            r.fee if r.fee is not None else r.filled_sz * (r.avg_px or 0.0) * costs.fee_rate(a.market) for r in rows
        )
        if rep.state in ("skipped", "paused", "unknown"):
            if rep.state == "paused" and filled > 0:
                rep.state = "partial"
            continue
        target = rep.target_sz
        lot = 10.0**-a.sz_decimals
        if rows and filled >= target - lot / 2:
            rep.state = "filled"
        elif filled > 0:
            rep.state = "partial"
        elif any(r.state == REJECTED for r in rows):
            rep.state = "rejected"
        elif rows:
            rep.state = "rejected" if all(r.state in (ABANDONED, CANCELED) for r in rows) else "unknown"


def overall_status(reports: list[ActionReport]) -> ReportStatus:
    if not reports:
        return "ok"
    states = [r.state for r in reports]
    if all(s == "filled" for s in states):
        return "ok"
    if not any(r.filled_sz > 0 for r in reports):
        return "failed"
    return "partial"


def build_report(
    plan: RebalancingPlan,
    reports: list[ActionReport],
    status: ReportStatus,
    started: float,
    errors: list[str],
    reconciled: dict[str, str],
    *,
    mode: str,
    finished: float,
) -> ExecutionReport:
    fees = sum(r.fee_usd for r in reports)
    slip = sum(r.slippage_usd for r in reports)
    realised = fees + slip
    return ExecutionReport(
        plan_id=plan.plan_id,
        mode=mode,
        status=status,
        started_at=datetime.fromtimestamp(started, UTC),
        finished_at=datetime.fromtimestamp(finished, UTC),
        actions=reports,
        orders_sent=sum(r.attempts for r in reports),
        notional_filled_usd=sum(r.notional_usd for r in reports),
        fees_usd=fees,
        slippage_usd=slip,
        realised_cost_usd=realised,
        estimated_cost_usd=plan.estimated_cost.total_usd,
        cost_vs_estimate_usd=realised - plan.estimated_cost.total_usd,
        reconciled=reconciled,
        errors=errors,
    )

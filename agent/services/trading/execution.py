"""Execute a previewed plan, and record it as a cycle, whoever asked.

Order of checks: the plan exists and the token matches its hash; the plan is still ``previewed`` (tokens
are single-use); the local clock is within ``[hyperliquid] max_clock_skew`` of the exchange's; the token
has not expired on the exchange's clock (it was issued on it too, so a local clock that jumped at
preview cannot mint a long-lived token); trading is not paused. Then the token is spent (only one caller can
move the plan out of ``previewed``), the account is read again and must not have moved beyond
``[mcp] state_tolerance`` since the preview, and the risk gate runs once more. Only then does the
executor send anything.

Every execution is a cycle in the history: the heartbeat's own cycle when a tick made the plan (a
``pending-confirm`` cycle moves to ``executed:…`` here), else ``run-<plan_id>``. It holds the plan id,
the value before and after, orders, fills, and the estimated and realised cost. A refusal after the
token is spent ends the plan ``refused``; any other error ends it ``failed`` (nothing sent) or
``incomplete`` (orders had gone out), with a report and exit 4, never stuck.

Reads: whatever the question read before is forgotten, so the clock and the fresh-state check read the
exchange anew (once: the state read reuses the clock's ``clearinghouseState``). Every order sent makes the
question forget again, and what the executor polls (order status, fills, TWAPs) is never remembered.
"""

from __future__ import annotations

import hmac
import logging
import time
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from agent.adapters import readscope
from agent.core.domain import CASH, Market, PortfolioState, RebalancingPlan
from agent.core.errors import ClockSkewError, ConfirmationError, ExchangeError, RiskLimitError, TradingPaused
from agent.core.text import safe
from agent.services.trading.lease import writer
from agent.services.trading.planning import PAUSED, hash_token, refusal
from agent.services.trading.reports import ExecutionReport, ReportStatus, build_report

if TYPE_CHECKING:
    from agent.services.app import Services

log = logging.getLogger(__name__)
T = TypeVar("T")
_FINAL_WRITE_TRIES = 6  # about 12 s of retries for the final state


def execute(
    svc: Services, plan_id: str, confirm_token: str, *, source: str = "cli", heartbeat: bool = False
) -> ExecutionReport:
    """Execute a previewed plan. Refuses a wrong, used or expired token, a moved state or a risk breach."""
    if not isinstance(plan_id, str) or not isinstance(confirm_token, str) or not confirm_token:
        raise ConfirmationError("plan_id and confirm_token are required strings")
    if svc.executor is None:
        raise ConfirmationError("this session reads a snapshot: nothing can be executed")
    stored = svc.store.plans.get(plan_id)
    if stored is None:
        raise ConfirmationError(f"unknown plan id {plan_id!r}")
    if stored.token_hash is None or not hmac.compare_digest(stored.token_hash, hash_token(confirm_token)):
        raise ConfirmationError("wrong confirm token for this plan")
    if stored.status == "rejected" and stored.rejection:
        raise ConfirmationError(f"this plan was rejected ({stored.rejection['reason']}); its token is spent")
    if stored.status != "previewed":
        raise ConfirmationError(f"this plan's token was already used (plan is {stored.status})")
    readscope.forget()  # the gates below read the account afresh, whatever this question read before
    now = exchange_clock(svc)
    if stored.expires_at is None or now > stored.expires_at:
        svc.store.plans.move(plan_id, "expired", expect="previewed")
        raise ConfirmationError("the confirm token has expired; preview again")
    if svc.is_paused():
        raise TradingPaused(PAUSED)
    with writer(svc.context, f"execute {plan_id}"):
        return _execute(svc, stored.plan, stored.cycle_id, source=source, heartbeat=heartbeat)


def exchange_clock(svc: Services) -> datetime:
    """The exchange's time, read now; refuses when the local clock is too far off it to execute safely."""
    now = svc.exchange_now(fresh=True)
    offset = svc.exchange.clock_offset_s
    bound = svc.settings.hyperliquid.max_clock_skew.total_seconds()
    if offset is not None and abs(offset) > bound:
        where = "behind" if offset > 0 else "ahead of"
        raise ClockSkewError(
            f"the local clock is {abs(offset):.1f}s {where} the exchange's (limit {bound:g}s, "
            "[hyperliquid] max_clock_skew): set the system clock right (NTP); nothing was sent"
        )
    return now


def _execute(
    svc: Services, plan: RebalancingPlan, cycle_id: str | None, *, source: str, heartbeat: bool
) -> ExecutionReport:
    """Under the account's lease: spend the token, re-check, run the executor, record the cycle.

    From the moment the token is spent, the plan always ends in a final state with a report: ``refused``
    (a gate said no; raised to the caller), ``failed`` (nothing sent) or ``incomplete`` (orders went out
    before the failure), even when the failure is the database itself (locked, disk full): the final
    write is retried, and a plan a dead writer left ``confirmed``/``executing`` is closed by the next one.
    """
    plan_id = plan.plan_id
    assert svc.executor is not None
    recover_stuck(svc)
    if not svc.store.plans.move(plan_id, "confirmed", expect="previewed"):  # single use
        raise ConfirmationError("this plan's token was already used")
    started = time.time()
    opened: str | None = None
    try:
        opened = _open_cycle(svc, plan, cycle_id, source)
        state, market = svc.observe()
        _check_unmoved(svc, plan, state, market)
        refused = refusal(svc, plan, heartbeat=heartbeat)
        if refused is not None:
            error, why = refused
            raise error(why)
    except (ConfirmationError, RiskLimitError, TradingPaused) as e:
        _end(svc, plan_id, opened, "refused", f"refused: {e}")
        svc.store.records.add_alert("refused", f"plan {plan_id} refused: {e}")
        raise
    except Exception as e:
        return _interrupted(svc, plan, opened, e, started)
    try:
        svc.store.plans.move(plan_id, "executing")
        svc.store.cycles.update(opened, status="executing")
        report = svc.executor.execute(plan)
    except Exception as e:
        return _interrupted(svc, plan, opened, e, started)
    status = f"executed:{report.status}"
    svc.store.plans.move(plan_id, status)
    if report.status not in ("dry-run", "paused", "failed"):
        svc.store.records.set("last_rebalance_at", svc.clock().isoformat())
    svc.store.cycles.finish(
        opened,
        status,
        _summary(report),
        value_after=_value_after(svc, report),
        orders=report.orders_sent,
        fills=len(svc.store.journal.fills(plan_id=plan_id)),
        estimated_cost_usd=report.estimated_cost_usd,
        realised_cost_usd=report.realised_cost_usd,
        detail=report.model_dump(mode="json"),
    )
    return report


def _interrupted(
    svc: Services, plan: RebalancingPlan, cycle_id: str | None, error: Exception, started: float
) -> ExecutionReport:
    """An error after the token was spent: a ``failed`` or ``incomplete`` report, recorded as durably as we can."""
    why = f"{type(error).__name__}: {safe(str(error))}"
    sent = _durably(lambda: svc.store.journal.count(plan_id=plan.plan_id, sent=True))
    status: ReportStatus = "incomplete" if sent else "failed"
    if sent is None:  # the journal cannot even be read: say so, and assume the worst
        status, sent = "incomplete", 0
    what = f"{sent} orders had been sent" if sent else "no order was sent"
    errors = [f"stopped by {why}; {what}"]
    report = build_report(
        plan, [], status, started, errors, {}, mode=svc.executor.mode if svc.executor else "live", finished=time.time()
    )
    report = report.model_copy(update={"orders_sent": sent or 0})
    recorded = _durably(
        lambda: _end(
            svc,
            plan.plan_id,
            cycle_id,
            status,
            f"{status}: {why}; {what}",
            orders=sent or 0,
            detail=report.model_dump(mode="json"),
        )
    )
    if recorded is None:
        report.errors.append(
            "the history database could not record this end (it will be closed as incomplete by the next execution)"
        )
    log.error("plan %s %s: %s", plan.plan_id, status, errors[0])
    return report


def _durably(write: Callable[[], T]) -> T | None:
    """Run a store call, retried a bounded number of times (a locked or full database may recover)."""
    for attempt in range(_FINAL_WRITE_TRIES):
        try:
            return write()
        except Exception as e:  # sqlite's OperationalError and friends; the store is the only one to write
            log.warning("recording the end of a plan failed (%s), try %d", e, attempt + 1)
            time.sleep(0.2 * 2**attempt)
    return None


def recover_stuck(svc: Services) -> list[str]:
    """Under the lease: close this account's plans a writer left ``confirmed``/``executing`` (it died, or its
    final write failed). No live writer holds them (we hold the account's lease), so they end ``incomplete``
    when any order went out, else ``failed``, and their cycles say so."""
    closed = []
    for stored in svc.store.plans.with_status(("confirmed", "executing"), account=svc.account):
        plan_id = stored.plan.plan_id
        sent = svc.store.journal.count(plan_id=plan_id, sent=True)
        status = "incomplete" if sent else "failed"
        cycle = svc.store.cycles.for_plan(plan_id)
        reason = f"{status}: its writer stopped before recording an end ({sent} orders had been sent)"
        _end(svc, plan_id, cycle["id"] if cycle else None, status, reason, orders=sent)
        log.warning("plan %s closed as %s: %s", plan_id, status, reason)
        closed.append(plan_id)
    return closed


def _open_cycle(svc: Services, plan: RebalancingPlan, cycle_id: str | None, source: str) -> str:
    if cycle_id is None:
        cycle_id = f"run-{plan.plan_id}"
        svc.store.cycles.start(
            cycle_id,
            started_at=svc.clock().isoformat(),
            trigger=source,
            source=source,
            autonomy="manual",
            status="confirmed",
            plan_id=plan.plan_id,
            target_source=plan.target_source,
            value_before=plan.summary.equity_usd,
            estimated_cost_usd=plan.estimated_cost.total_usd,
        )
    else:  # a heartbeat cycle (pending-confirm or auto): it moves on with its plan
        svc.store.cycles.update(
            cycle_id,
            status="confirmed",
            plan_id=plan.plan_id,
            source=source,
            estimated_cost_usd=plan.estimated_cost.total_usd,
            finished_at=None,
        )
    return cycle_id


def _end(svc: Services, plan_id: str, cycle_id: str | None, status: str, reason: str, **fields: Any) -> bool:
    svc.store.plans.move(plan_id, status, reason=reason)
    if cycle_id is not None:
        svc.store.cycles.finish(cycle_id, status, reason, **fields)
    return True


def _summary(report: ExecutionReport) -> str:
    if report.status == "dry-run":
        return f"dry-run: {len(report.actions)} order intents journaled, nothing sent"
    text = (
        f"{report.orders_sent} orders, ${report.notional_filled_usd:,.2f} filled, "
        f"cost ${report.realised_cost_usd:,.2f} (est. ${report.estimated_cost_usd:,.2f})"
    )
    return text + ("; " + "; ".join(report.errors) if report.errors else "")


def _value_after(svc: Services, report: ExecutionReport) -> float | None:
    try:
        state, market = svc.observe()
    except ExchangeError:
        return None  # the cycle keeps its value before; the next observation fills the history
    return state.equity(market)


def _check_unmoved(svc: Services, plan: RebalancingPlan, state: PortfolioState, market: Market) -> None:
    tol = svc.settings.mcp.state_tolerance
    equity = state.equity(market)
    before = plan.summary.equity_usd
    if before > 0 and abs(equity - before) / before > tol:
        raise ConfirmationError(
            f"the account moved since the preview: equity ${before:,.2f} → ${equity:,.2f} "
            f"(over {tol:.1%}); preview again"
        )
    weights = state.weights(market)
    for r in plan.rows:
        now = weights.get(r.coin, 0.0) if r.coin != CASH else weights.get(CASH, 0.0)
        if abs(now - r.current_weight) > tol:
            raise ConfirmationError(
                f"{r.coin} moved since the preview: {r.current_weight:.2%} → {now:.2%}; preview again"
            )

"""The executor: a ``RebalancingPlan`` → orders, journaled before they are sent, and a report.

Order of work (``Executor.execute``):

1. ``reconcile()`` first: every journal row left PENDING/SENT/UNKNOWN (a crash, a lost answer) is looked
   up by cloid and moved to its real state; a row the exchange never saw becomes ABANDONED (it is never
   sent under that cloid again). If any row stays unresolved (the lookup itself fails), nothing is sent.
2. No dead-man switch: ``scheduleCancel`` would cancel the user's own orders too, and our IOC orders
   never rest. Open orders that are not ours are left alone and named in the report.
3. Capital-freeing actions (reduce/close) are sent one by one as IOC limits; the limit is the plan's
   protected price, tightened to ``mid_now × (1 ± max_slippage_pct)`` when the mid has moved in our
   favour (never loosened). The kill switch is checked before *every* order.
4. The account is read again; capital-using actions (open/increase) are resized down (onto the size
   grid) to the cash really there: spot buys to free spot USDC, perp orders to perp withdrawable (1x
   margin, conservative), both net of taker fees and a small buffer. Under $10 → skipped and reported.
   Before the first open of an isolated-only perp, its leverage is set to isolated 1x (or the configured
   ``isolated_leverage``), journaled; a refusal skips that leg (``agent.services.trading.leverage``).
5. Outcomes: ``filled``; ``partial`` → the remainder is sent again as attempt + 1 (new cloid, same
   limit) up to ``max_attempts``; ``rejected`` → reported, not retried; an *unknown* outcome (timeout,
   lost answer, 429/5xx on /exchange) → ``orderStatus(cloid)``; if the exchange has never seen it, and
   the exchange's own clock (read before that lookup) is past the signed action's ``expiresAfter``, the
   row becomes ABANDONED and the order is sent as attempt + 1; if the lookup fails too, execution stops
   and the row stays UNKNOWN for reconcile. ``expiresAfter`` is set on the exchange's clock and journaled
   with the intent, so neither a skewed local clock nor a late delivery can let both copies fill.
6. Fills since the start are recorded (idempotent on tid) and give each order its fee.

Resuming: ``execute(plan)`` is idempotent over the journal. An action's attempts are counted from the
journal, and only ``plan size − already filled`` is sent, so running the same plan again after a crash
(after ``reconcile``) never trades an action twice. The CLI/heartbeat may instead re-plan from the fresh
account (single-use confirm tokens make that the normal path); both are safe.

Modes: ``live`` (the given exchange), ``paper`` (the given exchange is a paper exchange: the composition
wraps it), ``dry-run`` (intents are journaled as DRY_RUN, nothing is sent, nothing is read).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime
from typing import Literal

from agent.adapters.store.db import Store
from agent.adapters.store.journal import (
    ABANDONED,
    CANCELED,
    DRY_RUN,
    FILLED,
    PARTIAL,
    PENDING,
    REJECTED,
    RESTING,
    SENT,
    UNKNOWN,
    Journal,
    OrderRow,
)
from agent.adapters.store.leases import Lease, LeaseLost
from agent.core.costs import CostModel
from agent.core.domain import Market, PortfolioState, RebalancingPlan, TradeAction
from agent.core.errors import ExchangeError, OrderOutcomeUnknown
from agent.core.orders import OrderIntent, OrderResult, make_cloid
from agent.core.rules import MIN_ORDER_VALUE, protected_price, round_size_down
from agent.services.ports import TradePort
from agent.services.trading import fills, foreign, leverage, lookup
from agent.services.trading.reports import (
    ActionReport,
    ExecutionReport,
    ReconcileReport,
    ReportStatus,
    build_report,
    fill_in,
    overall_status,
)
from agent.services.trading.sizing import resize_to_cash

log = logging.getLogger(__name__)

ExecMode = Literal["live", "dry-run", "paper"]

_STATE_OF = {
    "filled": FILLED,
    "partial": PARTIAL,
    "resting": RESTING,
    "open": RESTING,
    "rejected": REJECTED,
    "canceled": CANCELED,
    "unknown": UNKNOWN,
}
_FREEING = ("reduce", "close")


class _Paused(Exception):
    pass


class _Stop(Exception):
    pass


def _ms(t: float) -> int:
    return int(t * 1000)


def _parse_iso(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


class Executor:
    """``Executor(exchange, store, mode=..., is_paused=..., max_slippage_pct=...)``; see the module doc."""

    def __init__(
        self,
        exchange: TradePort,
        store: Store,
        *,
        mode: ExecMode = "paper",
        is_paused: Callable[[], bool] | None = None,
        max_slippage_pct: float = 0.005,
        max_attempts: int = 3,
        min_order_value: float = MIN_ORDER_VALUE,
        cash_buffer_pct: float = 0.002,
        lookup_tries: int = 3,
        costs: CostModel | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        journal: Journal | None = None,
        isolated_leverage: int = 1,
    ) -> None:
        if mode not in ("live", "dry-run", "paper"):
            raise ValueError(f"mode must be live, dry-run or paper, not {mode!r}")
        self.exchange = exchange
        self.store = store
        self.journal = journal or store.journal
        self.mode = mode
        self.is_paused = is_paused or store.records.is_paused
        self.max_slippage_pct = max_slippage_pct
        self.max_attempts = max_attempts
        self.min_order_value = min_order_value
        self.cash_buffer_pct = cash_buffer_pct
        self.lookup_tries = lookup_tries
        self.costs = costs or CostModel()
        self.clock = clock
        self.sleep = sleep
        #: the leverage an isolated-only asset is set to before its first open (agent.services.trading.leverage)
        self.isolated_leverage = isolated_leverage
        #: the account's writer lease while an execution holds it (set by ``agent.services.trading.lease``)
        self.lease: Lease | None = None
        self.keep_lease: Callable[[], Lease] | None = None

    # ================================================================== execute
    def execute(self, plan: RebalancingPlan) -> ExecutionReport:
        started = self.clock()
        reports = [
            ActionReport(
                index=i, coin=a.coin, market=a.market, side=a.side, kind=a.kind, intended_sz=a.size, target_sz=a.size
            )
            for i, a in enumerate(plan.actions)
        ]
        errors: list[str] = []
        if self.mode == "dry-run":
            self._dry_run(plan, reports)
            return self._report(plan, reports, "dry-run", started, errors, {})
        rec = self.reconcile()
        if rec.unresolved:
            errors.append(f"journal has orders whose outcome is still unknown: {', '.join(rec.unresolved)}")
            return self._report(plan, reports, "failed", started, errors, rec.resolved)
        if not plan.actions:
            return self._report(plan, reports, "ok", started, errors, rec.resolved)
        if self.is_paused():
            for r in reports:
                r.state = "paused"
            errors.append("trading is paused (kill switch): nothing was sent")
            return self._report(plan, reports, "paused", started, errors, rec.resolved)
        status: ReportStatus | None = None
        foreign = self._foreign_orders()
        try:
            market = self.exchange.market()
            freeing = [i for i, a in enumerate(plan.actions) if a.kind in _FREEING]
            using = [i for i, a in enumerate(plan.actions) if a.kind not in _FREEING]
            for i in freeing:
                self._run_action(plan, i, plan.actions[i], plan.actions[i].size, market, reports[i])
            if using:
                state = self.exchange.account_state()
                market = self.exchange.market()
                targets = resize_to_cash(
                    plan,
                    using,
                    state,
                    market,
                    reports,
                    done=lambda i: sum(r.filled_sz for r in self.journal.rows(plan_id=plan.plan_id, action_index=i)),
                    limit=lambda a: self._limit(a, market),
                    fee_rate=lambda market_type: self.costs.fee_rate(market_type) + self.cash_buffer_pct,
                    min_order_value=self.min_order_value,
                )
                for i in using:
                    if targets[i] > 0 and not self._isolated_refused(plan, i, market, state, reports[i]):
                        self._run_action(plan, i, plan.actions[i], targets[i], market, reports[i])
        except _Paused:
            status = "paused"
            errors.append("trading paused (kill switch) during execution: the remaining orders were not sent")
            for r in reports:
                if r.state == "not_sent":
                    r.state = "paused"
        except _Stop as exc:
            status = "failed"
            errors.append(str(exc))
        except ExchangeError as exc:
            status = "failed"
            errors.append(f"{type(exc).__name__}: {exc}")
        finally:
            self._sync_fills(_ms(started) - 5_000, errors)
        fill_in(plan, reports, self.journal, self.costs)
        if status is None:
            status = overall_status(reports)
        report = self._report(plan, reports, status, started, errors, rec.resolved)
        return report.model_copy(update={"notes": [foreign] if foreign else []})

    def _dry_run(self, plan: RebalancingPlan, reports: list[ActionReport]) -> None:
        for i, a in enumerate(plan.actions):
            rows = self.journal.rows(plan_id=plan.plan_id, action_index=i)
            attempt = max((r.attempt for r in rows), default=0) + 1
            intent = self._intent(plan, i, a, attempt, a.size, a.limit_px)
            self.journal.intend(plan.plan_id, i, attempt, intent, mode="dry-run")
            self.journal.mark(intent.cloid, DRY_RUN, detail="dry-run: not sent")
            reports[i].state = "dry-run"
            reports[i].cloids.append(intent.cloid)

    # ================================================================== one action
    def _intent(
        self,
        plan: RebalancingPlan,
        index: int,
        a: TradeAction,
        attempt: int,
        size: float,
        limit: float,
        expires_after_ms: int | None = None,
    ) -> OrderIntent:
        return OrderIntent(
            expires_after_ms=expires_after_ms,
            cloid=make_cloid(plan.plan_id, index, attempt),
            asset=a.asset,
            wire_name=a.wire_name or a.coin,
            coin=a.coin,
            is_buy=a.side == "buy",
            size=size,
            limit_px=limit,
            reduce_only=a.reduce_only,
            tif="Ioc",
            sz_decimals=a.sz_decimals,
        )

    def _name_lots(self, a: TradeAction, cloid: str, done: float, size: float) -> None:
        """A spot sell that names its lots records them under its cloid before the intent (and the signature):
        the part of the plan's lots not consumed by earlier attempts, up to this order's size."""
        if not a.lots:
            return
        picks, skip, need = [], done, size
        for lot, q in a.lots:
            take = max(0.0, q - skip)
            skip = max(0.0, skip - q)
            if take > 0 and need > 1e-12:
                picks.append((lot, min(take, need)))
                need -= min(take, need)
        if picks:
            self.store.tax.choose("", cloid, a.lots_asset or a.coin, picks)

    def _limit(self, a: TradeAction, market: Market) -> float:
        """The plan's protected price, tightened toward the current mid (never loosened)."""
        info = market.get(a.coin)
        if info is None:
            return a.limit_px
        bound = protected_price(info.mid, a.side == "buy", self.max_slippage_pct, a.market, a.sz_decimals)
        return min(a.limit_px, bound) if a.side == "buy" else max(a.limit_px, bound)

    def _small_ok(self, a: TradeAction) -> bool:
        """A reduce-only perp close may be under $10 (the exchange allows closing a whole position)."""
        return a.market == "perp" and a.reduce_only and a.kind == "close"

    def _run_action(
        self, plan: RebalancingPlan, index: int, a: TradeAction, target: float, market: Market, rep: ActionReport
    ) -> None:
        rows = self.journal.rows(plan_id=plan.plan_id, action_index=index)
        done = sum(r.filled_sz for r in rows)
        attempt = max((r.attempt for r in rows), default=0) + 1
        remaining = round_size_down(max(0.0, target - done), a.sz_decimals)
        limit = self._limit(a, market)
        tries = 0
        if remaining <= 0:
            rep.note = "already done (journal)" if rows else rep.note
        while remaining > 0 and tries < self.max_attempts:
            if remaining * limit < self.min_order_value and not self._small_ok(a):
                rep.note = f"remainder {remaining} under the ${self.min_order_value:g} minimum"
                break
            if self.is_paused():
                raise _Paused
            self._keep_lease()
            intent = self._intent(plan, index, a, attempt, remaining, limit, self._expiry())
            mode = "paper" if self.mode == "paper" else "live"
            self._name_lots(a, intent.cloid, done, remaining)
            self.journal.intend(plan.plan_id, index, attempt, intent, mode=mode, lease=self.lease)
            self.journal.mark(intent.cloid, SENT)
            rep.cloids.append(intent.cloid)
            rep.attempts += 1
            rep.sent_sz += remaining
            try:
                result = self.exchange.place_orders([intent])[0]
            except OrderOutcomeUnknown as exc:
                self.journal.mark(intent.cloid, UNKNOWN, error=str(exc))
                found = self._resolve(intent.cloid, intent.expires_after_ms)
                if found is None:
                    self.journal.mark(intent.cloid, ABANDONED, error=f"not at the exchange after: {exc}")
                    rep.error = str(exc)
                    attempt += 1
                    tries += 1
                    continue
                if found.status == "unknown":
                    rep.state = "unknown"
                    rep.error = f"outcome unknown: {exc}"
                    raise _Stop(f"{a.coin}: order {intent.cloid} outcome unknown ({exc}); stopped, reconcile") from None
                result = found
            except ExchangeError as exc:  # a definite refusal of the request (e.g. HTTP 4xx)
                self.journal.mark(intent.cloid, REJECTED, error=str(exc))
                rep.error = str(exc)
                break
            self._record(intent.cloid, result)
            if result.status in ("resting", "open"):
                self._cancel_resting(intent, result)
            if result.error:
                rep.error = result.error
            remaining = round_size_down(max(0.0, remaining - result.filled_sz), a.sz_decimals)
            if result.status == "filled" or result.filled_sz <= 0:
                break
            attempt += 1
            tries += 1

    def _isolated_refused(
        self, plan: RebalancingPlan, i: int, market: Market, state: PortfolioState, rep: ActionReport
    ) -> bool:
        """Before the first open of an isolated-only perp, set its leverage (agent.services.trading.leverage);
        True when that was refused: the leg is skipped with the reason."""
        a, info = plan.actions[i], market.get(plan.actions[i].coin)
        if self.mode != "live" or info is None or not leverage.needs_isolated_leverage(a, info, state):
            return False
        if self.is_paused():
            raise _Paused
        records, lev = self.store.records, self.isolated_leverage
        why = leverage.set_isolated_leverage(self.exchange, records, plan.plan_id, i, a, info, lev)
        if why is not None:
            rep.state, rep.note = "skipped", why
        return why is not None

    def _keep_lease(self) -> None:
        """Renew the account's lease before an order; stop when another writer has taken it."""
        if self.keep_lease is None:
            return
        try:
            self.lease = self.keep_lease()
        except LeaseLost as exc:
            raise _Stop(str(exc)) from None

    def _record(self, cloid: str, result: OrderResult) -> OrderRow:
        return self.journal.mark(
            cloid,
            _STATE_OF[result.status],
            oid=result.oid,
            filled_sz=result.filled_sz,
            avg_px=result.avg_px,
            error=result.error,
        )

    def _cancel_resting(self, intent: OrderIntent, result: OrderResult) -> None:
        """An IOC should never rest; if one does, cancel it and record what it became."""
        try:
            self.exchange.cancel_by_cloid(intent.coin, intent.cloid)
            after = self.exchange.order_status(intent.cloid)
        except ExchangeError as exc:
            log.warning("could not cancel resting order %s: %s", intent.cloid, exc)
            return
        if after is not None and after.status not in ("resting", "open"):
            self._record(intent.cloid, after)

    def _expiry(self) -> int | None:
        return lookup.expiry(self.exchange)

    def _resolve(self, cloid: str, expires_after_ms: int | None) -> OrderResult | None:
        return lookup.resolve(self.exchange, cloid, expires_after_ms, tries=self.lookup_tries, sleep=self.sleep)

    # ================================================================== capital
    # ================================================================== reconcile
    def reconcile(self) -> ReconcileReport:
        """Resolve every open journal row (PENDING/SENT/UNKNOWN) of this mode by cloid.

        PENDING rows were never sent (SENT is committed before the send), but they are looked up too;
        a row the exchange does not know becomes ABANDONED ("never reached the exchange") and is never
        sent under that cloid; the caller re-plans or re-runs the plan (which sends attempt + 1).
        """
        rep = ReconcileReport()
        if self.mode == "dry-run":
            return rep
        mode = "paper" if self.mode == "paper" else "live"
        rows = self.journal.open_rows(mode=mode) + self.journal.rows(states=[RESTING], mode=mode)
        earliest: float | None = None
        for row in rows:
            rep.checked += 1
            sent_at = _parse_iso(row.updated_at)
            earliest = sent_at if earliest is None else min(earliest, sent_at)
            # PENDING was never sent (SENT is committed before the send): no expiry to wait for.
            expires = None if row.state == PENDING else lookup.row_expiry(self.exchange, row, self.clock)
            found = self._resolve(row.cloid, expires)
            if found is None:
                if row.state == RESTING:
                    rep.unresolved.append(row.cloid)
                    continue
                self.journal.mark(row.cloid, ABANDONED, error="never reached the exchange (reconcile)")
                rep.resolved[row.cloid] = ABANDONED
            elif found.status == "unknown":
                if row.state != UNKNOWN:
                    if row.state == PENDING:
                        self.journal.mark(row.cloid, SENT, detail="reconcile")
                    self.journal.mark(row.cloid, UNKNOWN, error=found.error)
                rep.unresolved.append(row.cloid)
            else:
                if row.state == PENDING:
                    self.journal.mark(row.cloid, SENT, detail="reconcile: found at the exchange")
                self._record(row.cloid, found)
                rep.resolved[row.cloid] = _STATE_OF[found.status]
        if earliest is not None:
            self._sync_fills(_ms(earliest) - 60_000, [])
        return rep

    # ================================================================== bookkeeping
    def _foreign_orders(self) -> str | None:
        """A note naming the open orders that are not ours: left alone, no dead-man switch (trading.foreign)."""
        try:
            return foreign.note(foreign.not_ours(self.exchange, self.journal))
        except ExchangeError:
            return None

    def _sync_fills(self, since_ms: int, errors: list[str]) -> None:
        fills.sync(self.exchange, self.journal, since_ms, errors)

    def _report(
        self,
        plan: RebalancingPlan,
        reports: list[ActionReport],
        status: ReportStatus,
        started: float,
        errors: list[str],
        reconciled: dict[str, str],
    ) -> ExecutionReport:
        return build_report(plan, reports, status, started, errors, reconciled, mode=self.mode, finished=self.clock())

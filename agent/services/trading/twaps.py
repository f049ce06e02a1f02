"""TWAP legs: sent as one native ``twapOrder``, journaled like any order, followed until they end.

The journal row of a TWAP is an ordinary order row (deterministic cloid per plan, action and attempt,
committed PENDING before the send, then SENT) whose SENT event says ``twapOrder`` and whose ``oid`` is
the exchange's ``twapId``. While the TWAP runs the row is RESTING with what has executed so far; it ends
FILLED (all executed), PARTIAL or CANCELED (terminated early: the executed part is kept).

Followed by polling ``twapHistory`` every ``poll_s`` (the lease renewed and the kill switch read each
time: a pause cancels the TWAP with ``twapCancel``). After a crash, ``reconcile`` finds the TWAP by its id,
or, when the id was never read, by coin, side, size and start time; a TWAP still running is cancelled by
its id (``twapCancel``) and its executed part kept, since nothing says the dead-man switch stopped it and
the plan it belonged to is stale (the resumed plan sends what is left as a new attempt); one the exchange
never saw becomes ABANDONED once the signed action's ``expiresAfter`` passed.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Protocol

from agent.adapters.store.journal import (
    ABANDONED,
    CANCELED,
    FILLED,
    PARTIAL,
    REJECTED,
    RESTING,
    SENT,
    UNKNOWN,
    Journal,
    OrderRow,
)
from agent.core.domain import Market, RebalancingPlan, TradeAction
from agent.core.errors import ExchangeError, OrderOutcomeUnknown
from agent.core.orders import OrderIntent
from agent.core.rules import round_size_down
from agent.services.trading import foreign, lookup
from agent.services.trading.deadman import DeadManSwitch
from agent.services.trading.executor import Executor, _Paused, _Stop
from agent.services.trading.reports import ActionReport, ExecutionReport, ReconcileReport
from agent.services.trading.retries import retry_kind

MARK = "twapOrder"


class TwapPort(Protocol):
    order_ttl_s: float | None

    def server_time_ms(self, *, fresh: bool = False) -> int: ...

    def place_twap(self, intent: OrderIntent, minutes: int) -> Any: ...

    def twap_status(self, twap_id: int) -> Any: ...

    def find_twap(self, coin: str, is_buy: bool, size: float, since_ms: int) -> Any: ...

    def cancel_twap(self, asset: int, twap_id: int) -> bool: ...


def supports_twap(exchange: object) -> bool:
    return all(hasattr(exchange, m) for m in ("place_twap", "twap_status", "find_twap", "cancel_twap"))


class TwapSender:
    """``TwapSender(exchange, journal, ...)``: send, follow, reconcile and cancel TWAP legs."""

    def __init__(
        self,
        exchange: TwapPort,
        journal: Journal,
        *,
        is_paused: Callable[[], bool],
        keep_lease: Callable[[], None],
        clock: Callable[[], float],
        sleep: Callable[[float], None],
        poll_s: float = 5.0,
        deadman: DeadManSwitch | None = None,
    ) -> None:
        self.deadman = deadman
        self.exchange = exchange
        self.journal = journal
        self.is_paused = is_paused
        self.keep_lease = keep_lease
        self.clock = clock
        self.sleep = sleep
        self.poll_s = poll_s

    def is_twap(self, row: OrderRow) -> bool:
        return any(MARK in (e.get("detail") or "") for e in self.journal.events(row.cloid))

    # ------------------------------------------------------------------ send
    def send(self, cloid: str, intent: OrderIntent, a: TradeAction) -> str:
        """Send a journaled (PENDING) TWAP and follow it; returns the row's final state ("paused" if cancelled
        for the kill switch)."""
        minutes = int(a.twap_minutes or 0)
        if self.deadman is not None:
            self.deadman.arm()  # while our TWAP runs (never with foreign open orders: see deadman.py)
        self.journal.mark(cloid, SENT, detail=f"{MARK} {minutes} min")
        try:
            status = self.exchange.place_twap(intent, minutes)
        except OrderOutcomeUnknown as exc:
            self.journal.mark(cloid, UNKNOWN, error=str(exc))
            found = self.exchange.find_twap(intent.coin, intent.is_buy, intent.size, int((self.clock() - 60) * 1000))
            if found is None:
                return UNKNOWN  # reconcile decides once expiresAfter has passed
            status = found
        except ExchangeError as exc:
            self.journal.mark(cloid, REJECTED, error=str(exc))
            return REJECTED
        if status.state == "rejected":
            self.journal.mark(cloid, REJECTED, error=status.error)
            return REJECTED
        self.journal.mark(cloid, RESTING, oid=status.twap_id, detail=f"{MARK} running")
        return self.follow(cloid, intent.asset, status.twap_id)

    # ------------------------------------------------------------------ follow
    def follow(self, cloid: str, asset: int, twap_id: int) -> str:
        while True:
            status = self.exchange.twap_status(twap_id)
            if status is not None and status.state != "running":
                if self.deadman is not None:
                    self.deadman.disarm()
                return self._end(cloid, status)
            if status is not None:
                self.journal.mark(cloid, RESTING, filled_sz=status.executed_sz, avg_px=status.avg_px)
            if self.is_paused():
                self.exchange.cancel_twap(asset, twap_id)
                final = self.exchange.twap_status(twap_id)
                if final is not None and final.state != "running":
                    self._end(cloid, final)
                return "paused"
            self.keep_lease()
            if self.deadman is not None:
                self.deadman.extend()
            self.sleep(self.poll_s)

    def _end(self, cloid: str, status: Any) -> str:
        row = self.journal.get(cloid)
        size = row.size if row else 0.0
        state = FILLED if status.executed_sz >= size - 1e-9 else (PARTIAL if status.state == "finished" else CANCELED)
        detail = json.dumps({"twap": status.state, "executed": status.executed_sz})
        self.journal.mark(cloid, state, filled_sz=status.executed_sz, avg_px=status.avg_px, detail=detail)
        return state

    # ------------------------------------------------------------------ reconcile
    def stop(self, cloid: str, asset: int, twap_id: int) -> str | None:
        """Cancel a TWAP a dead run left (by its id) and record what it executed; None while it still runs."""
        status = self.exchange.twap_status(twap_id)
        if status is not None and status.state == "running":
            try:
                self.exchange.cancel_twap(asset, twap_id)
            except ExchangeError:
                return None  # still running as far as we know: stays unresolved, nothing new is sent
            self.journal.mark(cloid, RESTING, detail=f"{MARK} cancelled by id (reconcile)")
            status = self.exchange.twap_status(twap_id)
        if status is None or status.state == "running":
            return None
        return self._end(cloid, status)

    def reconcile(self, row: OrderRow) -> str | None:
        """Resolve one TWAP row after a crash: its final state, or None while its outcome is unknown.
        A TWAP still running is cancelled by its id (see the module doc)."""
        if row.oid is not None:
            return self.stop(row.cloid, row.asset, row.oid)
        since = _created_ms(row) - 60_000
        # the exchange's clock, read before the lookup, decides "never arrived" (agent.services.trading.lookup)
        expires = lookup.row_expiry(self.exchange, row, self.clock)
        now = self.exchange.server_time_ms(fresh=True) if expires is not None else None
        found = self.exchange.find_twap(row.coin, row.side == "buy", row.size, since)
        if found is None:
            if now is not None and expires is not None and now > expires:
                self.journal.mark(row.cloid, ABANDONED, error="TWAP never reached the exchange (reconcile)")
                return ABANDONED
            return None
        if row.state not in (RESTING,):
            self.journal.mark(row.cloid, RESTING, oid=found.twap_id, detail=f"{MARK} found (reconcile)")
        return self.stop(row.cloid, row.asset, found.twap_id)


class TwapExecutor(Executor):
    """The executor with native TWAP legs: an action whose ``order_type`` is ``"twap"`` goes out as one
    ``twapOrder`` (live mode, on an exchange that offers it; otherwise as the executor's IOC orders), and
    ``reconcile`` resolves TWAP rows by twapId before anything else (they have no cloid to look up)."""

    def __init__(
        self,
        exchange: Any,
        store: Any,
        *,
        poll_s: float = 5.0,
        ioc_retries: int = 2,
        retry_wait_s: float = 1.0,
        **kw: Any,
    ) -> None:
        super().__init__(exchange, store, **kw)
        self.ioc_retries = ioc_retries
        self.retry_wait_s = retry_wait_s

        def has_foreign() -> bool:  # checked again at every extension of the dead-man switch
            return bool(foreign.not_ours(exchange, self.journal))

        self.deadman = (
            DeadManSwitch(exchange, store.records, self.clock, has_foreign_orders=has_foreign)
            if self.mode == "live"
            else None
        )
        self.twaps = (
            TwapSender(
                exchange,
                self.journal,
                is_paused=lambda: self.is_paused(),
                keep_lease=self._keep_lease,
                clock=self.clock,
                sleep=self.sleep,
                poll_s=poll_s,
                deadman=self.deadman,
            )
            if self.mode == "live" and supports_twap(exchange)
            else None
        )

    def _run_action(
        self, plan: RebalancingPlan, index: int, a: TradeAction, target: float, market: Market, rep: ActionReport
    ) -> None:
        if a.order_type != "twap" or self.twaps is None:
            super()._run_action(plan, index, a, target, market, rep)
            for _ in range(self.ioc_retries if self.mode != "dry-run" else 0):
                rows = self.journal.rows(plan_id=plan.plan_id, action_index=index)
                kind = retry_kind(rows[-1].error) if rows and rows[-1].state == REJECTED else None
                if kind is None:
                    break
                self.sleep(self.retry_wait_s if kind == "upgrade" else 0.0)
                rep.note = f"retried after: {rows[-1].error}"
                super()._run_action(plan, index, a, target, self.exchange.market(), rep)
            return None
        rows = self.journal.rows(plan_id=plan.plan_id, action_index=index)
        attempt = max((r.attempt for r in rows), default=0) + 1
        remaining = round_size_down(max(0.0, target - sum(r.filled_sz for r in rows)), a.sz_decimals)
        if remaining <= 0:
            rep.note = "already done (journal)" if rows else rep.note
            return None
        if self.is_paused():
            raise _Paused
        self._keep_lease()
        intent = self._intent(plan, index, a, attempt, remaining, a.limit_px, self._expiry())
        self._name_lots(a, intent.cloid, sum(r.filled_sz for r in rows), remaining)
        self.journal.intend(plan.plan_id, index, attempt, intent, mode="live", lease=self.lease)
        rep.cloids.append(intent.cloid)
        rep.attempts += 1
        rep.sent_sz += remaining
        state = self.twaps.send(intent.cloid, intent, a)
        rep.note = f"TWAP over {a.twap_minutes} min: {state.lower()}"
        if state == "paused":
            raise _Paused
        if state == UNKNOWN:
            rep.state = "unknown"
            raise _Stop(f"{a.coin}: TWAP {intent.cloid} outcome unknown; stopped, reconcile")
        return None

    def execute(self, plan: RebalancingPlan) -> ExecutionReport:
        """The executor's run; the dead-man switch is never left armed after it (see agent.services.trading.deadman)."""
        notes: list[str] = []
        if self.deadman is not None:
            self.deadman.note_fired()
            if any(a.order_type == "twap" for a in plan.actions) and self._foreign_orders():
                self.deadman.refuse("the account has open orders that are not ours")
                notes.append("dead-man switch not armed during the TWAPs: it would cancel those orders too")
        try:
            report = super().execute(plan)
        finally:
            if self.deadman is not None:
                self.deadman.disarm()
        if self.deadman is not None and not notes and self.deadman.why_not and "appeared" in self.deadman.why_not:
            notes.append(f"dead-man switch disarmed during the TWAPs: {self.deadman.why_not}")
        return report.model_copy(update={"notes": [*report.notes, *notes]}) if notes else report

    def reconcile(self) -> ReconcileReport:
        if self.twaps is None:
            return super().reconcile()
        rows = self.journal.open_rows(mode="live") + self.journal.rows(states=[RESTING], mode="live")
        resolved: dict[str, str] = {}
        unresolved: list[str] = []
        for row in rows:
            if self.twaps.is_twap(row):
                final = self.twaps.reconcile(row)
                if final is None or final == "paused":
                    unresolved.append(row.cloid)
                else:
                    resolved[row.cloid] = final
        if unresolved:  # never let the cloid lookup abandon a TWAP that may be running
            return ReconcileReport(checked=len(resolved) + len(unresolved), resolved=resolved, unresolved=unresolved)
        rep = super().reconcile()
        rep.resolved.update(resolved)
        rep.checked += len(resolved)
        return rep


def _created_ms(row: OrderRow) -> int:
    from datetime import datetime

    return int(datetime.fromisoformat(row.created_at).timestamp() * 1000)

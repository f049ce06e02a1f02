"""The autonomous loop: observe → triggers → target → plan → gates → act by autonomy level.

Autonomy levels:
- ``advise``: record the plan (with no token) and alert; never trade (the manual mode).
- ``confirm``: store a pending plan with a confirm token (valid for one interval); a person confirms it
  from the CLI (``rebalancer execute PLAN_ID --confirm TOKEN``) or MCP (``execute_rebalance``), and the
  tick's cycle moves to ``executed:…`` when it runs.
- ``auto``: execute within the heartbeat's own caps (notional per tick and per day, trades per tick).

The target follows the one rule of :mod:`agent.services.trading.targets`; when only the strategist can give one,
every triggered tick asks it afresh. The gates are the services' own: preview refuses a paused account or
a risk breach before any token exists.

A tick is idempotent: its id is the schedule slot (``hb-<autonomy>-YYYYmmddTHHMMSS``); a finished slot is
skipped, and a slot whose plan already sent orders is only reconciled on restart, never acted on twice.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np

from agent.adapters.alerts import Alerter
from agent.core.domain import Market, PortfolioState, RebalancingPlan, TargetAllocation
from agent.core.errors import AccountBusy, RebalancerError, RiskLimitError, StrategistFailedClosed, TradingPaused
from agent.core.planner import portfolio_drift
from agent.services.trading import guards, planning
from agent.services.trading.lease import writer
from agent.services.trading.targets import choose, configured_or_stored

if TYPE_CHECKING:
    from agent.services.app import Services
    from agent.services.config import Settings

log = logging.getLogger("rebalancer.heartbeat")

AUTONOMY = ("advise", "confirm", "auto")


def may_create_store(settings: Settings, autonomy: str | None) -> bool | None:
    """An autonomous heartbeat never creates its database: on a mistyped path it would trade without the
    kill switch and the day's traded total. Otherwise the usual rule (``runtime.open_store``) holds."""
    return False if (autonomy or settings.heartbeat.autonomy) == "auto" else None


@dataclass
class TickResult:
    cycle_id: str
    status: str
    reason: str
    plan_id: str | None = None
    confirm_token: str | None = None
    execution: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


class Heartbeat:
    """``Heartbeat(services, autonomy="advise", interval=timedelta(hours=4))``; ``tick()`` or ``run(stop)``."""

    def __init__(
        self,
        services: Services,
        *,
        autonomy: str | None = None,
        interval: timedelta | None = None,
        source: str = "heartbeat",
    ) -> None:
        cfg = services.settings.heartbeat
        self.services = services
        self.source = source  # the cycle's source in the history ("temporal" for a Temporal tick)
        self.autonomy = autonomy or cfg.autonomy
        if self.autonomy not in AUTONOMY:
            raise RebalancerError(f"autonomy must be advise, confirm or auto, not {self.autonomy!r}")
        self.interval = interval or cfg.interval
        self.alerts = Alerter(
            services.store, cooldown=cfg.alert_cooldown, webhook_url=cfg.webhook_url, clock=services.clock
        )

    def slot_start(self, now: datetime) -> datetime:
        step = self.interval.total_seconds()
        return datetime.fromtimestamp(math.floor(now.timestamp() / step) * step, UTC)

    def slot_id(self, now: datetime) -> str:
        # One tick per slot and autonomy level: a restart inside the slot never acts twice; switching
        # the level is a person's deliberate act (a stale pending plan is then refused as "moved").
        return f"hb-{self.autonomy}-" + self.slot_start(now).strftime("%Y%m%dT%H%M%S")

    def next_tick_at(self, now: datetime) -> datetime:
        return self.slot_start(now) + self.interval

    # -- one tick ---------------------------------------------------------------------------------

    def tick(self) -> TickResult:
        """One tick, holding the account's lease (a second heartbeat in the same slot waits, then skips)."""
        svc = self.services
        try:
            with svc.question(), writer(svc.context, f"heartbeat {self.autonomy}"):  # one read of each thing per tick
                return self._tick()
        except AccountBusy as e:
            cycle_id = self.slot_id(svc.clock())
            return TickResult(cycle_id, "busy", str(e))

    def _tick(self) -> TickResult:
        svc = self.services
        now = svc.clock()
        cycle_id = self.slot_id(now)
        if svc.executor is not None and svc.executor.mode != "dry-run":
            svc.executor.reconcile()  # under the lease: only orders no live writer holds
        existing = svc.store.cycles.get(cycle_id)
        if existing and existing["finished_at"]:
            return TickResult(cycle_id, "skipped", f"this slot already ran ({existing['status']})")
        if existing and existing["plan_id"] and svc.store.journal.count(plan_id=existing["plan_id"]):
            # A restart mid-tick after orders went out: the executor reconciled the journal at start-up;
            # acting again could double the trades.
            reason = "restarted after orders were sent; reconciled, not re-sent"
            svc.store.cycles.finish(cycle_id, "recovered", reason)
            return TickResult(cycle_id, "recovered", "reconciled after a restart; no new orders")
        if not existing:
            svc.store.cycles.start(
                cycle_id, started_at=now.isoformat(), trigger="heartbeat", source=self.source, autonomy=self.autonomy
            )
        try:
            result = self._run(cycle_id)
        except RebalancerError as e:
            self.alerts.send("error", f"{cycle_id}: {e}")
            self._finish(cycle_id, "error", str(e))
            return TickResult(cycle_id, "error", str(e))
        svc.store.cycles.fill_returns()
        return result

    def _finish(self, cycle_id: str, status: str, reason: str, **fields: Any) -> TickResult:
        self.services.store.cycles.finish(cycle_id, status, reason, **fields)
        return TickResult(cycle_id, status, reason, plan_id=fields.get("plan_id"))

    def _run(self, cycle_id: str) -> TickResult:
        svc = self.services
        state, market = svc.observe()
        equity = state.equity(market)
        svc.store.cycles.update(cycle_id, value_before=equity)
        found = configured_or_stored(svc)
        planned: list[RebalancingPlan] = []  # the plan the triggers made, used again below: one plan per tick
        triggers = self.triggers(state, market, equity, found.target if found else None, planned=planned)
        if not triggers:
            return self._finish(
                cycle_id, "no-trigger", "no trigger: drift within thresholds, calendar not due, no risk event"
            )
        why = "; ".join(triggers)
        try:
            chosen = found or choose(svc, state=state, market=market, cycle_id=cycle_id, fresh=True)
        except StrategistFailedClosed as e:
            self.alerts.send("decide-failed", str(e))
            return self._finish(cycle_id, "decide-failed", str(e))
        svc.store.cycles.update(cycle_id, target_source=chosen.source)
        plan = planned[0].model_copy(update={"target_source": found.source}) if planned and found else None
        if plan is None:
            plan = planning.plan(svc, None, heartbeat=True, state=state, market=market, cycle_id=cycle_id)
        if not plan.actions:
            return self._finish(cycle_id, "in-band", f"{why}; {plan.reason}")
        summary = (
            f"{len(plan.actions)} trades, turnover ${plan.summary.turnover_usd:,.2f}, "
            f"est. cost ${plan.estimated_cost.total_usd:,.2f}; {why}"
        )
        if self.autonomy == "advise":
            advice = planning.advise(svc, plan, cycle_id=cycle_id)
            self.alerts.send("advice", f"rebalance advised ({advice.plan_id}): {summary}")
            return self._finish(cycle_id, "advised", summary, plan_id=advice.plan_id)
        if self.autonomy == "auto" and (refusal := key_refusal(svc)):
            self.alerts.send("risk", f"{cycle_id}: {refusal}")
            return self._finish(cycle_id, "risk-refused", refusal)
        try:
            pending = svc.preview(
                None,
                source=f"{self.source}-{self.autonomy}",
                cycle_id=cycle_id,
                heartbeat=True,
                ttl=min(self.interval, svc.settings.heartbeat.confirm_ttl) if self.autonomy == "confirm" else None,
                state=state,
                market=market,
                planned=plan,
            )
        except TradingPaused:
            return self._finish(cycle_id, "paused", f"trading paused; would have: {summary}")
        except RiskLimitError as e:
            self.alerts.send("risk", f"{cycle_id}: {e}")
            return self._finish(cycle_id, "risk-refused", str(e))
        if self.autonomy == "confirm":
            token = pending.confirm_token or ""
            # The token goes only to the person's terminal (the TickResult); the database and the webhook get the
            # plan id and what to run, never a usable token.
            self.alerts.send(
                "confirm",
                f"rebalance pending: plan {pending.plan_id} ({summary}). To execute: rebalancer execute "
                f"{pending.plan_id} --confirm <the token the heartbeat printed>, or preview again for a new one",
            )
            self._finish(cycle_id, "pending-confirm", summary, plan_id=pending.plan_id)
            return TickResult(cycle_id, "pending-confirm", summary, plan_id=pending.plan_id, confirm_token=token)
        svc.store.cycles.update(cycle_id, plan_id=pending.plan_id)
        report = svc.execute(pending.plan_id, pending.confirm_token or "", source=self.source, heartbeat=True)
        status = f"executed:{report.status}"
        self.alerts.send("executed", f"auto rebalance {pending.plan_id}: {report.status}; {summary}")
        return TickResult(cycle_id, status, summary, plan_id=pending.plan_id, execution=report.model_dump(mode="json"))

    def triggers(
        self,
        state: PortfolioState,
        market: Market,
        equity: float,
        target: TargetAllocation | None,
        *,
        planned: list[RebalancingPlan] | None = None,
    ) -> list[str]:
        """Why this tick should consider a rebalance (empty: it should not). The plan the drift is read from
        is appended to ``planned`` (the tick acts on that same plan)."""
        svc = self.services
        out: list[str] = []
        cfg = svc.settings
        if target is not None:
            plan = planning.plan(svc, target, heartbeat=True, state=state, market=market)
            if planned is not None:
                planned.append(plan)
            w = {r.coin: r.current_weight for r in plan.rows}
            t = {r.coin: r.target_weight for r in plan.rows}
            coins = [c for c in w if c != "USDC"]
            drift = portfolio_drift(np.array([w[c] for c in coins]), np.array([t[c] for c in coins]))
            worst = max((abs(w[c] - t[c]) for c in coins), default=0.0)
            if drift >= cfg.rebalance.portfolio_threshold:
                out.append(f"portfolio drift {drift:.1%} ≥ {cfg.rebalance.portfolio_threshold:.1%}")
            if worst >= cfg.rebalance.position_threshold:
                out.append(f"a position drifted {worst:.1%} ≥ {cfg.rebalance.position_threshold:.1%}")
        else:
            out.append("no target configured or stored: ask the strategist")
        last = svc.store.records.get("last_rebalance_at")
        due = timedelta(days=cfg.rebalance.calendar_days)
        if last is None or svc.clock() - datetime.fromisoformat(last) >= due:
            out.append(f"calendar: {cfg.rebalance.calendar_days}-day rebalance due")
        peak = max(float(svc.store.records.get("peak_equity", 0.0)), equity)
        svc.store.records.set("peak_equity", peak)
        if peak > 0 and (peak - equity) / peak >= cfg.heartbeat.drawdown_alert:
            msg = f"drawdown {(peak - equity) / peak:.1%} from peak ${peak:,.2f}"
            out.append(msg)
            self.alerts.send("drawdown", msg)
        try:
            corr = guards.correlation_breach(svc.context, state, market)
        except RebalancerError as e:  # no history is not a tick failure
            log.info("no correlation check: %s", e)
            corr = None
        if corr is not None:
            out.append(corr)
            self.alerts.send("correlation", corr)
        if cfg.limits.max_weight is not None:
            for coin, wt in state.weights(market).items():
                if coin != "USDC" and abs(wt) > cfg.limits.max_weight + 1e-4:
                    out.append(f"{coin} at {wt:.1%} is over the max weight {cfg.limits.max_weight:.1%}")
        return out

    # -- loop -------------------------------------------------------------------------------------

    def run(
        self,
        stop: threading.Event,
        *,
        once: bool = False,
        on_tick: Callable[[TickResult, datetime | None], None] | None = None,
    ) -> list[TickResult]:
        """Tick now, then at the start of every following slot until ``stop`` is set (SIGTERM / SIGINT).

        ``on_tick(result, next_at)`` is called after every tick, as it happens (``next_at`` is None on the
        last one).
        """
        results = []
        while not stop.is_set():
            result = self.tick()
            results.append(result)
            log.info("tick %s: %s", result.cycle_id, result.status)
            next_at = None if once else self.next_tick_at(self.services.clock())
            if on_tick is not None:
                on_tick(result, next_at)
            if next_at is None:
                break
            stop.wait(max(0.0, (next_at - self.services.clock()).total_seconds()))
        return results


def key_refusal(svc: Services) -> str | None:
    """Why autonomy ``auto`` must not trade with this key: on Binance, a key that may withdraw (unless the config
    allows it with ``[exchange] allow_withdrawal_keys``)."""
    from agent.adapters.binance.client import BinanceExchange

    ex = svc.exchange
    if not isinstance(ex, BinanceExchange) or svc.settings.exchange.allow_withdrawal_keys:
        return None
    if ex.api_restrictions().get("enableWithdrawals"):
        return (
            "the Binance API key can withdraw: autonomy auto refuses it (disable withdrawals for the key, or "
            "set [exchange] allow_withdrawal_keys = true)"
        )
    return None

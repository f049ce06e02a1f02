"""The autonomous loop: observe → triggers → decide → plan → risk gate → act by autonomy level.

Autonomy levels:
- ``advise``: record the plan and alert; never trade (seed 000's manual mode).
- ``confirm``: store a pending plan with a confirm token (valid for one interval); a person confirms it
  from the CLI (``rebalancer execute PLAN_ID --confirm TOKEN``) or MCP (``execute_rebalance``).
- ``auto``: execute within the heartbeat's own caps (notional per tick and per day, trades per tick).

A tick is idempotent: its id is the schedule slot (``hb-YYYYmmddTHHMM``); a finished slot is skipped,
and a slot whose plan already sent orders is only reconciled on restart, never acted on twice.
"""

from __future__ import annotations

import logging
import math
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from agent.adapters.alerts import Alerter
from agent.core.errors import RebalancerError
from agent.core.planner import portfolio_drift
from agent.core.risk import violations
from agent.services.app import Services
from agent.adapters.store.db import dumps, now_iso

log = logging.getLogger("rebalancer.heartbeat")


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

    def __init__(self, services: Services, *, autonomy: str | None = None, interval: timedelta | None = None) -> None:
        cfg = services.settings.heartbeat
        self.services = services
        self.autonomy = autonomy or cfg.autonomy
        if self.autonomy not in ("advise", "confirm", "auto"):
            raise RebalancerError(f"autonomy must be advise, confirm or auto, not {self.autonomy!r}")
        self.interval = interval or cfg.interval
        self.alerts = Alerter(
            services.store, cooldown=cfg.alert_cooldown, webhook_url=cfg.webhook_url, clock=services.clock
        )

    def slot_id(self, now: datetime) -> str:
        step = self.interval.total_seconds()
        start = math.floor(now.timestamp() / step) * step
        # One tick per slot and autonomy level: a restart inside the slot never acts twice; switching
        # the level is a person's deliberate act (a stale pending plan is then refused as "moved").
        return f"hb-{self.autonomy}-" + datetime.fromtimestamp(start, UTC).strftime("%Y%m%dT%H%M%S")

    # -- one tick ---------------------------------------------------------------------------------

    def tick(self) -> TickResult:
        svc = self.services
        now = svc.clock()
        cycle_id = self.slot_id(now)
        existing = svc.store.query("SELECT * FROM cycles WHERE id = ?", (cycle_id,))
        if existing and existing[0]["finished_at"]:
            return TickResult(cycle_id, "skipped", f"this slot already ran ({existing[0]['status']})")
        if existing and self._orders_sent(existing[0]["plan_id"]):
            # A restart mid-tick after orders went out: the executor reconciled the journal at start-up;
            # acting again could double the trades.
            self._finish(cycle_id, "recovered", "restarted after orders were sent; reconciled, not re-sent")
            return TickResult(cycle_id, "recovered", "reconciled after a restart; no new orders")
        if not existing:
            with svc.store.tx() as c:
                c.execute(
                    "INSERT INTO cycles (id, started_at, trigger, autonomy, status) VALUES (?, ?, 'heartbeat', ?, "
                    "'started')",
                    (cycle_id, now.isoformat(), self.autonomy),
                )
        try:
            result = self._run(cycle_id)
        except RebalancerError as e:
            self.alerts.send("error", f"{cycle_id}: {e}")
            self._finish(cycle_id, "error", str(e))
            return TickResult(cycle_id, "error", str(e))
        self._fill_returns()
        return result

    def _run(self, cycle_id: str) -> TickResult:
        svc = self.services
        state, market = svc.observe()
        equity = state.equity(market)
        self._update(cycle_id, value_before=equity)
        triggers = self.triggers(state, market, equity)
        if not triggers:
            self._finish(cycle_id, "no-trigger", "no trigger: drift within thresholds, calendar not due, no risk event")
            return TickResult(cycle_id, "no-trigger", "nothing to do")
        why = "; ".join(triggers)
        decision = svc.decide(cycle_id=cycle_id, state=state, market=market)
        if not decision.ok:
            msg = f"strategist failed closed ({decision.status}): {decision.error}"
            self.alerts.send("decide-failed", msg)
            self._finish(cycle_id, "decide-failed", msg)
            return TickResult(cycle_id, "decide-failed", msg)
        plan = svc.plan(decision.target, heartbeat=True, state=state, market=market)
        if not plan.actions:
            self._finish(cycle_id, "in-band", f"{why}; {plan.reason}")
            return TickResult(cycle_id, "in-band", plan.reason)
        breaches = violations(plan, svc.risk_limits(heartbeat=True), traded_today_usd=svc.traded_today_usd())
        if breaches:
            msg = "risk gate: " + "; ".join(breaches)
            self.alerts.send("risk", f"{cycle_id}: {msg}")
            self._finish(cycle_id, "risk-refused", msg)
            return TickResult(cycle_id, "risk-refused", msg)
        summary = (
            f"{len(plan.actions)} trades, turnover ${plan.summary.turnover_usd:,.2f}, "
            f"est. cost ${plan.estimated_cost.total_usd:,.2f}; {why}"
        )
        if self.autonomy == "advise":
            stored = svc.preview(decision.target, source="heartbeat-advise", cycle_id=cycle_id, heartbeat=True)
            svc._set_plan_status(stored.plan_id, "advisory")  # advice only: its token can never execute
            self.alerts.send("advice", f"rebalance advised ({stored.plan_id}): {summary}")
            self._finish(cycle_id, "advised", summary, plan_id=stored.plan_id)
            return TickResult(cycle_id, "advised", summary, plan_id=stored.plan_id)
        if svc.store.is_paused():
            self._finish(cycle_id, "paused", f"trading paused; would have: {summary}")
            return TickResult(cycle_id, "paused", "trading is paused")
        pending = svc.preview(decision.target, source=f"heartbeat-{self.autonomy}", cycle_id=cycle_id, heartbeat=True)
        if self.autonomy == "confirm":
            token = pending.confirm_token or ""
            self._extend_expiry(pending.plan_id)
            self.alerts.send(
                "confirm",
                f"rebalance pending ({summary}). To execute: rebalancer execute {pending.plan_id} --confirm {token}",
            )
            self._finish(cycle_id, "pending-confirm", summary, plan_id=pending.plan_id)
            return TickResult(cycle_id, "pending-confirm", summary, plan_id=pending.plan_id, confirm_token=token)
        self._update(cycle_id, plan_id=pending.plan_id)
        report = svc.execute(pending.plan_id, pending.confirm_token or "", heartbeat=True)
        after, after_market = svc.observe()
        status = f"executed:{report.status}"
        self.alerts.send("executed", f"auto rebalance {pending.plan_id}: {report.status}; {summary}")
        self._finish(
            cycle_id,
            status,
            summary,
            plan_id=pending.plan_id,
            value_after=after.equity(after_market),
            detail=report.model_dump(mode="json"),
        )
        return TickResult(cycle_id, status, summary, plan_id=pending.plan_id, execution=report.model_dump(mode="json"))

    def triggers(self, state: Any, market: Any, equity: float) -> list[str]:
        """Why this tick should consider a rebalance (empty: it should not)."""
        svc = self.services
        out: list[str] = []
        target = svc.current_target()
        cfg = svc.settings
        if target is not None:
            plan = svc.plan(target, heartbeat=True, state=state, market=market)
            w = {r.coin: r.current_weight for r in plan.rows}
            t = {r.coin: r.target_weight for r in plan.rows}
            coins = [c for c in w if c != "USDC"]
            import numpy as np

            drift = portfolio_drift(np.array([w[c] for c in coins]), np.array([t[c] for c in coins]))
            worst = max((abs(w[c] - t[c]) for c in coins), default=0.0)
            if drift >= cfg.rebalance.portfolio_threshold:
                out.append(f"portfolio drift {drift:.1%} ≥ {cfg.rebalance.portfolio_threshold:.1%}")
            if worst >= cfg.rebalance.position_threshold:
                out.append(f"a position drifted {worst:.1%} ≥ {cfg.rebalance.position_threshold:.1%}")
        else:
            out.append("no stored target: ask the strategist")
        last = svc.store.get_setting("last_rebalance_at")
        due = timedelta(days=cfg.rebalance.calendar_days)
        if last is None or svc.clock() - datetime.fromisoformat(last) >= due:
            out.append(f"calendar: {cfg.rebalance.calendar_days}-day rebalance due")
        peak = max(float(svc.store.get_setting("peak_equity", 0.0)), equity)
        svc.store.set_setting("peak_equity", peak)
        if peak > 0 and (peak - equity) / peak >= cfg.heartbeat.drawdown_alert:
            msg = f"drawdown {(peak - equity) / peak:.1%} from peak ${peak:,.2f}"
            out.append(msg)
            self.alerts.send("drawdown", msg)
        if cfg.limits.max_weight is not None:
            for coin, wt in state.weights(market).items():
                if coin != "USDC" and abs(wt) > cfg.limits.max_weight + 1e-4:
                    out.append(f"{coin} at {wt:.1%} is over the max weight {cfg.limits.max_weight:.1%}")
        return out

    # -- loop -------------------------------------------------------------------------------------

    def run(self, stop: threading.Event, *, once: bool = False) -> list[TickResult]:
        """Tick now, then every interval until ``stop`` is set (SIGTERM / SIGINT set it)."""
        results = []
        while not stop.is_set():
            results.append(self.tick())
            log.info("tick %s: %s", results[-1].cycle_id, results[-1].status)
            if once:
                break
            stop.wait(self.interval.total_seconds())
        return results

    # -- bookkeeping ------------------------------------------------------------------------------

    def _orders_sent(self, plan_id: str | None) -> bool:
        if not plan_id:
            return False
        rows = self.services.store.query("SELECT COUNT(*) AS n FROM orders WHERE plan_id = ?", (plan_id,))
        return bool(rows[0]["n"])

    def _extend_expiry(self, plan_id: str) -> None:
        expires = self.services.clock() + self.interval
        with self.services.store.tx() as c:
            c.execute("UPDATE plans SET expires_at = ? WHERE plan_id = ?", (expires.isoformat(), plan_id))

    def _update(self, cycle_id: str, **fields: Any) -> None:
        cols = ", ".join(f"{k} = ?" for k in fields)
        with self.services.store.tx() as c:
            c.execute(f"UPDATE cycles SET {cols} WHERE id = ?", (*fields.values(), cycle_id))  # noqa: S608

    def _finish(self, cycle_id: str, status: str, reason: str, *, detail: Any = None, **fields: Any) -> None:
        self._update(
            cycle_id,
            status=status,
            reason=reason,
            finished_at=now_iso(),
            detail=dumps(detail) if detail is not None else None,
            **fields,
        )

    def _fill_returns(self) -> None:
        """Seed 000: fill each cycle's realised 7-day return once a cycle 7 days later has a value."""
        store = self.services.store
        for row in store.query(
            "SELECT id, started_at, COALESCE(value_after, value_before) AS v FROM cycles "
            "WHERE return_7d IS NULL AND COALESCE(value_after, value_before) > 0"
        ):
            later_than = (datetime.fromisoformat(row["started_at"]) + timedelta(days=7)).isoformat()
            later = store.query(
                "SELECT value_before FROM cycles WHERE started_at >= ? AND value_before > 0 "
                "ORDER BY started_at LIMIT 1",
                (later_than,),
            )
            if later:
                with store.tx() as c:
                    c.execute(
                        "UPDATE cycles SET return_7d = ? WHERE id = ?",
                        (later[0]["value_before"] / row["v"] - 1, row["id"]),
                    )

"""The workflows' steps, run by any worker: each opens its account's real store and runs the same use cases
as every other way in (the heartbeat's tick, ``execution.execute``), so the kill switch is read before every
order, every intent is journaled before it is signed, the account's lease admits one writer, execution
re-reads the account and refuses when it moved since the preview, buys are resized to the cash there, and
every round is a cycle with ``source = "temporal"`` that ``rebalancer history`` shows.

The worker never creates the fleet's store: a configured path or URL that holds none stops it at start
with a ``ConfigError`` naming ``rebalancer db init`` (each account's store is then created beside it).
The store is shared for real when ``db`` is a PostgreSQL URL (every worker, the CLI, MCP and the web page
read one kill switch, journal, lease and history); with the SQLite default every worker must run on the
machine that holds the files.

Activities run at least once. A retried ``tick`` finds its slot's cycle (the heartbeat's idempotency): a
finished slot is skipped; one whose orders went out is reconciled under the lease and closed, never sent
again. A retried ``execute`` finds its plan's token spent: under the lease the journal is reconciled with the
exchange (by cloid) and the plan closed with what really happened; the next tick plans the rest afresh.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError

from agent.adapters.store.db import Store
from agent.core.errors import AccountBusy, ConfigError, ConfirmationError, RiskLimitError, TradingPaused
from agent.services.app import Services
from agent.services.config import Settings
from agent.services.fleet import approvals
from agent.services.fleet.accounts import account_settings, open_fleet
from agent.services.trading import execution
from agent.services.trading.heartbeat import Heartbeat
from agent.services.trading.lease import writer
from agent.services.trading.planning import hash_token

SOURCE = "temporal"
_FINAL_PREFIXES = ("executed:", "failed", "incomplete", "refused", "expired")


def say_stdout(line: str) -> None:
    print(line, flush=True)


class Activities:
    """``Activities(settings, say=print)``: the activity functions a worker registers (``.all()``).

    ``say`` gets one line per round (and the approval command, with its token, for a plan that waits);
    ``approve_args`` is appended to that command (``--temporal HOST:PORT --config FILE``)."""

    def __init__(self, settings: Settings, *, say: Callable[[str], None] = say_stdout, approve_args: str = "") -> None:
        if settings.network == "local":
            raise ConfigError(
                "network: the Temporal path needs one exchange every worker reaches: a URL "
                "(`rebalancer exchange serve`), testnet or mainnet, not the in-process local stand-in"
            )
        if settings.db == ":memory:":
            raise ConfigError("db: the Temporal path records every round; give a database (a PostgreSQL URL to share)")
        _existing_store(settings).close()  # a mistyped path or URL stops the worker: never a fresh store
        self.settings = settings
        self.by_name = {a.name: a for a in settings.accounts}
        self.say = say
        self.approve_args = approve_args

    def all(self) -> list[Any]:
        return [self.tick, self.execute, self.allocation_plan, self.allocation_execute, self.allocation_expired]

    @contextmanager
    def _services(self, account: str) -> Iterator[Services]:
        from agent.services.runtime import open_runtime

        cfg = self.by_name.get(account)
        if cfg is None:
            raise ApplicationError(
                f"accounts: no account named {account!r} in this worker's config", non_retryable=True
            )
        url = self.settings.network if self.settings.is_local else None
        fleet = _existing_store(self.settings)  # the configured store: its kill switch pauses every account
        try:
            own = account_settings(self.settings, cfg, url)  # its database is created beside the fleet's
            with open_runtime(own, fleet_paused=fleet.records.is_paused, create_store=True) as svc:
                yield svc
        finally:
            fleet.close()

    @activity.defn(name="tick")
    def tick(self, inp: dict[str, Any]) -> dict[str, Any]:
        """One heartbeat tick of the account (its triggers, target, plan, gates; ``auto`` executes it)."""
        account, autonomy = inp["account"], inp.get("autonomy", "advise")
        with _beating(), self._services(account) as svc:
            hb = Heartbeat(svc, autonomy=autonomy, interval=svc.settings.heartbeat.interval, source=SOURCE)
            result = hb.tick()
            if result.status == "busy":  # another writer holds the account (a dead worker's lease runs out)
                raise ApplicationError(result.reason)
            out: dict[str, Any] = {
                "account": account,
                "cycle_id": result.cycle_id,
                "status": result.status,
                "reason": result.reason,
                "plan_id": result.plan_id,
            }
            if result.status in ("skipped", "recovered"):  # a retry: what the slot's cycle recorded
                cycle = svc.store.cycles.get(result.cycle_id) or {}
                out |= {"plan_id": cycle.get("plan_id"), "recorded": cycle.get("status")}
            if result.status == "recovered" and svc.executor is not None:
                with writer(svc.context, "close a plan a dead worker left"):
                    execution.recover_stuck(svc)
            if result.execution is not None:
                out["execution"] = _brief(result.execution)
            if result.status == "pending-confirm" and result.plan_id and result.confirm_token:
                check = approvals.arm(
                    svc, result.plan_id, result.confirm_token, workflow_id=activity.info().workflow_id or ""
                )
                stored = svc.store.plans.get(result.plan_id)
                if check is None or stored is None or stored.expires_at is None:
                    out["status"] = "expired"
                else:
                    out |= {"check": check, "expires_at": stored.expires_at.isoformat()}
                    command = (
                        f"rebalancer fleet approve {activity.info().workflow_id} {result.plan_id} "
                        f"--confirm {result.confirm_token} {self.approve_args}"
                    ).strip()
                    self.say(
                        f"{account}: {result.cycle_id} pending-confirm: plan {result.plan_id} ({result.reason}) "
                        f"until {stored.expires_at.isoformat(timespec='seconds')}; to execute: {command}"
                    )
                    return out
            self.say(_line(account, out))
            return out

    @activity.defn(name="execute")
    def execute(self, job: dict[str, Any]) -> dict[str, Any]:
        """Execute an approved plan with the approval's proof, through ``execution.execute``."""
        account, plan_id = job["account"], job["plan_id"]
        with _beating(), self._services(account) as svc:
            stored = svc.store.plans.get(plan_id)
            if stored is None:
                raise ApplicationError(f"unknown plan id {plan_id!r} in {account}'s store", non_retryable=True)
            if stored.status in ("confirmed", "executing"):  # an earlier attempt died mid-execution
                out = self._recover(svc, account, plan_id)
            elif stored.status != "previewed":  # an earlier attempt finished; its worker died before reporting
                out = _recorded(svc, account, plan_id)
            else:
                try:
                    report = svc.execute(plan_id, job["proof"], source=SOURCE, heartbeat=True)
                    out = {"account": account, "plan_id": plan_id, "status": f"executed:{report.status}"}
                    out["execution"] = _brief(report.model_dump(mode="json"))
                except (ConfirmationError, TradingPaused, RiskLimitError) as e:
                    out = {"account": account, "plan_id": plan_id, "status": "refused", "reason": str(e)}
                except AccountBusy as e:
                    raise ApplicationError(str(e)) from None
            cycle = svc.store.cycles.for_plan(plan_id)
            out["cycle_id"] = cycle["id"] if cycle else None
            self.say(_line(account, out))
            return out

    def _recover(self, svc: Services, account: str, plan_id: str) -> dict[str, Any]:
        try:
            with writer(svc.context, f"recover {plan_id}"):
                if svc.executor is not None:
                    svc.executor.reconcile()
                execution.recover_stuck(svc)
        except AccountBusy as e:
            raise ApplicationError(str(e)) from None
        return _recorded(svc, account, plan_id)

    # -- the allocation across accounts --------------------------------------------------------------

    @activity.defn(name="allocation_plan")
    def allocation_plan(self, inp: dict[str, Any]) -> dict[str, Any]:
        """The transfer plan. When it waits for approval (``confirm``), a fresh confirm token is printed once
        with the approval command and only ``check`` (the hash of its proof) is returned into the history."""
        import secrets
        import time

        from agent.services.fleet import allocation

        wid = activity.info().workflow_id or ""
        with open_fleet(self.settings) as fleet:
            p = allocation.plan(fleet)
            server = fleet.master.exchange.server_time_ms(fresh=True)
            p["offset_ms"], p["planned_ms"] = server - int(time.time() * 1000), server
            p["plan_id"], p["workflow_id"] = f"alloc-{wid[-12:]}", wid
            if not p["transfers"]:
                self.say(f"allocation: plan {p['plan_id']}: {p['reason']}")
                return p
            if fleet.store.fleet_plans.get(p["plan_id"]) is None:  # a retried attempt keeps the first record
                wait_s = float(inp.get("approval_s", 900))
                waits = datetime.fromtimestamp(server / 1000, UTC) + timedelta(seconds=wait_s)
                status = approvals.AWAITING if inp.get("confirm") else "approved"
                fleet.store.fleet_plans.add(p, status=status, source=SOURCE, expires_at=waits)
            if not inp.get("confirm"):
                self.say(f"allocation: plan {p['plan_id']}: {p['reason']}")
                return p
            token = secrets.token_urlsafe(18)
            p["check"] = hash_token(approvals.proof(token))
            command = f"rebalancer fleet approve {wid} {p['plan_id']} --confirm {token} {self.approve_args}".strip()
            moves = ", ".join(f"{t['direction']} ${float(t['usd']):,.2f} {t['account']}" for t in p["transfers"])
            self.say(f"allocation: plan {p['plan_id']} pending-confirm ({moves}); to execute: {command}")
            return p

    @activity.defn(name="allocation_execute")
    def allocation_execute(self, job: dict[str, Any]) -> dict[str, Any]:
        from agent.services.fleet.temporal.transfers import run_transfers

        plan = job["plan"]
        with open_fleet(self.settings) as fleet:
            report = run_transfers(fleet, plan, int(job["expires_after_ms"]), retried=activity.info().attempt > 1)
            fleet.store.fleet_plans.move(plan["plan_id"], report["status"], expect=(approvals.AWAITING, "approved"))
            self.say(f"allocation: plan {plan['plan_id']} {report['status']}")
            return report

    @activity.defn(name="allocation_expired")
    def allocation_expired(self, job: dict[str, Any]) -> bool:
        """The workflow stopped waiting: the plan's record says so (it no longer waits for anyone)."""
        with open_fleet(self.settings) as fleet:
            moved = fleet.store.fleet_plans.move(
                job["plan_id"], "expired", expect=approvals.AWAITING, reason="expired unconfirmed"
            )
        self.say(f"allocation: plan {job['plan_id']} expired unconfirmed")
        return moved


def _existing_store(settings: Settings) -> Store:
    """The fleet's store, never created here (``rebalancer db init`` makes it on purpose): workers run
    unattended, and a fresh store would have no kill switch, no journal and no day's traded total."""
    from agent.services.runtime import open_store

    return open_store(settings, create=False)


@contextmanager
def _beating(every_s: float = 1.0) -> Iterator[None]:
    """Heartbeat the activity from a side thread while it works, so a dead worker is noticed in seconds."""
    ctx = contextvars.copy_context()
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(every_s):
            ctx.run(activity.heartbeat)

    t = threading.Thread(target=beat, daemon=True)
    t.start()
    try:
        yield
    finally:
        stop.set()
        t.join()


def _recorded(svc: Services, account: str, plan_id: str) -> dict[str, Any]:
    stored = svc.store.plans.get(plan_id)
    status = stored.status if stored else "unknown"
    return {"account": account, "plan_id": plan_id, "status": status, "reason": stored.reason if stored else None}


def _brief(report: dict[str, Any]) -> dict[str, Any]:
    """The execution report's headline for the workflow's history (the full report is the cycle's detail)."""
    keys = ("status", "orders_sent", "notional_filled_usd", "realised_cost_usd", "errors")
    return {k: report.get(k) for k in keys}


def _line(account: str, out: dict[str, Any]) -> str:
    head = f"{account}: {out.get('cycle_id') or '-'} {out['status']}"
    if out.get("plan_id"):
        head += f" plan {out['plan_id']}"
    ex = out.get("execution")
    if ex:
        head += f": {ex.get('orders_sent', 0)} orders, ${float(ex.get('notional_filled_usd') or 0):,.2f} filled"
    elif out.get("reason"):
        head += f": {out['reason']}"
    return head

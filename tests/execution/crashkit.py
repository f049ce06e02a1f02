"""Crash trials: the executor in a subprocess, killed with SIGKILL at random points, restarted until done.

The parent (a test, or ``benchmarks/crash_trials.py``) runs the stand-in in its own process, builds a
plan, and starts this file as a child: ``python crashkit.py URL DB PLAN CRASH LEASE VENUE``. ``VENUE`` is
``hyperliquid`` (the Hyperliquid stand-in through the SDK) or ``binance`` (the local Binance through ccxt,
seed 002's account on Binance.US). ``CRASH`` is

- ``journal:N`` — SIGKILL itself right after the N-th journal commit (intend or state change),
- ``send:N``    — SIGKILL itself right after the N-th /exchange order call returned (answer unrecorded),
- ``delay``     — the parent kills it after a random delay once it is running,
- ``none``      — run to the end.

Each restart reconciles the journal and resumes the plan. The invariants checked afterwards: no cloid
twice at the exchange, no action filled beyond its size, every exchange order journaled, no journal
row left open, journal fills equal the exchange's, the account at target.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

CHILD = str(Path(__file__).resolve())
TARGET = {"UBTC/USDC": 0.20, "UETH/USDC": 0.20, "USOL/USDC": 0.40, "AVAX": 0.0, "USDC": 0.20}
TARGETS = {
    "hyperliquid": TARGET,
    "binance": {"BTC/USD": 0.20, "ETH/USD": 0.20, "SOL/USD": 0.40, "AVAX/USD": 0.0, "USDC": 0.20},
}


def _adapter(url: str, venue: str = "hyperliquid") -> Any:
    if venue == "binance":
        from agent.adapters.binance.client import BinanceExchange
        from agent.standin.binance.seed import DEMO_KEY, DEMO_SECRET

        return BinanceExchange(url, api_key=DEMO_KEY, secret=DEMO_SECRET, venue="binanceus", timeout_s=2.0)
    from agent.adapters.hyperliquid.client import HyperliquidExchange
    from agent.standin import DEMO_ACCOUNT_ADDRESS, DEMO_SECRET_KEY

    return HyperliquidExchange(
        url,
        account_address=DEMO_ACCOUNT_ADDRESS,
        secret_key=DEMO_SECRET_KEY,
        timeout=2.0,
        order_ttl_s=1.5,  # generous: a loaded CI machine must not expire an order in flight
        backoff_s=0.01,
    )


# ------------------------------------------------------------------------------------------- child
def child_main(url: str, db: str, plan_path: str, crash: str, lease: str = "", venue: str = "hyperliquid") -> int:
    """One executor run; with ``lease`` it holds the account's writer lease as the services do."""
    from agent.adapters.store.db import Store
    from agent.adapters.store.journal import Journal
    from agent.core.domain import RebalancingPlan
    from agent.services.trading.twaps import TwapExecutor as Executor  # the executor runtime builds

    kind, _, n = crash.partition(":")
    at = int(n) if n else 0

    def die() -> None:
        os.kill(os.getpid(), signal.SIGKILL)

    class CrashingJournal(Journal):
        commits = 0

        def _tick(self) -> None:
            CrashingJournal.commits += 1
            if kind == "journal" and CrashingJournal.commits == at:
                die()

        def intend(self, *a: Any, **kw: Any) -> str:
            out = super().intend(*a, **kw)
            self._tick()
            return out

        def mark(self, *a: Any, **kw: Any) -> Any:
            out = super().mark(*a, **kw)
            self._tick()
            return out

    adapter = _adapter(url, venue)

    class CrashingExchange:
        sends = 0

        def __getattr__(self, name: str) -> Any:
            return getattr(adapter, name)

        def place_orders(self, orders: list[Any]) -> Any:
            out = adapter.place_orders(orders)
            CrashingExchange.sends += 1
            if kind == "send" and CrashingExchange.sends == at:
                die()
            return out

    store = Store(db)
    plan = RebalancingPlan.model_validate_json(Path(plan_path).read_text())
    executor = Executor(CrashingExchange(), store, mode="live", journal=CrashingJournal(store))  # type: ignore[arg-type]
    print("ready", flush=True)
    if lease == "lease":
        from agent.services.app import Services
        from agent.services.config import Settings
        from agent.services.trading.lease import writer

        settings = Settings(network=url, db=db, lease={"ttl": "5s", "wait": "60s"})
        svc = Services(settings=settings, store=store, exchange=adapter, executor=executor)
        with writer(svc.context, "crash trial"):
            report = executor.execute(plan)
    else:
        report = executor.execute(plan)
    print(report.model_dump_json(), flush=True)
    return 0


# ------------------------------------------------------------------------------------------- parent
@dataclass
class TrialResult:
    seed: int
    crashes: list[str] = field(default_factory=list)
    kills: int = 0
    runs: int = 0
    actions: int = 0
    intended: int = 0  # journal rows (order attempts committed before sending)
    sent: int = 0  # journal rows that left the machine (not ABANDONED)
    at_exchange: int = 0  # orders the stand-in recorded
    duplicates: int = 0
    overfilled: int = 0
    unjournaled: int = 0
    open_rows: int = 0
    fill_mismatch: int = 0
    status: str = ""
    drift: float = 0.0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return (
            self.duplicates == self.overfilled == self.unjournaled == self.open_rows == self.fill_mismatch == 0
            and self.status == "ok"
            and self.drift < 0.02
        )


def _pick_crash(rng: random.Random, n_actions: int) -> str:
    kind = rng.choice(["journal", "journal", "send", "delay"])
    if kind == "journal":
        return f"journal:{rng.randint(1, 3 * n_actions)}"
    if kind == "send":
        return f"send:{rng.randint(1, n_actions)}"
    return "delay"


def _run_child(
    url: str, db: Path, plan_path: Path, crash: str, rng: random.Random, venue: str = "hyperliquid"
) -> tuple[int, str]:
    proc = subprocess.Popen(
        [sys.executable, CHILD, url, str(db), str(plan_path), crash, "lease", venue],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    return finish(proc, crash, rng, 0.25)


def finish(proc: subprocess.Popen[str], crash: str, rng: random.Random, max_delay: float) -> tuple[int, str]:
    """Wait for a child (killing it after a random delay for ``delay``); its exit code and whole stdout."""
    if crash == "delay":
        assert proc.stdout is not None and proc.stderr is not None
        ready = proc.stdout.readline()  # "ready": the executor is about to start
        time.sleep(rng.uniform(0.0, max_delay))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=120)
        # read through the text wrapper: readline() may have buffered the report already
        out, err = ready + proc.stdout.read(), proc.stderr.read()
    else:
        out, err = proc.communicate(timeout=120)
    if proc.returncode not in (0, -signal.SIGKILL):
        raise RuntimeError(f"child failed ({proc.returncode}): {err[-2000:]}")
    return proc.returncode, out


def last_report(out: str) -> str:
    """The child's report line (its last line, after "ready"), or "" when it printed none."""
    lines = out.strip().splitlines()
    return lines[-1] if lines and lines[-1].startswith("{") else ""


def setup(server: Any, plan_path: Path, venue: str = "hyperliquid") -> tuple[set[int], Any, Any, Path]:
    """A trial's start: the stand-in's own orders, an adapter, and the plan toward TARGET saved to ``plan_path``."""
    from agent import PortfolioRebalancer, TargetAllocation

    target = TARGETS[venue]
    preexisting = set(server.exchange.orders if venue == "binance" else server.exchange.account.orders)
    adapter = _adapter(server.url, venue)
    state = adapter.account_state()
    market = adapter.market(books=sorted({*state.positions, *target} - {"USDC"}))
    plan = PortfolioRebalancer().create_rebalancing_plan(state, TargetAllocation.from_json(target), market)
    plan_path.write_text(plan.model_dump_json())
    return preexisting, adapter, plan, plan_path


def _serve(venue: str) -> Any:
    if venue == "binance":
        from agent.standin.binance.seed import demo_snapshot, from_snapshot
        from agent.standin.binance.server import BinanceServer

        return BinanceServer(from_snapshot(demo_snapshot()))
    from agent.standin import load_demo_snapshot, serve

    return serve(load_demo_snapshot())


def run_trial(seed: int, workdir: Path, *, max_crashes: int = 2, venue: str = "hyperliquid") -> TrialResult:
    rng = random.Random(seed)
    res = TrialResult(seed=seed)
    t0 = time.monotonic()
    with _serve(venue) as server:
        preexisting, adapter, plan, plan_path = setup(server, workdir / f"plan-{seed}.json", venue)
        res.actions = len(plan.actions)
        db = workdir / f"journal-{seed}.sqlite"
        crashes = [_pick_crash(rng, len(plan.actions)) for _ in range(rng.randint(1, max_crashes))]
        final = ""
        for crash in [*crashes, "none", "none"]:
            code, out = _run_child(server.url, db, plan_path, crash, rng, venue)
            res.runs += 1
            if code == 0:  # finished (a crash point past the last commit lets a crashing run finish too)
                final = last_report(out) or final
                if crash == "none":
                    break
                continue
            res.kills += 1
            res.crashes.append(crash)
        res.status = json.loads(final)["status"] if final else "no report"

        check(res, server, preexisting, db, plan, adapter, venue)
    res.seconds = time.monotonic() - t0
    return res


def _at_exchange(server: Any, preexisting: set[int], venue: str) -> tuple[list[str | None], list[tuple[str, float]]]:
    """The cloids of the orders the exchange recorded during the trial, and its fills as (cloid, size)."""
    ex = server.exchange
    with ex.lock:
        if venue == "binance":
            orders = {oid: o for oid, o in ex.orders.items() if oid not in preexisting}
            return (
                [o.client_id for o in orders.values()],
                [(orders[t["orderId"]].client_id, float(t["qty"])) for t in ex.trades if t["orderId"] in orders],
            )
        hl = [o for oid, o in ex.account.orders.items() if oid not in preexisting]
        return [o.cloid for o in hl], [(f["cloid"], float(f["sz"])) for f in ex.account.fills]


def check(
    res: TrialResult, server: Any, preexisting: set[int], db: Path, plan: Any, adapter: Any, venue: str = "hyperliquid"
) -> None:
    """Fill ``res`` with the invariants: exchange orders and fills against the journal, and the drift."""
    from agent.adapters.store.db import Store
    from agent.adapters.store.journal import ABANDONED, OPEN_STATES

    cloids, fills = _at_exchange(server, preexisting, venue)
    store = Store(db)
    journal = store.journal
    rows = {r.cloid: r for r in journal.rows(plan_id=plan.plan_id)}
    store.close()
    res.intended = len(rows)
    res.sent = sum(1 for r in rows.values() if r.state != ABANDONED)
    res.at_exchange = len(cloids)
    res.duplicates = sum(n - 1 for n in Counter(cloids).values() if n > 1)
    res.unjournaled = sum(1 for c in cloids if c not in rows)
    res.open_rows = sum(1 for r in rows.values() if r.state in OPEN_STATES)
    per_action: Counter[int] = Counter()
    per_cloid: Counter[str] = Counter()
    for cloid, sz in fills:
        per_cloid[cloid] += sz
        if cloid in rows:
            per_action[rows[cloid].action_index] += sz
    res.overfilled = sum(1 for i, a in enumerate(plan.actions) if per_action[i] > a.size + 1e-9)
    res.fill_mismatch = sum(1 for c, r in rows.items() if abs(r.filled_sz - per_cloid.get(c, 0.0)) > 1e-9) + sum(
        1 for r in rows.values() if r.state == ABANDONED and r.cloid in cloids
    )
    after, mkt = adapter.account_state(), adapter.market()
    w = after.weights(mkt)
    target = TARGETS[venue]
    res.drift = 0.5 * sum(abs(w.get(k, 0.0) - target.get(k, 0.0)) for k in set(w) | set(target))


def run_trials(
    n: int, seed0: int = 0, workdir: Path | None = None, workers: int = 4, venue: str = "hyperliquid"
) -> list[TrialResult]:
    """``n`` trials (seeds ``seed0..``), ``workers`` at a time (each with its own stand-in and journal)."""
    from concurrent.futures import ThreadPoolExecutor

    with tempfile.TemporaryDirectory() as tmp:
        where = workdir or Path(tmp)
        with ThreadPoolExecutor(max_workers=workers) as pool:
            return list(pool.map(lambda i: run_trial(seed0 + i, where, venue=venue), range(n)))


def summary(results: list[TrialResult]) -> dict[str, Any]:
    return {
        "trials": len(results),
        "kills": sum(r.kills for r in results),
        "crash_kinds": dict(Counter(c.split(":")[0] for r in results for c in r.crashes)),
        "actions": sum(r.actions for r in results),
        "orders_intended": sum(r.intended for r in results),
        "orders_sent": sum(r.sent for r in results),
        "orders_at_exchange": sum(r.at_exchange for r in results),
        "duplicates": sum(r.duplicates for r in results),
        "overfilled_actions": sum(r.overfilled for r in results),
        "unjournaled_orders": sum(r.unjournaled for r in results),
        "rows_left_open": sum(r.open_rows for r in results),
        "fill_mismatches": sum(r.fill_mismatch for r in results),
        "all_ok": all(r.ok for r in results),
        "failed_trials": [asdict(r) for r in results if not r.ok],
        "seconds": round(sum(r.seconds for r in results), 1),
    }


if __name__ == "__main__":
    sys.exit(child_main(*sys.argv[1:7]))

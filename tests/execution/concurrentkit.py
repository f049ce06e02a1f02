"""Concurrent crash trials: two writers on one account at once, one of them often killed with SIGKILL.

Two modes, each a trial on a fresh stand-in (the parent's process) with a slow ``/exchange``:

- ``executors``: two executor processes (:mod:`crashkit`'s child, holding the account's lease as the
  services do) start together on the *same* plan and journal; each may be killed (after a journal commit,
  after an order send, or after a random delay); restarts run until one finishes. The invariants are
  :func:`crashkit.check`'s: no cloid twice at the exchange, no action filled beyond its size, every order
  journaled, no journal row left open, journal fills equal the exchange's, the account at target.
- ``heartbeats``: two ``rebalancer heartbeat --once --autonomy auto`` processes (the console script) start
  0–0.5 s apart in one slot; one may be killed after a random delay; a tick of the next slot follows. Invariants: no
  cloid twice at the exchange, and no asset traded beyond what reaching the target needs (the defect was
  "both sold the same UETH").
"""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from clirun import made_db

try:
    from . import crashkit
except ImportError:  # run as a script's module (benchmarks/crash_trials.py puts this folder on sys.path)
    import crashkit  # type: ignore[no-redef]

CHILD, TARGET, TrialResult = crashkit.CHILD, crashkit.TARGET, crashkit.TrialResult

SCRIPT = Path(sys.executable).with_name("rebalancer")


def _start_child(url: str, db: Path, plan_path: Path, crash: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, CHILD, url, str(db), str(plan_path), crash, "lease"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait(proc: subprocess.Popen[str], crash: str, rng: random.Random) -> tuple[int, str]:
    return crashkit.finish(proc, crash, rng, 0.4)


def run_executors_trial(seed: int, workdir: Path) -> TrialResult:
    """Two executors on one plan at once (each possibly killed), then restarts until done."""
    from agent.standin import Faults, load_demo_snapshot, serve

    rng = random.Random(seed)
    res = TrialResult(seed=seed)
    t0 = time.monotonic()
    with serve(load_demo_snapshot(), faults=Faults(latency_s=rng.uniform(0.0, 0.08), path="/exchange")) as server:
        preexisting, adapter, plan, plan_path = crashkit.setup(server, workdir / f"plan-c{seed}.json")
        res.actions = len(plan.actions)
        db = workdir / f"journal-c{seed}.sqlite"
        pair = [crashkit._pick_crash(rng, len(plan.actions)) if rng.random() < 0.6 else "none" for _ in range(2)]
        procs = [_start_child(server.url, db, plan_path, crash) for crash in pair]
        final = ""
        for proc, crash in zip(procs, pair, strict=True):
            code, out = _wait(proc, crash, rng)
            res.runs += 1
            if code == 0:
                final = crashkit.last_report(out) or final
            else:
                res.kills += 1
                res.crashes.append(crash)
        for _ in range(3):  # restarts until a clean finish
            code, out = crashkit._run_child(server.url, db, plan_path, "none", rng)
            res.runs += 1
            if code == 0:
                final = crashkit.last_report(out) or final
                break
        res.status = json.loads(final)["status"] if final else "no report"
        crashkit.check(res, server, preexisting, db, plan, adapter)
    res.seconds = time.monotonic() - t0
    return res


def _config(workdir: Path, seed: int, url: str) -> Path:
    cfg = workdir / f"hb-{seed}.toml"
    targets = "".join(f'"{k}" = {v}\n' for k, v in TARGET.items())
    cfg.write_text(
        f'network = "{url}"\ndb = "{made_db(workdir / f"hb-{seed}.db")}"\n\n[heartbeat]\ninterval = "6h"\n'
        f'max_notional_per_tick_usd = 100000\nmax_trades_per_tick = 8\n\n[lease]\nwait = "60s"\nttl = "10s"\n\n'
        f'[hyperliquid]\norder_ttl = "2s"\n\n[targets]\n{targets}'
    )
    return cfg


def run_heartbeats_trial(seed: int, workdir: Path) -> TrialResult:
    """Two auto heartbeats in one slot (one possibly killed), then one more tick; nothing traded twice."""
    from agent.standin import Faults, load_demo_snapshot, serve

    rng = random.Random(seed)
    res = TrialResult(seed=seed)
    t0 = time.monotonic()
    with serve(load_demo_snapshot(), faults=Faults(latency_s=rng.uniform(0.05, 0.3), path="/exchange")) as server:
        preexisting = set(server.exchange.account.orders)
        adapter = crashkit._adapter(server.url)
        state, market = adapter.account_state(), adapter.market()
        equity, before = state.equity(market), state.weights(market)
        need = {c: abs(before.get(c, 0.0) - w) * equity for c, w in TARGET.items() if c != "USDC"}
        res.actions = sum(1 for v in need.values() if v > 10)
        cfg = _config(workdir, seed, server.url)
        cmd = [str(SCRIPT), "heartbeat", "--once", "--autonomy", "auto", "--config", str(cfg), "--json"]
        first = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(rng.uniform(0.0, 0.5))
        second = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        victim = rng.choice([first, second, None, None])
        if victim is not None:
            time.sleep(rng.uniform(0.3, 2.0))
            victim.send_signal(signal.SIGKILL)
            res.kills += 1
            res.crashes.append("delay")
        statuses = []
        for p in (first, second):
            out, err = p.communicate(timeout=180)
            res.runs += 1
            if p.returncode == 0:
                statuses.append(json.loads(out)["status"])
            elif p.returncode != -signal.SIGKILL:
                raise RuntimeError(f"heartbeat failed ({p.returncode}): {err[-2000:]}")
        # the next slot (another interval, so another slot id): a slot whose tick was killed mid-execution is
        # only reconciled in its own slot ("recovered"), and the next slot finishes the job
        nxt = [*cmd[:3], "--interval", "5h", *cmd[3:]]
        last = subprocess.run(nxt, capture_output=True, text=True, timeout=180, check=False)
        res.runs += 1
        if last.returncode != 0:
            raise RuntimeError(f"heartbeat failed ({last.returncode}): {last.stderr[-2000:]}")
        statuses.append(json.loads(last.stdout)["status"])
        with server.exchange.lock:
            orders = [o for oid, o in server.exchange.account.orders.items() if oid not in preexisting]
            fills = list(server.exchange.account.fills)
        cloids = [o.cloid for o in orders if o.cloid]
        res.at_exchange = res.sent = res.intended = len(orders)
        res.duplicates = sum(n - 1 for n in Counter(cloids).values() if n > 1)
        traded: Counter[str] = Counter()
        name_of = {info.wire_name: coin for coin, info in market.assets.items()}
        for f in fills:
            traded[name_of.get(f["coin"], f["coin"])] += float(f["sz"]) * float(f["px"])
        res.overfilled = sum(1 for c, usd in traded.items() if usd > need.get(c, 0.0) * 1.05 + 12.0)
        after, mkt = adapter.account_state(), adapter.market()
        w = after.weights(mkt)
        res.drift = 0.5 * sum(abs(w.get(k, 0.0) - TARGET.get(k, 0.0)) for k in set(w) | set(TARGET))
        # the job got done (the drift check) and no tick failed; which tick did it depends on the kill
        failed = [s for s in statuses if s.startswith(("error", "executed:failed", "executed:incomplete"))]
        res.status = ",".join(failed) if failed else "ok"
    res.seconds = time.monotonic() - t0
    return res


def run_trials(mode: str, n: int, seed0: int = 0, workdir: Path | None = None, workers: int = 2) -> list[TrialResult]:
    import tempfile
    from concurrent.futures import ThreadPoolExecutor

    trial = {"executors": run_executors_trial, "heartbeats": run_heartbeats_trial}[mode]
    with tempfile.TemporaryDirectory() as tmp:
        where = workdir or Path(tmp)
        with ThreadPoolExecutor(max_workers=workers) as pool:
            return list(pool.map(lambda i: trial(seed0 + i, where), range(n)))


def summary(results: list[TrialResult]) -> dict[str, Any]:
    return crashkit.summary(results)

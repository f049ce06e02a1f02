"""kill -9 of a heartbeat mid-tick, then restart: no order is sent twice and the journal is consistent.

The stand-in runs in this test process (it outlives the killed heartbeat); the heartbeat runs as the
real console script against it over loopback. /exchange answers slowly so the kill lands mid-plan.
"""

from __future__ import annotations

import signal
import subprocess
import time
from collections import Counter

import pytest
from clirun import SCRIPT, clean_env, made_db, run

from agent.adapters.store.db import Store
from agent.standin import Faults, load_demo_snapshot, serve

TARGET = '"UBTC/USDC" = 0.25\n"UETH/USDC" = 0.30\n"USOL/USDC" = 0.25\nAVAX = 0.0\nUSDC = 0.20\n'


def wait_for(predicate, timeout=30.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not reached")
        time.sleep(0.01)


@pytest.mark.slow  # kill -9 of real processes
@pytest.mark.parametrize("orders_before_kill", [1, 2], ids=["after-first-order", "after-second-order"])
def test_kill_minus_9_mid_tick_then_restart_does_not_trade_twice(tmp_path, orders_before_kill):
    with serve(load_demo_snapshot(), faults=Faults(latency_s=0.4, path="/exchange")) as server:
        account = server.exchange.account
        initial = len(account.orders)
        db = made_db(tmp_path / "h.db")
        cfg = tmp_path / "rebalancer.toml"
        cfg.write_text(
            f'network = "{server.url}"\ndb = "{db}"\n\n[heartbeat]\ninterval = "6h"\n'
            f"max_notional_per_tick_usd = 100000\n\n"
            # a short order expiry: the restart resolves an in-flight order in seconds, not 30 s
            f'[hyperliquid]\norder_ttl = "2s"\n\n[targets]\n{TARGET}'
        )
        env = clean_env()
        proc = subprocess.Popen(
            [str(SCRIPT), "heartbeat", "--once", "--autonomy", "auto", "--config", str(cfg)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_for(lambda: len(account.orders) - initial >= orders_before_kill)
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=10)
        sent_before_restart = len(account.orders) - initial
        server.faults.latency_s = 0.0

        p = run("heartbeat", "--once", "--autonomy", "auto", "--config", str(cfg), "--json")
        assert p.returncode == 0, p.stderr
        # same 6h slot: the restarted tick reconciles and does not act again (or, across a slot boundary,
        # re-plans from the real state)
        assert '"status": "recovered"' in p.stdout or '"status": "executed' in p.stdout, p.stdout

        cloids = Counter(o.cloid for o in account.orders.values() if o.cloid)
        assert all(n == 1 for n in cloids.values()), "an order was sent twice"
        store = Store(db)
        rows = store.journal.rows()
        stuck = [r for r in rows if r.state in ("PENDING", "SENT", "UNKNOWN")]
        assert not stuck, stuck
        assert set(cloids) <= {r.cloid for r in rows}, "an exchange order has no journal row"
        # each plan action was filled at most once in total
        filled: dict[tuple[str, int], float] = {}
        size: dict[tuple[str, int], float] = {}
        for r in rows:
            key = (r.plan_id, r.action_index)
            filled[key] = filled.get(key, 0.0) + r.filled_sz
            size[key] = max(size.get(key, 0.0), r.size)
        assert all(filled[k] <= size[k] + 1e-9 for k in filled)
        store.close()
        assert sent_before_restart >= orders_before_kill

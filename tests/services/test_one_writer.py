"""One writer per account (issue 9): a lease with an owner, an expiry and a fencing token.

Real processes (the console script) against one stand-in in this test process, over loopback.
"""

from __future__ import annotations

import json
import os
import subprocess
import time

import pytest
from clirun import SCRIPT, clean_env, made_db, run, run_json

from agent.adapters.store.db import Store
from agent.adapters.store.leases import LeaseLost
from agent.core.orders import OrderIntent, make_cloid
from agent.standin import Faults, load_demo_snapshot, serve

TARGET = '"UBTC/USDC" = 0.25\n"UETH/USDC" = 0.30\n"USOL/USDC" = 0.25\nAVAX = 0.0\nUSDC = 0.20\n'


def config(tmp_path, url: str) -> str:
    cfg = tmp_path / "rebalancer.toml"
    cfg.write_text(
        f'network = "{url}"\ndb = "{made_db(tmp_path / "h.db")}"\n\n[heartbeat]\ninterval = "6h"\n'
        f'max_notional_per_tick_usd = 100000\n\n[lease]\nwait = "30s"\n\n[targets]\n{TARGET}'
    )
    return str(cfg)


def env() -> dict[str, str]:
    return clean_env()


@pytest.mark.slow  # two real heartbeats against a slow stand-in
@pytest.mark.parametrize("stagger_s", [0.0, 0.5], ids=["together", "half-a-second-apart"])
def test_two_heartbeats_in_one_slot_trade_once(tmp_path, stagger_s):
    with serve(load_demo_snapshot(), faults=Faults(latency_s=0.3, path="/exchange")) as server:
        cfg = config(tmp_path, server.url)
        before = len(server.exchange.account.orders)
        cmd = [str(SCRIPT), "heartbeat", "--once", "--autonomy", "auto", "--config", cfg, "--json"]
        first = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env())
        time.sleep(stagger_s)
        second = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env())
        outs = [p.communicate(timeout=120)[0] for p in (first, second)]
        statuses = sorted(json.loads(o)["status"] for o in outs)
        assert statuses == ["executed:ok", "skipped"], outs  # the second waited, then found its slot done
        coins = [o.coin for o in list(server.exchange.account.orders.values())[before:]]
        assert len(coins) == len(set(coins)), f"an asset was traded twice: {coins}"


@pytest.mark.slow  # several console-script runs
def test_a_held_lease_makes_execute_refuse_and_reads_never_wait(tmp_path):
    with serve(load_demo_snapshot()) as server:
        cfg = config(tmp_path, server.url)
        (tmp_path / "rebalancer.toml").write_text(
            (tmp_path / "rebalancer.toml").read_text().replace('wait = "30s"', 'wait = "1s"')
        )
        _, plan = run_json("preview", "--config", cfg)
        store = Store(tmp_path / "h.db")
        held = store.leases.acquire(
            server.exchange.account.user.lower(),
            "elsewhere:1:x",
            ttl_s=120,
            now=time.time(),
            pid=os.getpid(),
            purpose="execute another plan",
        )
        assert held is not None
        started = time.monotonic()
        code, _ = run_json("status", "--config", cfg)
        assert code == 0 and time.monotonic() - started < 10  # a read never waits for the lease
        p = run("execute", plan["plan_id"], "--confirm", plan["confirm_token"], "--yes", "--config", cfg)
        assert p.returncode == 3 and f"account busy (held by pid {os.getpid()}" in p.stderr
        assert store.journal.count() == 0
        assert store.plans.get(plan["plan_id"]).status == "previewed"  # the token was not spent
        store.leases.release(held)
        p = run("execute", plan["plan_id"], "--confirm", plan["confirm_token"], "--yes", "--config", cfg)
        assert p.returncode == 0, p.stderr
        store.close()


def test_a_writer_whose_lease_was_taken_over_cannot_journal(tmp_path):
    store = Store(tmp_path / "h.db")
    mine = store.leases.acquire("0xacc", "me", ttl_s=0.01, now=time.time(), pid=1)
    assert mine is not None
    time.sleep(0.05)
    theirs = store.leases.acquire("0xacc", "them", ttl_s=60, now=time.time(), pid=2)
    assert theirs is not None and theirs.fence == mine.fence + 1
    intent = OrderIntent(
        cloid=make_cloid("p_1", 0, 1), asset=0, wire_name="BTC", coin="BTC", is_buy=True, size=0.001, limit_px=1e5
    )
    with pytest.raises(LeaseLost):
        store.journal.intend("p_1", 0, 1, intent, lease=mine)
    assert store.journal.count() == 0
    store.journal.intend("p_1", 0, 1, intent, lease=theirs)
    assert store.journal.rows()[0].fence == theirs.fence
    store.close()

"""kill -9 in the middle of a transfer, restart, and no transfer happens twice.

The stand-in runs in this process; ``rebalancer fleet execute`` runs as a child that is killed with
SIGKILL while a transfer is in flight (its row journaled ``SENT``). Trials:

- ``late``: the request reaches the exchange after the kill and is applied: the restart finds it in the
  ledger and sends the rest;
- ``second``: every /exchange request is slow; the kill lands while the second transfer is in flight;
- ``lost``: the request never arrives: the restart waits out its ``expiresAfter``, finds nothing, abandons
  it (exit 4, plan incomplete) and a new preview plans what is still needed.

In every trial the stand-in's ledger holds each amount at most once, and once the fleet is allocated the
total moved equals what was planned.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import time

import pytest
from clirun import SCRIPT, clean_env, run_json

from agent.standin import serve

from .fleetkit import fleet_snapshot, ledger, write_config

FIXED = 'method = "fixed"\nweights = {core = 0.5, trend = 0.25, carry = 0.25}'


def _wait_sent(db: str, index: int, proc: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        try:
            with sqlite3.connect(db) as c:
                row = c.execute("SELECT state FROM transfers WHERE idx = ?", (index,)).fetchone()
        except sqlite3.OperationalError:
            row = None
        if row and row[0] == "SENT":
            return
        time.sleep(0.05)
    raise AssertionError(f"transfer {index} never went out")


@pytest.mark.slow
@pytest.mark.parametrize("trial", ["late", "second", "lost"])
def test_kill_9_mid_transfer_then_restart_sends_no_transfer_twice(tmp_path, trial):
    with serve(fleet_snapshot()) as server:
        cfg = write_config(tmp_path, server.url, FIXED, extra='[hyperliquid]\norder_ttl = "3s"\ntimeout_s = 2.0\n')
        code, p = run_json("fleet", "preview", "--config", str(cfg))
        assert code == 0 and len(p["transfers"]) == 2, p
        faults = server.faults
        faults.path = "/exchange"
        if trial == "late":
            faults.kind, faults.late_s, faults.late_next = "subAccountTransfer", 1.5, 1
        elif trial == "second":
            faults.latency_s = 1.0
        else:
            faults.kind, faults.hang_s, faults.timeout_next = "subAccountTransfer", 1.5, 1
        args = [
            str(SCRIPT),
            "fleet",
            "execute",
            p["plan_id"],
            "--confirm",
            p["confirm_token"],
            "--yes",
            "--json",
            "--config",
            str(cfg),
        ]
        child = subprocess.Popen(args, env=clean_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        _wait_sent(str(tmp_path / "fleet.db"), 1 if trial == "second" else 0, child)
        deadline = time.monotonic() + 10  # the request has reached the exchange (its fault is taken)
        while (faults.late_next or faults.timeout_next) and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.3)
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        time.sleep(2.0)  # what was in flight lands (late, second) or is dropped (lost)
        faults.clear()
        faults.kind = None
        landed_before_restart = len(ledger(server))

        code, report = run_json(
            "fleet", "execute", p["plan_id"], "--confirm", p["confirm_token"], "--yes", "--config", str(cfg)
        )
        amounts = [float(line["delta"]["usdc"]) for line in ledger(server)]
        assert len(amounts) == len(set(amounts))  # no transfer twice
        if trial == "lost":
            assert landed_before_restart == 0 and code == 4, report
            assert report["transfers"][0]["state"] == "ABANDONED" and amounts == []
            code, p2 = run_json("fleet", "preview", "--config", str(cfg))
            assert code == 0 and p2["transfers"]
            code, report = run_json(
                "fleet", "execute", p2["plan_id"], "--confirm", p2["confirm_token"], "--yes", "--config", str(cfg)
            )
            assert code == 0, report
            assert len(ledger(server)) == len(p2["transfers"])
        else:
            assert code == 0, report
            assert report["status"] == "executed"
            assert sorted(amounts) == sorted(t["usd"] for t in p["transfers"])
        print(
            f"trial {trial}: landed before restart {landed_before_restart}, ledger {len(ledger(server))}, "
            f"planned {len(p['transfers'])}"
        )

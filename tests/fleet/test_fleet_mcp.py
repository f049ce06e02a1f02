"""MCP tools take an optional ``account``: the configured account by default, any ``[[accounts]]`` entry by name,
through fastmcp's in-process client against a stand-in serving a master and its subaccounts."""

from __future__ import annotations

import anyio
import pytest
from fastmcp import Client
from fastmcp.exceptions import ToolError

from agent.services.config import Settings
from agent.services.runtime import open_runtime
from agent.standin import DEMO_ACCOUNT_ADDRESS, serve
from tools.server import build_server

from .fleetkit import SUBS, fleet_snapshot


class McpSession:
    """fastmcp's in-process client, one session per call."""

    def __init__(self, server) -> None:
        self.server = server

    def call(self, name: str, arguments: dict | None = None) -> dict:
        async def go() -> dict:
            async with Client(self.server) as c:
                return (await c.call_tool(name, arguments or {})).structured_content

        return anyio.run(go)

    def error(self, name: str, arguments: dict | None = None) -> str:
        with pytest.raises(ToolError) as info:
            self.call(name, arguments)
        return str(info.value)


@pytest.fixture
def session(tmp_path):
    accounts = [{"name": "core", "address": DEMO_ACCOUNT_ADDRESS, "role": "master"}]
    accounts += [{"name": n, "address": a, "targets": {"BTC": 0.2, "USDC": 0.8}} for n, a, *_ in SUBS]
    with serve(fleet_snapshot()) as server:
        settings = Settings.model_validate(
            {
                "network": server.url,
                "db": str(tmp_path / "mcp.db"),
                "accounts": accounts,
                "allocation": {"method": "fixed", "weights": {"core": 0.5, "trend": 0.25, "carry": 0.25}},
            }
        )
        with open_runtime(settings) as svc:
            yield McpSession(build_server(svc))


def test_the_account_argument_picks_the_account_and_defaults_to_the_configured_one(session):
    master = session.call("get_portfolio")
    trend = session.call("get_portfolio", {"account": "trend"})
    carry = session.call("get_portfolio", {"account": "carry"})
    assert [p["coin"] for p in trend["positions"]] == ["BTC"]
    assert carry["positions"] == [] and carry["equity_usd"] == pytest.approx(1_500.0)
    assert master["equity_usd"] != trend["equity_usd"]
    drift = session.call("get_drift", {"account": "trend"})
    assert drift["target_source"] == "config" and drift["target"]["BTC"] == pytest.approx(0.2)


def test_an_unknown_account_is_a_one_line_error(session):
    message = session.error("get_portfolio", {"account": "ghost"})
    assert "ghost" in message and "not configured" in message

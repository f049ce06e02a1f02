"""Helpers and fixtures for the MCP tests: a fresh runtime on the local stand-in per test, a sync client.

The runtime is the real one (``agent.services.runtime.open_runtime``): the in-process Hyperliquid stand-in seeded
with the demo account, the real SDK adapter over loopback, a fresh SQLite history per test, and a clock the
test can move. Tools are called through fastmcp's in-process ``Client(server)``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import anyio
import pytest
from clirun import made_db
from doubles import FakeClock
from fastmcp import Client, FastMCP
from fastmcp.exceptions import ToolError

from agent.services.app import Services
from agent.services.config import Settings, load_settings
from agent.services.runtime import open_runtime
from tools.registry import llm_tools
from tools.server import build_server

TARGETS = {"UBTC/USDC": 0.25, "UETH/USDC": 0.30, "USOL/USDC": 0.25, "AVAX": 0.0, "USDC": 0.20}


class Mcp:
    """Synchronous access to a server through fastmcp's in-process client (one session per call)."""

    def __init__(self, server: FastMCP) -> None:
        self.server = server

    def call(self, name: str, arguments: dict[str, Any] | None = None) -> dict[str, Any]:
        async def go() -> dict[str, Any]:
            async with Client(self.server) as c:
                result = await c.call_tool(name, arguments or {})
                assert result.structured_content is not None
                return result.structured_content

        return anyio.run(go)

    def error(self, name: str, arguments: dict[str, Any] | None = None) -> str:
        """The ToolError message of a call that must fail."""
        with pytest.raises(ToolError) as info:
            self.call(name, arguments)
        return str(info.value)

    def tools(self) -> dict[str, Any]:
        async def go() -> dict[str, Any]:
            async with Client(self.server) as c:
                return {t.name: t for t in await c.list_tools()}

        return anyio.run(go)


def make_settings(tmp_path: Any, **update: Any) -> Settings:
    settings = load_settings(env={"REBALANCER_DB": str(made_db(tmp_path / "h.db"))})
    return settings.model_copy(update={"targets": dict(TARGETS), **update})


@pytest.fixture
def settings(tmp_path: Any) -> Settings:
    return make_settings(tmp_path)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime.now(UTC))


@pytest.fixture
def services(settings: Settings, clock: FakeClock) -> Iterator[Services]:
    with open_runtime(settings, clock=clock, model_tools=llm_tools) as svc:
        yield svc


@pytest.fixture
def mcp(services: Services) -> Mcp:
    return Mcp(build_server(services))


@pytest.fixture
def mcp_read_only(services: Services) -> Mcp:
    return Mcp(build_server(services, read_only=True))

"""The tax tools through fastmcp's in-process client: read-only, the same numbers as the CLI."""

from __future__ import annotations

import anyio
import pytest
from fastmcp import Client

from agent.services.config import load_settings
from agent.services.runtime import open_runtime
from tools.registry import llm_tools
from tools.server import build_server


def call(server, name, args):
    async def go():
        async with Client(server) as c:
            tools = {t.name: t for t in await c.list_tools()}
            result = await c.call_tool(name, args, raise_on_error=False)
            return tools, result

    return anyio.run(go)


def test_get_tax_report_and_lots_over_mcp(tax_config):
    with open_runtime(load_settings(tax_config(), env={}), model_tools=llm_tools) as svc:
        server = build_server(svc)
        tools, result = call(server, "get_tax_report", {"year": 2026})
        assert tools["get_tax_report"].annotations.read_only_hint is True
        assert tools["get_tax_lots"].annotations.read_only_hint is True
        report = result.structured_content
        assert report["totals"]["short_gain_usd"] == pytest.approx(-244.95, abs=0.01)
        _, lots = call(server, "get_tax_lots", {"jurisdiction": "de"})
        assert lots.structured_content["jurisdiction"] == "de"
        assert {r["asset"] for r in lots.structured_content["lots"]} == {"UBTC", "UETH", "USOL"}
        _, bad = call(server, "get_tax_report", {"year": 1900})
        assert bad.is_error
        assert "get_tax_report" not in {t.name for t in llm_tools(svc)}  # not offered to the strategist

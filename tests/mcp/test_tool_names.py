"""One list of tool names and kinds: the registry, the strategist and the chat all follow it."""

from __future__ import annotations

import pytest

from agent.interfaces.chat import CHAT_TOOLS
from agent.strategist import tool_names
from agent.strategist.loop import DESTRUCTIVE_TOOLS
from tools.base import TOOLS, NoArgs, tool


def test_the_registry_serves_exactly_the_listed_tools_with_their_kinds():
    assert {t.name: t.kind for t in TOOLS} == tool_names.KINDS


def test_a_tool_not_in_the_list_or_of_another_kind_is_refused_at_import():
    def get_weather(services, args):  # not listed
        return {}

    def get_portfolio(services, args):  # listed as a read, declared a write
        return {}

    with pytest.raises(TypeError, match="get_weather: not listed as a 'read' tool"):
        tool(NoArgs, "read", "Weather")(get_weather)
    with pytest.raises(TypeError, match="get_portfolio: not listed as a 'write' tool"):
        tool(NoArgs, "write", "Portfolio")(get_portfolio)
    assert {t.name: t.kind for t in TOOLS} == tool_names.KINDS  # nothing was added


def test_the_derived_lists_agree():
    assert tool_names.CHANGES_STATE == DESTRUCTIVE_TOOLS
    assert tool_names.CHANGES_STATE | {"preview_rebalance"} == tool_names.NOT_FOR_THE_MODEL
    assert tool_names.IN_THE_PROMPT <= tool_names.READ_ONLY
    # the chat reads, previews, and stores a target the person stated (never a trade or the kill switch)
    assert set(CHAT_TOOLS) <= tool_names.READ_ONLY | {"preview_rebalance", "set_target_allocation"}

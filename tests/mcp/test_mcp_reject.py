"""MCP ``reject_plan`` through fastmcp's in-process client: the token is spent, the reason reaches the next
decision, and bad input changes nothing."""

from __future__ import annotations

import pytest
from mcp_support import Mcp

from agent.services.app import Services
from agent.services.trading.targets import context
from agent.strategist import tool_names
from agent.strategist.summary import render_state_summary
from tools.registry import llm_tools

REASON = "keep the ETH: I am moving it to cold storage this week"


def test_reject_plan_spends_the_token_and_the_next_decision_sees_the_reason(mcp: Mcp, services: Services):
    plan = mcp.call("preview_rebalance")
    out = mcp.call("reject_plan", {"plan_id": plan["plan_id"], "reason": REASON})
    assert out["status"] == "rejected"
    assert out["rejection"]["reason"] == REASON and out["rejection"]["by"] == "mcp"
    assert out["note"]  # marked as untrusted data like every result
    error = mcp.error("execute_rebalance", {"plan_id": plan["plan_id"], "confirm_token": plan["confirm_token"]})
    assert "rejected" in error
    assert mcp.call("get_plan", {"plan_id": plan["plan_id"]})["status"] == "rejected"
    state, market = services.observe()
    summary = render_state_summary(context(services, state, market))
    assert "<rejected_plans>" in summary and REASON in summary


def test_reject_plan_is_a_write_tool_never_offered_to_the_strategist(mcp: Mcp, services: Services):
    a = mcp.tools()["reject_plan"].annotations
    assert (a.read_only_hint, a.destructive_hint, a.idempotent_hint) == (False, False, False)
    assert tool_names.KINDS["reject_plan"] == "write" and "reject_plan" in tool_names.NOT_FOR_THE_MODEL
    assert "reject_plan" not in {t.name for t in llm_tools(services)}
    assert "reject_plan" not in tool_names.CHAT  # the chat's model cannot reject: the person says "no"


def test_read_only_servers_do_not_offer_it(mcp_read_only: Mcp):
    assert "reject_plan" not in mcp_read_only.tools()


@pytest.mark.parametrize(
    ("arguments", "says"),
    [
        ({"plan_id": "p_unknown", "reason": "no"}, "unknown plan id"),
        ({"reason": "no"}, "plan_id"),
        ({"plan_id": "PLAN", "reason": ""}, "reason"),
        ({"plan_id": "PLAN", "reason": "x" * 501}, "reason"),
        ({"plan_id": "PLAN", "reason": "  \n "}, "reason"),
        ({"plan_id": "PLAN", "reason": "no", "extra": 1}, "unknown field"),
    ],
    ids=["unknown-id", "no-id", "empty-reason", "oversized-reason", "blank-reason", "extra-field"],
)
def test_bad_arguments_are_refused_and_change_nothing(mcp: Mcp, services: Services, arguments: dict, says: str):
    plan = mcp.call("preview_rebalance")
    args = {k: (plan["plan_id"] if v == "PLAN" else v) for k, v in arguments.items()}
    assert says in mcp.error("reject_plan", args)
    stored = services.store.plans.get(plan["plan_id"])
    assert stored is not None and stored.status == "previewed" and stored.rejection is None


def test_an_executed_plan_cannot_be_rejected(mcp: Mcp, services: Services):
    plan = mcp.call("preview_rebalance")
    done = mcp.call("execute_rebalance", {"plan_id": plan["plan_id"], "confirm_token": plan["confirm_token"]})
    assert done["status"] in ("ok", "dry-run"), done
    error = mcp.error("reject_plan", {"plan_id": plan["plan_id"], "reason": "changed my mind"})
    assert "only a previewed plan can be rejected" in error
    stored = services.store.plans.get(plan["plan_id"])
    assert stored is not None and stored.status.startswith("executed:") and stored.rejection is None

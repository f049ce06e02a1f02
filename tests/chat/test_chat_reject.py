"""Saying no in the chat: "no", "no, <reason>" or "reject <reason>" after a preview rejects it (its token is
spent) and the reason reaches the strategist's next decision."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from doubles import ScriptedClient, submit_turn

from agent.interfaces.chat import SAID_NO, chat
from agent.services.app import Services
from agent.services.trading.targets import context
from agent.strategist.providers import ModelTurn
from agent.strategist.summary import render_state_summary

RISK_OFF = {"UBTC/USDC": 0.1, "UETH/USDC": 0.05, "USDC": 0.85}


def run(services: Services, *lines: str | Callable[[list[str]], str], client: ScriptedClient | None = None) -> str:
    seen: list[str] = []
    feed = iter(lines)

    def type_(prompt: str) -> str:
        line = next(feed, None)
        if line is None:
            raise EOFError
        return line(seen) if callable(line) else line

    chat(services, input_fn=type_, output=seen.append, strategist_client=client, model="m")
    return "\n".join(seen)


def shown_plan(seen: list[str]) -> str:
    (plan_id,) = re.findall(r"type: confirm (\S+)", "\n".join(seen))
    return plan_id


def the_prompt(services: Services) -> str:
    state, market = services.observe()
    return render_state_summary(context(services, state, market))


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("reject too much selling of ETH at once", "too much selling of ETH at once"),
        ("no, I want to keep the SOL", "I want to keep the SOL"),
        ("No", SAID_NO),
    ],
    ids=["reject-reason", "no-comma-reason", "bare-no"],
)
def test_saying_no_after_an_offline_preview_rejects_it_with_the_reason(services: Services, line: str, reason: str):
    out = run(services, "preview", line)
    (row,) = services.plans()
    assert f"Plan {row['plan_id']} rejected: {reason}" in out
    assert row["status"] == "rejected" and row["rejection"] == {**row["rejection"], "reason": reason, "by": "chat"}
    assert reason in the_prompt(services)


def test_with_a_model_the_person_rejects_and_the_token_can_no_longer_execute(services: Services):
    client = ScriptedClient(
        [
            submit_turn("preview_rebalance", {"weights": RISK_OFF, "reasoning": "risk off"}, call_id="p1"),
            ModelTurn(stop="end_turn", text="Here is a risk-off plan."),
        ]
    )
    plan_id: list[str] = []

    def confirm_it(seen: list[str]) -> str:
        return f"confirm {plan_id[0]}"

    def reject_it(seen: list[str]) -> str:
        plan_id.append(shown_plan(seen))
        return f"reject {plan_id[0]} too defensive for a bull market"

    out = run(services, "go risk off", reject_it, confirm_it, client=client)
    assert "rejected: too defensive for a bull market" in out
    assert f"No preview {plan_id[0]!r} in this chat" in out  # the token went with the rejection
    assert services.store.journal.count() == 0
    assert "too defensive for a bull market" in the_prompt(services)


def test_reject_with_no_preview_says_so_and_no_is_an_ordinary_question_then(services: Services):
    out = run(services, "reject not now")
    assert "No preview in this chat to reject" in out
    out = run(services, "no")
    assert "rejected" not in out and "No model is configured" in out  # nothing to say no to: not a rejection
    assert services.plans() == []


def test_an_oversized_reason_is_refused_and_the_preview_stays(services: Services):
    out = run(services, "preview", "reject " + "x" * 600)
    assert "Refused: reason: 600 characters; at most 500" in out
    (row,) = services.plans()
    assert row["status"] == "previewed" and "rejection" not in row

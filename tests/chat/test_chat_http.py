"""The chat through the real OpenAI SDK against scripted HTTP answers (respx, the API's real shapes).

Whatever the model writes, the person sees the drift table from ``get_drift``'s own result; a target the
model proposes is shown and stored (by the service behind MCP's ``set_target_allocation``) only when the
person types ``confirm target``; a preview executes only with the person's ``confirm <plan_id>``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from clirun import made_db
from strategist_llm.shapes import OPENAI_URL, openai_completion, openai_tool_call

from agent.interfaces.chat import chat
from agent.services.app import Services
from agent.services.config import load_settings
from agent.services.runtime import open_runtime
from agent.strategist.openai_provider import OpenAIClient
from agent.strategist.providers import RetryPolicy

KEY = "sk-test-openai-0123456789abcdef"
NEW_TARGET = {"UBTC/USDC": 0.3, "UETH/USDC": 0.3, "USOL/USDC": 0.2, "USDC": 0.2}


def tool(name: str, arguments: dict[str, Any], call_id: str) -> httpx.Response:
    return httpx.Response(200, json=openai_completion(tool_calls=[openai_tool_call(name, arguments, call_id)]))


def words(text: str) -> httpx.Response:
    return httpx.Response(200, json=openai_completion(content=text, finish_reason="stop"))


@pytest.fixture
def router() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_mocked=True, assert_all_called=False) as r:
        r.route(host__in=("127.0.0.1", "localhost", "::1")).pass_through()
        yield r


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    """The demo account on the local stand-in, with no target configured or stored."""
    with open_runtime(load_settings(env={"REBALANCER_DB": str(made_db(tmp_path / "c.db"))})) as svc:
        yield svc


def talk(services: Services, *lines: Any, offline: bool = False) -> str:
    seen: list[str] = []
    queue = iter(lines)

    def person(prompt: str) -> str:
        line = next(queue, None)
        if line is None:
            raise EOFError
        return line(seen) if callable(line) else line

    client = None if offline else OpenAIClient(api_key=KEY, retry=RetryPolicy(max_retries=0))
    chat(services, input_fn=person, output=seen.append, strategist_client=client, model="gpt-4.1-mini")
    return "\n".join(seen)


def test_whats_my_drift_prints_the_drift_table_and_the_models_words(services: Services, router):
    services.set_target(dict(NEW_TARGET))
    route = router.post(OPENAI_URL).mock(side_effect=[tool("get_drift", {}, "c1"), words("Your drift is 0.186439 ;")])
    out = talk(services, "what's my drift?")
    assert route.call_count == 2
    assert "Current vs target" in out  # printed by the program from the tool's result
    for coin in ("UBTC/USDC", "UETH/USDC", "USOL/USDC", "USDC"):
        assert coin in out
    assert "Target: the stored target" in out and "exchange data 20" in out
    assert out.rstrip().endswith("Your drift is 0.186439 ;")  # the model's words come after the table
    sent = json.loads(route.calls[1].request.content)
    (result,) = [m for m in sent["messages"] if m["role"] == "tool"]
    assert json.loads(result["content"])["data"]["shown_to_the_person"] == "the drift table above"


def test_with_no_target_yet_the_drift_answer_says_so_without_asking_the_strategist(services: Services, router):
    route = router.post(OPENAI_URL).mock(side_effect=[tool("get_drift", {}, "c1"), words("No target yet.")])
    out = talk(services, "what's my drift?")
    assert route.call_count == 2  # the chat's two requests; no strategist conversation inside the tool
    assert "Current weights (no target yet)" in out and "no target yet" in out


def test_the_chat_sets_a_target_previews_and_executes_with_the_persons_confirmations(services: Services, router):
    route = router.post(OPENAI_URL).mock(
        side_effect=[
            tool("set_target_allocation", {"weights": NEW_TARGET, "reasoning": "more BTC"}, "t1"),
            words("Proposed; type the confirmation to store it."),
            tool("preview_rebalance", {}, "p1"),
            words("Here is the plan."),
        ]
    )

    def confirm_plan(seen: list[str]) -> str:
        (plan_id,) = re.findall(r"type: confirm (p_\S+)", "\n".join(seen))
        return f"confirm {plan_id}"

    out = talk(services, "set my target to 30/30/20 and 20 cash", "confirm target", "preview it", confirm_plan)
    assert "Proposed target" in out and "To store it, type: confirm target" in out
    assert services.current_target() is not None
    assert services.current_target().allocations == pytest.approx(NEW_TARGET)
    assert "Target stored" in out
    assert "Plan (in order" in out and "Execution: ok" in out
    (plan,) = services.plans()
    assert plan["status"] == "executed:ok" and plan["source"] == "chat"
    assert route.call_count == 4
    assert KEY not in out


def test_a_target_is_not_stored_without_the_persons_confirmation(services: Services, router):
    router.post(OPENAI_URL).mock(
        side_effect=[tool("set_target_allocation", {"weights": NEW_TARGET}, "t1"), words("Stored it for you!")]
    )
    out = talk(services, "set my target", "yes")
    assert services.current_target() is None and "Stored it for you!" in out


def test_a_chat_turn_stops_at_its_model_call_limit_with_one_line(services: Services, router):
    route = router.post(OPENAI_URL).mock(return_value=tool("get_market", {"coins": ["BTC"]}, "m1"))
    out = talk(services, "loop")
    limit = services.settings.chat.max_model_calls
    assert route.call_count == limit
    (line,) = [x for x in out.splitlines() if "max_model_calls" in x]
    assert f"stopped after {limit} model requests" in line


def test_with_no_model_the_chat_still_sets_a_target_on_confirmation_and_shows_the_drift(services: Services):
    out = talk(
        services,
        "target UBTC/USDC=0.3 UETH/USDC=0.3 USOL/USDC=0.2 USDC=0.2",
        "drift",
        "confirm target",
        "drift",
        "target BTC=lots",
        offline=True,
    )
    assert services.current_target() is not None
    assert services.current_target().allocations == pytest.approx(NEW_TARGET)
    assert "Proposed target" in out and "Target stored" in out
    assert "Target: the stored target" in out
    assert "error: cannot read 'BTC=lots'" in out

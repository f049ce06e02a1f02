"""Decision-loop logic against a scripted model: attempts, tool budget, budgets, statuses, prompt stability."""

from __future__ import annotations

import json

import pytest
from doubles import ScriptedClient, submit_turn

from agent.core.errors import ConfigError
from agent.strategist.base import Decision, DecisionContext, Strategist, ToolSpec, Usage
from agent.strategist.loop import LLMStrategist, estimate_tokens
from agent.strategist.providers import BudgetExhausted, ModelTurn, ToolCall, ToolResults, TransportFailed

from .conftest import make_market, make_state
from .shapes import GOOD_TARGET


def run(turns, catalogue, ctx, **kw) -> tuple[Decision, ScriptedClient]:
    client = ScriptedClient(turns)
    return LLMStrategist(client, model="m", strategies=catalogue, **kw).decide(ctx), client


def ro_tool(calls: list[dict]) -> ToolSpec:
    def handler(args: dict) -> dict:
        calls.append(args)
        return {"BTC": {"mid": 100_000.0}}

    return ToolSpec("get_market", "Market data.", {"type": "object", "properties": {}}, handler)


def call(name: str, args: str = "{}", cid: str = "c1") -> ModelTurn:
    return ModelTurn(stop="tool_use", tool_calls=(ToolCall(cid, name, args),))


def test_llm_strategist_is_a_strategist(catalogue):
    s: Strategist = LLMStrategist(ScriptedClient([]), model="m", strategies=catalogue)
    assert s.name == "llm:scripted"


def test_valid_target_first_try(catalogue, ctx):
    decision, client = run([submit_turn("submit_target", GOOD_TARGET)], catalogue, ctx)
    assert decision.status == "ok" and decision.attempts == 1
    assert decision.target is not None and decision.target.strategy_id == "balanced-growth"
    assert decision.reasoning == "Trend up, keep the core."
    assert len(client.requests) == 1


def test_invalid_then_valid_is_accepted_with_feedback(catalogue, ctx):
    bad = dict(GOOD_TARGET, selected_strategy="nope")
    decision, client = run(
        [submit_turn("submit_target", bad), submit_turn("submit_target", GOOD_TARGET, call_id="c2")], catalogue, ctx
    )
    assert decision.status == "ok" and decision.attempts == 2 and len(decision.raw_replies) == 2
    results = client.requests[1].messages[-1]
    assert isinstance(results, ToolResults)
    assert "unknown strategy 'nope'" in results.results[0].content
    assert "balanced-growth" in results.results[0].content  # the valid choices are listed


def test_read_only_calls_do_not_count_as_attempts(catalogue, ctx):
    seen: list[dict] = []
    ctx.tools = [ro_tool(seen)]
    turns = [call("get_market", cid=f"r{i}") for i in range(3)] + [submit_turn("submit_target", GOOD_TARGET)]
    decision, _ = run(turns, catalogue, ctx, max_attempts=1)
    assert decision.status == "ok" and len(seen) == 3 and decision.attempts == 1


def test_tool_call_budget_is_enforced(catalogue, ctx):
    seen: list[dict] = []
    ctx.tools = [ro_tool(seen)]
    turns = [call("get_market", cid=f"r{i}") for i in range(10)]
    decision, client = run(turns, catalogue, ctx, max_tool_calls=2, max_attempts=3)
    assert decision.status == "failed_invalid" and decision.target is None
    assert len(seen) == 2  # the handler never ran past the budget
    assert len(client.requests) == 5
    assert "tool-call budget (2) spent" in client.requests[3].messages[-1].results[0].content  # type: ignore[union-attr]


def test_tool_arguments_are_parsed_strictly_and_errors_fed_back(catalogue, ctx):
    seen: list[dict] = []
    ctx.tools = [ro_tool(seen)]
    decision, client = run(
        [call("get_market", '{"a": 1, "a": 2}'), submit_turn("submit_target", GOOD_TARGET)], catalogue, ctx
    )
    assert decision.status == "ok" and seen == []
    assert "duplicate key" in client.requests[1].messages[-1].results[0].content  # type: ignore[union-attr]


def test_failing_tool_is_reported_not_fatal(catalogue, ctx):
    def boom(args: dict) -> dict:
        raise RuntimeError("exchange down")

    ctx.tools = [ToolSpec("get_market", "x", {"type": "object", "properties": {}}, boom)]
    decision, client = run([call("get_market"), submit_turn("submit_target", GOOD_TARGET)], catalogue, ctx)
    assert decision.status == "ok"
    result = client.requests[1].messages[-1].results[0]  # type: ignore[union-attr]
    assert result.is_error and "exchange down" in result.content


def test_prose_without_tool_call_is_an_attempt(catalogue, ctx):
    prose = ModelTurn(stop="end_turn", text="BTC looks good.")
    decision, _ = run([prose, prose, prose], catalogue, ctx)
    assert decision.status == "failed_invalid" and "no tool was called" in (decision.error or "")


def test_refusal(catalogue, ctx):
    decision, _ = run([ModelTurn(stop="refusal", refusal="no")], catalogue, ctx)
    assert decision.status == "failed_refused" and decision.target is None and len(decision.raw_replies) == 1


def test_transport_failure(catalogue, ctx):
    decision, _ = run([TransportFailed("gave up after 4 tries: HTTP 503", status=503)], catalogue, ctx)
    assert decision.status == "failed_transport" and "503" in (decision.error or "")


def test_budget_exhausted_in_client(catalogue, ctx):
    decision, _ = run([BudgetExhausted("time budget spent while retrying")], catalogue, ctx)
    assert decision.status == "failed_budget"


def test_token_budget(catalogue, ctx):
    expensive = ModelTurn(stop="end_turn", text="hmm", usage=Usage(prompt_tokens=5000, completion_tokens=100))
    decision, client = run([expensive, expensive], catalogue, ctx, token_budget=6000, max_attempts=5)
    assert decision.status == "failed_budget" and decision.target is None
    assert len(client.requests) == 2 and decision.usage.prompt_tokens == 10_000


def test_token_budget_estimated_when_server_reports_no_usage(catalogue, ctx):
    silent = ModelTurn(stop="end_turn", text="hmm")
    decision, client = run([silent] * 5, catalogue, ctx, token_budget=500, max_attempts=5)
    assert decision.status == "failed_budget" and len(client.requests) == 1


def test_time_budget(catalogue, ctx):
    now = [0.0]

    def clock() -> float:
        now[0] += 40.0
        return now[0]

    prose = ModelTurn(stop="end_turn", text="thinking")
    client = ScriptedClient([prose] * 5)
    decision = LLMStrategist(
        client, model="m", strategies=catalogue, time_budget_s=100, max_attempts=5, clock=clock
    ).decide(ctx)
    assert decision.status == "failed_budget" and "time budget" in (decision.error or "")
    assert client.requests[0].deadline == 140.0


def test_two_submits_in_one_turn_are_rejected(catalogue, ctx):
    both = ModelTurn(
        stop="tool_use",
        tool_calls=(
            ToolCall("a", "submit_target", json.dumps(GOOD_TARGET)),
            ToolCall("b", "submit_target", json.dumps(GOOD_TARGET)),
        ),
    )
    decision, _ = run([both, both, both], catalogue, ctx)
    assert decision.status == "failed_invalid"


def test_valid_actions_answer(catalogue, ctx):
    actions = {
        "selected_strategy": "balanced-growth",
        "actions": [
            {
                "action_type": "sell",
                "coin": "PURR/USDC",
                "market_type": "spot",
                "size": 40_000,
                "price": None,
                "reasoning": "exit",
            },
            {
                "action_type": "buy",
                "coin": "ETH",
                "market_type": "perp",
                "size": 2.5,
                "price": 3990.0,
                "reasoning": "enter",
            },
        ],
        "reasoning": "rotate",
    }
    decision, _ = run([submit_turn("submit_actions", actions)], catalogue, ctx)
    assert decision.status == "ok" and decision.target is not None
    assert decision.target.allocations == pytest.approx({"BTC": 0.4, "ETH": 0.2, "USDC": 0.4})


def test_static_prefix_is_byte_stable_across_states(catalogue, ctx):
    s = LLMStrategist(ScriptedClient([]), model="m", strategies=catalogue)
    other = DecisionContext(state=make_state().model_copy(update={"usdc_spot_total": 12_345.0}), market=make_market())
    a, b = s.first_request(ctx), s.first_request(other)
    assert a.system == b.system and a.tools == b.tools
    assert a.messages != b.messages
    again = LLMStrategist(ScriptedClient([]), model="m", strategies=dict(reversed(list(catalogue.items()))))
    assert again.first_request(ctx) == a  # catalogue order does not matter; rendering is deterministic


def test_state_summary_rows(catalogue, ctx):
    text = LLMStrategist(ScriptedClient([]), model="m", strategies=catalogue).first_request(ctx).messages[0].text
    lines = text.splitlines()
    assert lines[0] == "<portfolio_state>"
    assert "equity_usd=50000.00" in lines[1]
    assert lines[3] == "coin|mkt|maxlev|mid|w|tgt|drift|fapr|ret7d|vol30d"
    # funding 0.0000125/h = 0.11 a year; features to two decimals; weights to 0.1 pp, without trailing zeros
    assert lines[4] == "BTC|perp|40|100000|0.4|0.4|0|0.11|0.03|0.42"
    assert lines[5] == "ETH|perp|25|4000|0|0.3|-0.3|-0.09|-0.01|0.55"
    assert lines[6] == "PURR/USDC|spot|-|0.25|0.2|0|0.2|-|-|-"
    assert lines[7] == "USDC|cash|-|1|0.4|0.3|0.1|-|-|-"
    assert "portfolio_drift=0.3000" in text


def test_empty_catalogue_is_a_config_error():
    with pytest.raises(ConfigError):
        LLMStrategist(ScriptedClient([]), model="m", strategies={})


def test_real_strategy_library_loads_by_default(ctx):
    answer = dict(GOOD_TARGET, target_allocation=[{"coin": "BTC", "weight": 0.3}, {"coin": "USDC", "weight": 0.7}])
    s = LLMStrategist(ScriptedClient([submit_turn("submit_target", answer)]), model="m")
    assert "balanced-growth" in s.strategies
    assert s.system[1].startswith("<strategy_catalogue>\nbalanced-growth: ")
    assert s.decide(ctx).status == "ok"


def test_estimate_tokens():
    assert estimate_tokens("") == 0 and estimate_tokens("abcd") == 1 and estimate_tokens("abcde") == 2

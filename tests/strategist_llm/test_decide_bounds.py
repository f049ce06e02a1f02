"""A decision's model requests are bounded, and no tool offered to a model asks a model (HTTP layer, respx).

The runtime is the real one on the local stand-in, with no target configured or stored, so every read that
plans would need the strategist: exactly the case where ``get_drift`` once asked the strategist from inside
the strategist's own conversation, 317 requests deep.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from clirun import made_db

from agent.core.errors import StrategistFailedClosed
from agent.services.app import Services
from agent.services.config import load_settings
from agent.services.runtime import open_runtime
from agent.strategist.conversation import model_tool_scope
from tools.registry import by_name, llm_tools

from .conftest import FAKE_OPENAI_KEY
from .shapes import OPENAI_URL, openai_completion, openai_tool_call

DEMO_TARGET = {
    "selected_strategy": "balanced-growth",
    "target_allocation": [
        {"coin": "BTC", "weight": 0.3},
        {"coin": "ETH", "weight": 0.2},
        {"coin": "USDC", "weight": 0.5},
    ],
    "reasoning": "Core only; cash until the trend is clearer.",
}


def calls(name: str, arguments: dict[str, Any], call_id: str = "call_1") -> httpx.Response:
    return httpx.Response(200, json=openai_completion(tool_calls=[openai_tool_call(name, arguments, call_id)]))


def runtime(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **strategist: Any) -> Any:
    monkeypatch.setenv("OPENAI_API_KEY", FAKE_OPENAI_KEY)
    settings = load_settings(env={"REBALANCER_DB": str(made_db(tmp_path / "d.db"))})
    cfg = settings.strategist.model_copy(update={"provider": "openai", **strategist})
    return open_runtime(settings.model_copy(update={"strategist": cfg}), model_tools=llm_tools)


@pytest.fixture
def svc(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Services]:
    with runtime(tmp_path, monkeypatch) as services:
        yield services


def tool_messages(route: Any, index: int) -> list[dict[str, Any]]:
    body = json.loads(route.calls[index].request.content)
    return [m for m in body["messages"] if m["role"] == "tool"]


def test_no_tool_offered_to_a_model_asks_the_strategist(svc: Services):
    asked: list[int] = []

    def strategist() -> Any:
        asked.append(1)
        raise AssertionError("a tool asked the strategist")

    svc.strategist_factory = strategist
    registry = by_name()
    args = {"compute_target": {"strategy_id": "equal-weight"}, "get_market": {"coins": ["BTC"]}}
    offered = {s.name for s in llm_tools(svc)} | {"get_drift", "get_portfolio", "get_history"}  # + the chat's
    for name in sorted(offered):
        with model_tool_scope():
            try:
                registry[name].call(svc, args.get(name, {}), caller="strategist")
            except Exception as e:  # a tool may fail ("no target yet"); it must not ask a model
                assert "no target yet" in str(e) or not isinstance(e, AssertionError), name
    assert asked == []
    with model_tool_scope():
        drift = registry["get_drift"].call(svc, {}, caller="chat")
    assert drift["target"] is None and drift["reason"].startswith("no target yet")
    assert {r["coin"] for r in drift["rows"]} >= {"UBTC/USDC", "USDC"}


def test_a_decision_that_calls_a_planning_tool_makes_two_requests_not_three_hundred(svc: Services, no_network):
    route = no_network.post(OPENAI_URL).mock(
        side_effect=[calls("get_sensitivity", {}), calls("submit_target", DEMO_TARGET, "call_2")]
    )
    decision = svc.decide()
    assert decision.status == "ok" and route.call_count == 2
    (result,) = tool_messages(route, 1)
    assert "no target yet" in result["content"]  # the tool said so instead of asking the strategist
    u = decision.usage
    assert (u.model_calls, u.prompt_tokens, u.completion_tokens, u.cached_prompt_tokens) == (2, 4200, 170, 3840)
    assert u.latency_s >= 0
    (stored,) = svc.store.records.decisions(limit=1)
    assert stored["usage"]["model_calls"] == 2 and stored["usage"]["prompt_tokens"] == 4200
    assert "latency_s" in stored["usage"]


@pytest.mark.parametrize("limit", [6, 3], ids=["default", "configured"])
def test_a_model_that_never_submits_is_stopped_at_max_model_calls(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_network, limit: int
):
    route = no_network.post(OPENAI_URL).mock(return_value=calls("get_market", {"coins": ["BTC"]}))
    overrides = {} if limit == 6 else {"max_model_calls": limit}
    with runtime(tmp_path, monkeypatch, max_tool_calls=50, **overrides) as svc:
        assert svc.settings.strategist.max_model_calls == limit
        with pytest.raises(StrategistFailedClosed) as failed:
            svc.preview()
    assert route.call_count == limit
    assert failed.value.status == "failed_call_limit"
    assert f"stopped after {limit} model requests" in str(failed.value) and "\n" not in str(failed.value)


def test_the_opening_prompt_at_20_assets_is_under_3000_tokens():
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
    from doubles import ScriptedClient
    from prompt_tokens import SIZES, build_context, measure

    from agent.strategist.library import load_strategies
    from agent.strategist.loop import LLMStrategist

    assert 20 in SIZES
    strategist = LLMStrategist(ScriptedClient([]), model="gpt-4.1-mini", strategies=load_strategies())
    assert measure(strategist.first_request(build_context(20)))["total_tokens"] < 3000

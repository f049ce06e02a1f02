"""OpenAI-compatible servers (Ollama, vLLM, llama.cpp): native tools, and the JSON-in-content fallback."""

from __future__ import annotations

import json

import httpx

from agent.strategist.compat import NO_KEY, OpenAICompatClient, parse_json_tool_call
from agent.strategist.loop import LLMStrategist

from .shapes import GOOD_TARGET, openai_completion, openai_error, openai_submit, sent_json

BASE = "http://llm.lan:11434/v1"
URL = f"{BASE}/chat/completions"


def strategist(client, catalogue) -> LLMStrategist:
    return LLMStrategist(client, model="qwen2.5:7b", strategies=catalogue)


def content_reply(text: str) -> httpx.Response:
    return httpx.Response(200, json=openai_completion(content=text, finish_reason="stop"))


def test_native_tools_without_strict_and_openai_key_never_sent(monkeypatch, no_network, retry, catalogue, ctx):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-real-openai-key-must-not-leak")
    route = no_network.post(URL).mock(return_value=openai_submit())
    client = OpenAICompatClient(BASE, retry=retry, tool_mode="tools")
    decision = strategist(client, catalogue).decide(ctx)
    assert decision.status == "ok" and decision.provider == "openai-compatible"
    request = route.calls[0].request
    assert request.headers["authorization"] == f"Bearer {NO_KEY}"
    body = sent_json(route)
    assert all("strict" not in t["function"] for t in body["tools"])
    assert body["max_tokens"] == 1024 and "max_completion_tokens" not in body


def test_explicit_key_is_sent(no_network, retry, catalogue, ctx):
    route = no_network.post(URL).mock(return_value=openai_submit())
    strategist(OpenAICompatClient(BASE, api_key="vllm-token", retry=retry), catalogue).decide(ctx)
    assert route.calls[0].request.headers["authorization"] == "Bearer vllm-token"


def test_auto_mode_falls_back_to_json_when_server_has_no_tools(no_network, retry, catalogue, ctx):
    no_tools = openai_error(400, "registry.ollama.ai/library/gemma2:2b does not support tools", "api_error", None)
    fenced = "```json\n" + json.dumps({"tool": "submit_target", "arguments": GOOD_TARGET}) + "\n```"
    route = no_network.post(URL).mock(side_effect=[no_tools, content_reply(fenced)])
    client = OpenAICompatClient(BASE, retry=retry)
    decision = strategist(client, catalogue).decide(ctx)
    assert decision.status == "ok" and client.tool_mode == "json"
    body = sent_json(route, 1)
    assert "tools" not in body and body["response_format"] == {"type": "json_object"}
    assert "<tool_protocol>" in body["messages"][0]["content"]
    assert '"submit_target"' not in body["messages"][1]["content"]  # state stays after the static prefix


def test_json_mode_history_has_no_tool_roles(no_network, retry, catalogue, ctx):
    bad = json.dumps({"tool": "submit_target", "arguments": dict(GOOD_TARGET, selected_strategy="nope")})
    good = json.dumps({"tool": "submit_target", "arguments": GOOD_TARGET})
    route = no_network.post(URL).mock(side_effect=[content_reply(bad), content_reply(good)])
    client = OpenAICompatClient(BASE, retry=retry, tool_mode="json")
    decision = strategist(client, catalogue).decide(ctx)
    assert decision.status == "ok" and decision.attempts == 2
    msgs = sent_json(route, 1)["messages"]
    assert [m["role"] for m in msgs] == ["system", "user", "assistant", "user"]
    assert json.loads(msgs[2]["content"])["tool"] == "submit_target"
    assert msgs[3]["content"].startswith('<tool_result tool="submit_target" error="true">')
    assert "unknown strategy" in msgs[3]["content"]


def test_json_mode_unparseable_content_fails_closed(no_network, retry, catalogue, ctx):
    no_network.post(URL).mock(return_value=content_reply("Sure! I'd put 40% in BTC."))
    decision = strategist(OpenAICompatClient(BASE, retry=retry, tool_mode="json"), catalogue).decide(ctx)
    assert decision.status == "failed_invalid" and decision.target is None and len(decision.raw_replies) == 3


def test_tools_mode_reads_a_tool_call_the_server_left_in_content(no_network, retry, catalogue, ctx):
    text = json.dumps({"name": "submit_target", "arguments": GOOD_TARGET})
    no_network.post(URL).mock(return_value=content_reply(text))
    decision = strategist(OpenAICompatClient(BASE, retry=retry, tool_mode="tools"), catalogue).decide(ctx)
    assert decision.status == "ok"


def test_503_while_model_loads_is_retried(no_network, retry, catalogue, ctx):
    loading = openai_error(503, "Loading model", "unavailable_error", None)
    no_network.post(URL).mock(side_effect=[loading, openai_submit()])
    assert strategist(OpenAICompatClient(BASE, retry=retry), catalogue).decide(ctx).status == "ok"


def test_json_tool_call_parser_is_strict():
    ok = parse_json_tool_call('{"tool": "submit_target", "arguments": {"a": 1}}')
    assert ok.name == "submit_target" and json.loads(ok.raw_arguments) == {"a": 1}
    for bad in (
        'Here you go: {"tool": "x", "arguments": {}}',
        '{"tool": "x", "arguments": {}, "extra": 1}',
        '{"tool": "x", "tool": "y", "arguments": {}}',
        '{"tool": "x", "arguments": {"w": NaN}}',
        '{"tool": "x", "arguments": []}',
        "[1, 2]",
    ):
        try:
            parse_json_tool_call(bad)
        except ValueError:
            continue
        raise AssertionError(f"accepted {bad!r}")

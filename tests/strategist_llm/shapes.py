"""The providers' real response shapes (as their APIs return them), built for respx routes."""

from __future__ import annotations

import json
from typing import Any

import httpx

OPENAI_URL = "https://api.openai.com/v1/chat/completions"
ANTHROPIC_URL = "https://api.anthropic.com/v1/messages"

GOOD_TARGET: dict[str, Any] = {
    "selected_strategy": "balanced-growth",
    "target_allocation": [
        {"coin": "BTC", "weight": 0.4},
        {"coin": "ETH", "weight": 0.3},
        {"coin": "USDC", "weight": 0.3},
    ],
    "reasoning": "Trend up, keep the core.",
}


def openai_tool_call(name: str, arguments: str | dict[str, Any], call_id: str = "call_abc123") -> dict[str, Any]:
    args = arguments if isinstance(arguments, str) else json.dumps(arguments)
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": args}}


def openai_completion(
    *,
    tool_calls: list[dict[str, Any]] | None = None,
    content: str | None = None,
    refusal: str | None = None,
    finish_reason: str = "tool_calls",
    prompt_tokens: int = 2100,
    cached_tokens: int = 1920,
    completion_tokens: int = 85,
) -> dict[str, Any]:
    """A ``chat.completion`` object exactly as the API returns it."""
    message: dict[str, Any] = {"role": "assistant", "content": content, "refusal": refusal, "annotations": []}
    if tool_calls:
        message["tool_calls"] = tool_calls
    return {
        "id": "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT",
        "object": "chat.completion",
        "created": 1763000000,
        "model": "gpt-4.1-mini-2025-04-14",
        "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": finish_reason}],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
            "prompt_tokens_details": {"cached_tokens": cached_tokens, "audio_tokens": 0},
            "completion_tokens_details": {
                "reasoning_tokens": 0,
                "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0,
            },
        },
        "service_tier": "default",
        "system_fingerprint": "fp_6b68a8204b",
    }


def openai_submit(arguments: str | dict[str, Any] = GOOD_TARGET, name: str = "submit_target") -> httpx.Response:
    return httpx.Response(200, json=openai_completion(tool_calls=[openai_tool_call(name, arguments)]))


def openai_error(status: int, message: str, etype: str, code: str | None, headers: dict[str, str] | None = None):
    body = {"error": {"message": message, "type": etype, "param": None, "code": code}}
    return httpx.Response(status, json=body, headers=headers or {})


def anthropic_message(
    content: list[dict[str, Any]],
    *,
    stop_reason: str = "tool_use",
    input_tokens: int = 180,
    output_tokens: int = 95,
    cache_read: int = 1900,
    cache_creation: int = 0,
) -> dict[str, Any]:
    """A Messages API ``message`` object exactly as the API returns it."""
    return {
        "id": "msg_01XFDUDYJgAACzvnptvVoYEL",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-5-20250929",
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": {
            "input_tokens": input_tokens,
            "output_tokens": output_tokens,
            "cache_read_input_tokens": cache_read,
            "cache_creation_input_tokens": cache_creation,
            "service_tier": "standard",
        },
    }


def anthropic_tool_use(name: str, tool_input: dict[str, Any], block_id: str = "toolu_01A09q90qw90lq917835lq9") -> dict:
    return {"type": "tool_use", "id": block_id, "name": name, "input": tool_input}


def anthropic_submit(tool_input: dict[str, Any] = GOOD_TARGET, name: str = "submit_target") -> httpx.Response:
    content = [{"type": "text", "text": "Submitting."}, anthropic_tool_use(name, tool_input)]
    return httpx.Response(200, json=anthropic_message(content))


def anthropic_error(status: int, etype: str, message: str, headers: dict[str, str] | None = None) -> httpx.Response:
    body = {"type": "error", "error": {"type": etype, "message": message}, "request_id": "req_011CSHoEeqs5C35K2UUqR7Fy"}
    return httpx.Response(status, json=body, headers=headers or {})


def sent_json(route: Any, index: int = -1) -> dict[str, Any]:
    """The JSON body the SDK sent in the ``index``-th call of a respx route."""
    return json.loads(route.calls[index].request.content)

"""Anthropic Messages API with tool use.

The prompt prefix is cached explicitly: Anthropic orders a request as tools → system → messages, so one
``cache_control`` breakpoint on the last static system block caches the tool definitions, the system prompt
and the strategy catalogue; the per-decision state follows in the first user message.

``tool_choice`` is ``{"type": "any"}`` (the model must call a tool, so it cannot end in prose) with parallel
tool use disabled, or ``auto`` when the loop allows prose. Stop reasons: ``tool_use`` → a call;
``end_turn``/``stop_sequence``/``pause_turn`` → prose; ``max_tokens``/``model_context_window_exceeded`` →
truncated (any partial tool input is not trusted); ``refusal`` → refused.

Construct: ``AnthropicClient()`` reads ``ANTHROPIC_API_KEY``; or ``AnthropicClient(api_key=...)``.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from typing import Any

import anthropic
import httpx

from agent.core.errors import ConfigError
from agent.strategist.base import Usage
from agent.strategist.providers import (
    AssistantTurn,
    ChatRequest,
    Message,
    ModelTurn,
    RetryPolicy,
    StopKind,
    ToolCall,
    ToolDef,
    ToolResults,
    TransportFailed,
    UserText,
    classify_sdk_error,
    describe_sdk_error,
    remaining_timeout,
)

_STOP: dict[str, StopKind] = {
    "tool_use": "tool_use",
    "end_turn": "end_turn",
    "stop_sequence": "end_turn",
    "pause_turn": "end_turn",
    "max_tokens": "truncated",
    "model_context_window_exceeded": "truncated",
    "refusal": "refusal",
}


def _tool_input(raw: str) -> dict[str, Any]:
    try:
        value = json.loads(raw)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def anthropic_messages(messages: tuple[Message, ...]) -> list[dict[str, Any]]:
    """Neutral messages → Messages API turns (tool results as ``tool_result`` blocks in a user turn)."""
    out: list[dict[str, Any]] = []
    for m in messages:
        if isinstance(m, UserText):
            out.append({"role": "user", "content": m.text})
        elif isinstance(m, AssistantTurn):
            blocks: list[dict[str, Any]] = []
            if m.text:
                blocks.append({"type": "text", "text": m.text})
            blocks += [
                {"type": "tool_use", "id": c.id, "name": c.name, "input": _tool_input(c.raw_arguments)}
                for c in m.tool_calls
            ]
            out.append({"role": "assistant", "content": blocks or [{"type": "text", "text": "(no reply)"}]})
        elif isinstance(m, ToolResults):
            out.append(
                {
                    "role": "user",
                    "content": [
                        {"type": "tool_result", "tool_use_id": r.call_id, "content": r.content, "is_error": r.is_error}
                        for r in m.results
                    ],
                }
            )
    return out


def anthropic_system(system: tuple[str, ...], *, cache: bool) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = [{"type": "text", "text": text} for text in system]
    if cache and blocks:
        blocks[-1]["cache_control"] = {"type": "ephemeral"}
    return blocks


def anthropic_tools(tools: tuple[ToolDef, ...], *, strict: bool) -> list[dict[str, Any]]:
    out = []
    for t in tools:
        tool: dict[str, Any] = {"name": t.name, "description": t.description, "input_schema": dict(t.parameters)}
        if strict and t.strict:
            tool["strict"] = True
        out.append(tool)
    return out


def parse_message(message: Any) -> ModelTurn:
    """A ``Message`` → ``ModelTurn``; tool input is re-serialized to JSON text for uniform validation."""
    u = message.usage
    cache_read = getattr(u, "cache_read_input_tokens", 0) or 0
    cache_write = getattr(u, "cache_creation_input_tokens", 0) or 0
    usage = Usage(
        prompt_tokens=(u.input_tokens or 0) + cache_read + cache_write,
        completion_tokens=u.output_tokens or 0,
        cached_prompt_tokens=cache_read,
    )
    texts: list[str] = []
    calls: list[ToolCall] = []
    for block in message.content:
        if block.type == "text":
            texts.append(block.text)
        elif block.type == "tool_use":
            calls.append(ToolCall(id=block.id, name=block.name, raw_arguments=json.dumps(block.input)))
    text = "".join(texts)
    stop = _STOP.get(message.stop_reason or "end_turn", "end_turn")
    if stop == "refusal":
        return ModelTurn(stop="refusal", text=text, refusal=text or "refused", usage=usage)
    if stop == "truncated":
        return ModelTurn(stop="truncated", text=text, usage=usage)
    return ModelTurn(stop=stop, text=text, tool_calls=tuple(calls), usage=usage)


class AnthropicClient:
    """Anthropic Messages. Keys come only from ``api_key=`` or ``ANTHROPIC_API_KEY``; never logged."""

    provider = "anthropic"

    def __init__(
        self,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout_s: float = 60.0,
        retry: RetryPolicy | None = None,
        cache: bool = True,
        strict_tools: bool = True,
        http_client: httpx.Client | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        key = api_key or os.environ.get("ANTHROPIC_API_KEY")
        if not key:
            raise ConfigError("ANTHROPIC_API_KEY is not set (or pass api_key=)")
        self._secret = key
        self._timeout_s = timeout_s
        self._retry = retry or RetryPolicy()
        self._clock = clock
        self.cache = cache
        self.strict_tools = strict_tools
        self._sdk = anthropic.Anthropic(
            api_key=key, base_url=base_url, max_retries=0, timeout=timeout_s, http_client=http_client
        )

    def __repr__(self) -> str:  # never show the key
        return f"AnthropicClient(base_url={str(self._sdk.base_url)!r})"

    def request_kwargs(self, request: ChatRequest) -> dict[str, Any]:
        """The keyword arguments of ``messages.create``."""
        kwargs: dict[str, Any] = {
            "model": request.model,
            "max_tokens": request.max_output_tokens,
            "system": anthropic_system(request.system, cache=self.cache),
            "messages": anthropic_messages(request.messages),
        }
        if request.tools:
            kwargs["tools"] = anthropic_tools(request.tools, strict=self.strict_tools)
            kwargs["tool_choice"] = (
                {"type": "any", "disable_parallel_tool_use": True}
                if request.require_tool
                else {"type": "auto", "disable_parallel_tool_use": True}
            )
        return kwargs

    def _describe(self, exc: Exception) -> TransportFailed:
        return describe_sdk_error(exc, (self._secret,))

    def complete(self, request: ChatRequest) -> ModelTurn:
        kwargs = self.request_kwargs(request)

        def call() -> Any:
            timeout = remaining_timeout(self._timeout_s, request.deadline, self._clock)
            return self._sdk.messages.create(**kwargs, timeout=timeout)

        message = self._retry.run(call, classify_sdk_error, self._describe, deadline=request.deadline)
        return parse_message(message)

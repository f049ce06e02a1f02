"""OpenAI Chat Completions with tool calling; the submit tools carry ``strict: true`` schemas.

OpenAI caches a prompt's prefix automatically (tools, then the system message), so the static prompt goes in
one system message and the per-decision state in the first user message. Parallel tool calls are off because
strict schemas are not guaranteed for parallel calls.

Construct: ``OpenAIClient()`` reads ``OPENAI_API_KEY``; or ``OpenAIClient(api_key=..., base_url=...)``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

import httpx
import openai

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


def openai_messages(system: tuple[str, ...], messages: tuple[Message, ...]) -> list[dict[str, Any]]:
    """Neutral messages → Chat Completions messages (static system text first)."""
    out: list[dict[str, Any]] = [{"role": "system", "content": "\n\n".join(system)}]
    for m in messages:
        if isinstance(m, UserText):
            out.append({"role": "user", "content": m.text})
        elif isinstance(m, AssistantTurn):
            msg: dict[str, Any] = {"role": "assistant", "content": m.text or None}
            if m.tool_calls:
                msg["tool_calls"] = [
                    {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.raw_arguments}}
                    for c in m.tool_calls
                ]
            out.append(msg)
        elif isinstance(m, ToolResults):
            out.extend({"role": "tool", "tool_call_id": r.call_id, "content": r.content} for r in m.results)
    return out


def openai_tools(tools: tuple[ToolDef, ...], *, strict: bool) -> list[dict[str, Any]]:
    """Function tools; ``strict`` is sent only when the server supports it (OpenAI does)."""
    out = []
    for t in tools:
        fn: dict[str, Any] = {"name": t.name, "description": t.description, "parameters": dict(t.parameters)}
        if strict:
            fn["strict"] = t.strict
        out.append({"type": "function", "function": fn})
    return out


_FINISH: dict[str, StopKind] = {
    "tool_calls": "tool_use",
    "function_call": "tool_use",
    "stop": "end_turn",
    "length": "truncated",
    "content_filter": "refusal",
}


def parse_completion(completion: Any) -> ModelTurn:
    """A ``ChatCompletion`` → ``ModelTurn`` (refusal, finish_reason, tool calls, cached-token usage)."""
    usage = Usage()
    u = getattr(completion, "usage", None)
    if u is not None:
        details = getattr(u, "prompt_tokens_details", None)
        usage = Usage(
            prompt_tokens=u.prompt_tokens or 0,
            completion_tokens=u.completion_tokens or 0,
            cached_prompt_tokens=(getattr(details, "cached_tokens", 0) or 0) if details is not None else 0,
        )
    if not completion.choices:
        return ModelTurn(stop="end_turn", usage=usage, format_error="the response had no choices")
    choice = completion.choices[0]
    msg = choice.message
    text = msg.content or ""
    if getattr(msg, "refusal", None):
        return ModelTurn(stop="refusal", text=text, refusal=msg.refusal, usage=usage)
    calls = tuple(
        ToolCall(id=c.id, name=c.function.name, raw_arguments=c.function.arguments or "")
        for c in (msg.tool_calls or [])
        if getattr(c, "function", None) is not None
    )
    stop = _FINISH.get(choice.finish_reason or "stop", "end_turn")
    if stop == "end_turn" and calls:
        stop = "tool_use"  # a forced tool choice ends with finish_reason "stop"
    refusal = "content filter" if stop == "refusal" else None
    return ModelTurn(stop=stop, text=text, tool_calls=calls, refusal=refusal, usage=usage)


class OpenAIClient:
    """OpenAI Chat Completions. Keys come only from ``api_key=`` or ``OPENAI_API_KEY``; never logged."""

    provider = "openai"
    send_strict = True
    limit_param = "max_completion_tokens"

    def __init__(
        self,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout_s: float = 60.0,
        retry: RetryPolicy | None = None,
        http_client: httpx.Client | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        key = api_key or self._key_from_env()
        self._secret = key
        self._timeout_s = timeout_s
        self._retry = retry or RetryPolicy()
        self._clock = clock
        self._sdk = openai.OpenAI(
            api_key=key, base_url=base_url, max_retries=0, timeout=timeout_s, http_client=http_client
        )

    def _key_from_env(self) -> str:
        key = os.environ.get("OPENAI_API_KEY")
        if not key:
            raise ConfigError("OPENAI_API_KEY is not set (or pass api_key=)")
        return key

    def __repr__(self) -> str:  # never show the key
        return f"{type(self).__name__}(base_url={str(self._sdk.base_url)!r})"

    def messages(self, system: tuple[str, ...], messages: tuple[Message, ...]) -> list[dict[str, Any]]:
        return openai_messages(system, messages)

    def request_kwargs(self, request: ChatRequest) -> dict[str, Any]:
        """The keyword arguments of ``chat.completions.create`` (public so tests and benchmarks can see them)."""
        kwargs: dict[str, Any] = {
            "model": request.model,
            "messages": self.messages(request.system, request.messages),
            self.limit_param: request.max_output_tokens,
        }
        if request.tools:
            kwargs["tools"] = openai_tools(request.tools, strict=self.send_strict)
            kwargs["tool_choice"] = "required" if request.require_tool else "auto"
            kwargs["parallel_tool_calls"] = False
        return kwargs

    def _create(self, kwargs: dict[str, Any], deadline: float | None) -> Any:
        def call() -> Any:
            timeout = remaining_timeout(self._timeout_s, deadline, self._clock)
            return self._sdk.chat.completions.create(**kwargs, timeout=timeout)

        return self._retry.run(call, classify_sdk_error, self._describe, deadline=deadline)

    def _describe(self, exc: Exception) -> TransportFailed:
        return describe_sdk_error(exc, (self._secret,))

    def complete(self, request: ChatRequest) -> ModelTurn:
        return parse_completion(self._create(self.request_kwargs(request), request.deadline))

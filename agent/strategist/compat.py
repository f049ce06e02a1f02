"""OpenAI-compatible servers (Ollama, vLLM, llama.cpp server) through the same OpenAI SDK with ``base_url``.

These servers differ in what they support, so the client is tolerant where they are weak and strict where it
matters:

- ``strict`` is not sent by default (several servers reject or ignore it); our own validation rules anyway.
- ``tool_mode="auto"`` sends native tools first; when the server answers that it cannot do tools (an HTTP
  error mentioning tools), it switches to ``"json"`` mode for good: no ``tools`` parameter, a protocol block
  appended to the static system prompt, and the model replies with exactly one JSON object
  ``{"tool": NAME, "arguments": {...}}`` in the message content, parsed strictly (one object, optionally in
  a single code fence, no duplicate keys, no NaN).
- Some servers return a tool call as JSON in the content even in tools mode; that is read the same way.

The key: only an explicitly passed ``api_key`` is sent. ``OPENAI_API_KEY`` is deliberately NOT read, so a
real OpenAI key never goes to a third-party or local server. Without one a placeholder is sent (Ollama and
llama.cpp ignore it).

Construct: ``OpenAICompatClient("http://127.0.0.1:11434/v1")`` (Ollama), ``…:8000/v1`` (vLLM),
``…:8080/v1`` (llama.cpp).
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable
from typing import Any, Literal

import httpx

from agent.strategist.answer import JSONFormatError, strict_json_loads
from agent.strategist.openai_provider import OpenAIClient, parse_completion
from agent.strategist.providers import (
    AssistantTurn,
    ChatRequest,
    Message,
    ModelTurn,
    RetryPolicy,
    ToolCall,
    ToolDef,
    ToolResults,
    TransportFailed,
    UserText,
)

log = logging.getLogger(__name__)

ToolMode = Literal["auto", "tools", "json"]
NO_KEY = "sk-no-key-required"

_FENCE = re.compile(r"\A```(?:json)?[ \t]*\n(?P<body>.*)\n```\Z", re.DOTALL)


def parse_json_tool_call(content: str, call_id: str = "json_1") -> ToolCall:
    """Read ``{"tool": NAME, "arguments": {...}}`` (or ``"name"`` for ``"tool"``) from a message's content."""
    text = content.strip()
    fenced = _FENCE.match(text)
    if fenced:
        text = fenced.group("body").strip()
    obj = strict_json_loads(text)
    if not isinstance(obj, dict):
        raise JSONFormatError("the reply must be one JSON object")
    name_key = "tool" if "tool" in obj else "name"
    if set(obj) != {name_key, "arguments"}:
        raise JSONFormatError('the reply must have exactly the keys "tool" and "arguments"')
    name, args = obj[name_key], obj["arguments"]
    if not isinstance(name, str) or not isinstance(args, dict):
        raise JSONFormatError('"tool" must be a string and "arguments" an object')
    return ToolCall(id=call_id, name=name, raw_arguments=json.dumps(args, ensure_ascii=False))


def json_protocol_block(tools: tuple[ToolDef, ...]) -> str:
    """The static instructions for servers without tool calling (appended to the cached system prefix)."""
    lines = [
        "<tool_protocol>",
        "This server has no native tool calling. To call a tool, reply with exactly one JSON object and",
        'nothing else: {"tool": "<name>", "arguments": {...}}. One call per reply.',
        "Tools (name: description; JSON schema of the arguments):",
    ]
    for t in tools:
        schema = json.dumps(t.parameters, sort_keys=True, separators=(",", ":"))
        lines.append(f"- {t.name}: {t.description}\n  schema: {schema}")
    lines.append("</tool_protocol>")
    return "\n".join(lines)


def json_mode_messages(system: tuple[str, ...], messages: tuple[Message, ...]) -> list[dict[str, Any]]:
    """History without tool roles: calls become the assistant's JSON text, results become user data blocks."""
    out: list[dict[str, Any]] = [{"role": "system", "content": "\n\n".join(system)}]
    for m in messages:
        if isinstance(m, UserText):
            out.append({"role": "user", "content": m.text})
        elif isinstance(m, AssistantTurn):
            if m.tool_calls:
                c = m.tool_calls[0]
                content = f'{{"tool": {json.dumps(c.name)}, "arguments": {c.raw_arguments}}}'
            else:
                content = m.text
            out.append({"role": "assistant", "content": content})
        elif isinstance(m, ToolResults):
            blocks = [
                f'<tool_result tool="{r.name}" error="{str(r.is_error).lower()}">\n{r.content}\n</tool_result>'
                for r in m.results
            ]
            out.append({"role": "user", "content": "\n".join(blocks)})
    return out


def _mentions_tools(failure: TransportFailed) -> bool:
    return failure.status in {400, 404, 422, 500, 501} and "tool" in str(failure).lower()


class OpenAICompatClient(OpenAIClient):
    """An OpenAI-compatible server by base URL; native tools when it has them, JSON in the content otherwise."""

    provider = "openai-compatible"
    limit_param = "max_tokens"

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None = None,
        tool_mode: ToolMode = "auto",
        strict: bool = False,
        json_response_format: bool = True,
        timeout_s: float = 120.0,
        retry: RetryPolicy | None = None,
        http_client: httpx.Client | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.tool_mode: ToolMode = tool_mode
        self.send_strict = strict
        self.json_response_format = json_response_format
        super().__init__(
            api_key=api_key or NO_KEY,
            base_url=base_url,
            timeout_s=timeout_s,
            retry=retry,
            http_client=http_client,
            clock=clock,
        )

    def messages(self, system: tuple[str, ...], messages: tuple[Message, ...]) -> list[dict[str, Any]]:
        if self.tool_mode == "json":
            return json_mode_messages(system, messages)
        return super().messages(system, messages)

    def request_kwargs(self, request: ChatRequest) -> dict[str, Any]:
        if self.tool_mode != "json" or not request.tools:
            return super().request_kwargs(request)
        system = (*request.system, json_protocol_block(request.tools))
        plain = ChatRequest(
            model=request.model,
            system=system,
            tools=(),
            messages=request.messages,
            max_output_tokens=request.max_output_tokens,
            require_tool=request.require_tool,
            deadline=request.deadline,
        )
        kwargs = super().request_kwargs(plain)
        if self.json_response_format:
            kwargs["response_format"] = {"type": "json_object"}
        return kwargs

    def complete(self, request: ChatRequest) -> ModelTurn:
        try:
            completion = self._create(self.request_kwargs(request), request.deadline)
        except TransportFailed as failure:
            if self.tool_mode != "auto" or not request.tools or not _mentions_tools(failure):
                raise
            log.warning("server cannot do tool calling (%s); switching to JSON mode", failure.status)
            self.tool_mode = "json"
            completion = self._create(self.request_kwargs(request), request.deadline)
        turn = parse_completion(completion)
        if turn.tool_calls or turn.stop in ("refusal", "truncated") or not request.tools:
            return turn
        if not turn.text.strip():
            return ModelTurn(stop="end_turn", usage=turn.usage, format_error="empty reply; call a tool")
        try:
            call = parse_json_tool_call(turn.text)
        except JSONFormatError as exc:
            if self.tool_mode != "json":
                return turn  # plain prose in tools mode: the loop asks for a submit call
            return ModelTurn(stop="end_turn", text=turn.text, usage=turn.usage, format_error=str(exc))
        return ModelTurn(stop="tool_use", text=turn.text, tool_calls=(call,), usage=turn.usage)

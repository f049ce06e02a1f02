"""The chat "model client" beneath the LLM strategist: provider-neutral messages, one Protocol, retries.

Every provider (OpenAI, Anthropic, OpenAI-compatible servers, a scripted double for tests) turns a
``ChatRequest`` into one ``ModelTurn``. The decision loop never sees an SDK object, so its logic is tested
once against ``ScriptedClient`` and each provider is tested only for its wire format.

The SDKs are built with ``max_retries=0``: retrying is done here, once, for *transport* failures only
(429, 5xx, 529 overloaded, timeouts, connection errors), with exponential backoff and full jitter, honouring
``Retry-After``. A 200 response whose content is invalid is never retried here: that is the loop's business,
with the validation errors fed back to the model.

Failures are :mod:`agent.core.errors`' ``TransportFailed`` (unreachable after retries, or a non-retryable
HTTP error: 401, 400 …) and ``BudgetExhausted`` (the time budget ran out, also while waiting to retry).
"""

from __future__ import annotations

import email.utils
import json
import logging
import random
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, Protocol, TypeVar

from agent.core.errors import BudgetExhausted, TransportFailed
from agent.strategist.base import Usage

log = logging.getLogger(__name__)

T = TypeVar("T")

StopKind = Literal["tool_use", "end_turn", "truncated", "refusal"]

RETRYABLE_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504, 529})


# --------------------------------------------------------------------------- neutral messages


@dataclass(frozen=True)
class ToolDef:
    """A tool the model may call; ``strict`` asks providers that support it to enforce the schema."""

    name: str
    description: str
    parameters: Mapping[str, Any]
    strict: bool = False


@dataclass(frozen=True)
class ToolCall:
    """One call as the model produced it; ``raw_arguments`` is the JSON text (parsed strictly later)."""

    id: str
    name: str
    raw_arguments: str


@dataclass(frozen=True)
class UserText:
    text: str


@dataclass(frozen=True)
class AssistantTurn:
    text: str = ""
    tool_calls: tuple[ToolCall, ...] = ()


@dataclass(frozen=True)
class ToolResult:
    call_id: str
    name: str
    content: str
    is_error: bool = False


@dataclass(frozen=True)
class ToolResults:
    """The answers to every call of the previous assistant turn (providers require one per call)."""

    results: tuple[ToolResult, ...]


Message = UserText | AssistantTurn | ToolResults


@dataclass(frozen=True)
class ChatRequest:
    """One model call. ``system`` blocks are static and come first so providers can cache the prefix."""

    model: str
    system: tuple[str, ...]
    tools: tuple[ToolDef, ...]
    messages: tuple[Message, ...]
    max_output_tokens: int = 1024
    require_tool: bool = True
    deadline: float | None = None  # time.monotonic() value; None = no time budget


@dataclass(frozen=True)
class ModelTurn:
    """What one model call produced, in provider-neutral form."""

    stop: StopKind
    text: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    refusal: str | None = None
    usage: Usage = field(default_factory=Usage)
    format_error: str | None = None  # compat JSON mode: the content could not be read as a tool call

    def record(self) -> str:
        """The raw reply as stored in ``Decision.raw_replies``: verbatim text and argument strings."""
        return json.dumps(
            {
                "stop": self.stop,
                "text": self.text,
                "refusal": self.refusal,
                "tool_calls": [{"name": c.name, "arguments": c.raw_arguments} for c in self.tool_calls],
            },
            ensure_ascii=False,
        )


class ModelClient(Protocol):
    """A chat model that may call tools. Implementations raise only ``TransportFailed``/``BudgetExhausted``."""

    provider: str

    def complete(self, request: ChatRequest) -> ModelTurn: ...


# --------------------------------------------------------------------------- secrets in error text

_KEY_PATTERNS = re.compile(r"(sk-[A-Za-z0-9_\-*]{4,}|Bearer\s+\S+|x-api-key\s*[:=]\s*\S+)", re.IGNORECASE)


def redact(text: str, secrets: Iterable[str | None] = ()) -> str:
    """Remove API keys (the configured ones, and anything shaped like one) from ``text``."""
    for s in secrets:
        if s and len(s) >= 6:
            text = text.replace(s, "[redacted]")
    return _KEY_PATTERNS.sub("[redacted]", text)


# --------------------------------------------------------------------------- retry policy


@dataclass(frozen=True)
class Transient:
    """Why a failure may be retried, and how long the server asked us to wait."""

    reason: str
    retry_after_s: float | None = None
    status: int | None = None


def parse_retry_after(headers: Mapping[str, str] | None) -> float | None:
    """``retry-after-ms``, then ``retry-after`` as seconds or as an HTTP date; None when absent or bad."""
    if not headers:
        return None
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return max(0.0, float(ms) / 1000.0)
        except ValueError:
            pass
    ra = headers.get("retry-after")
    if not ra:
        return None
    try:
        return max(0.0, float(ra))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(ra)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


@dataclass
class RetryPolicy:
    """Backoff with full jitter for transport errors; ``Retry-After`` wins when the server sends one.

    Example: ``RetryPolicy(max_retries=4, base_delay_s=1.0)``. ``sleep``/``rand``/``clock`` are injectable so
    tests never sleep.
    """

    max_retries: int = 3
    base_delay_s: float = 0.5
    max_delay_s: float = 20.0
    max_retry_after_s: float = 60.0
    sleep: Callable[[float], None] = time.sleep
    rand: Callable[[], float] = random.random
    clock: Callable[[], float] = time.monotonic

    def delay(self, attempt: int, transient: Transient) -> float:
        if transient.retry_after_s is not None:
            return transient.retry_after_s
        cap = min(self.max_delay_s, self.base_delay_s * (2**attempt))
        return cap * self.rand()

    def run(
        self,
        call: Callable[[], T],
        classify: Callable[[Exception], Transient | None],
        describe: Callable[[Exception], TransportFailed],
        *,
        deadline: float | None = None,
    ) -> T:
        """Call ``call``; retry while ``classify`` says the failure is transient and time allows."""
        attempt = 0
        while True:
            try:
                return call()
            except (BudgetExhausted, TransportFailed):
                raise
            except Exception as exc:
                transient = classify(exc)
                if transient is None:
                    raise describe(exc) from None
                failure = describe(exc)
                if attempt >= self.max_retries:
                    raise TransportFailed(
                        f"gave up after {attempt + 1} tries: {failure}", status=failure.status, retryable=True
                    ) from None
                if transient.retry_after_s is not None and transient.retry_after_s > self.max_retry_after_s:
                    raise TransportFailed(
                        f"server asked to wait {transient.retry_after_s:.0f}s: {failure}",
                        status=failure.status,
                        retryable=True,
                    ) from None
                wait = self.delay(attempt, transient)
                if deadline is not None and self.clock() + wait >= deadline:
                    raise BudgetExhausted(f"time budget spent while retrying ({transient.reason})") from None
                log.warning("provider transport error (%s); retry %d in %.2fs", transient.reason, attempt + 1, wait)
                self.sleep(wait)
                attempt += 1


# --------------------------------------------------------------------------- SDK error mapping


def _sdk_error_classes() -> tuple[tuple[type, ...], tuple[type, ...], tuple[type, ...]]:
    """(status errors, timeouts, connection errors) of both SDKs; import lazily, either may be missing."""
    status: list[type] = []
    timeouts: list[type] = []
    conn: list[type] = []
    try:
        import openai

        status.append(openai.APIStatusError)
        timeouts.append(openai.APITimeoutError)
        conn.append(openai.APIConnectionError)
    except ImportError:  # pragma: no cover - openai is a dependency
        pass
    try:
        import anthropic

        status.append(anthropic.APIStatusError)
        timeouts.append(anthropic.APITimeoutError)
        conn.append(anthropic.APIConnectionError)
    except ImportError:  # pragma: no cover - anthropic is a dependency
        pass
    return tuple(status), tuple(timeouts), tuple(conn)


def _error_body(exc: Exception) -> tuple[str | None, str | None, str]:
    """(type, code, message) from an OpenAI ``{"error": {...}}`` or Anthropic ``{"type":"error",...}`` body."""
    body = getattr(exc, "body", None)
    err: Any = body
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        err = body["error"]
    if isinstance(err, dict):
        etype = err.get("type")
        code = err.get("code")
        msg = err.get("message")
        return (
            str(etype) if etype is not None else None,
            str(code) if code is not None else None,
            str(msg) if msg is not None else "",
        )
    return None, None, ""


def classify_sdk_error(exc: Exception) -> Transient | None:
    """Transient for 408/409/429/5xx/529, timeouts and connection errors; None for everything else."""
    status_cls, timeout_cls, conn_cls = _sdk_error_classes()
    if isinstance(exc, timeout_cls):
        return Transient("timeout")
    if isinstance(exc, conn_cls):
        return Transient("connection error")
    if isinstance(exc, status_cls):
        code = int(getattr(exc, "status_code", 0) or 0)
        _etype, ecode, _msg = _error_body(exc)
        if code == 429 and ecode == "insufficient_quota":
            return None  # billing, not load: waiting will not help
        if code in RETRYABLE_STATUS or code >= 500:
            response = getattr(exc, "response", None)
            headers = response.headers if response is not None else None
            return Transient(f"HTTP {code}", parse_retry_after(headers), code)
    return None


def describe_sdk_error(exc: Exception, secrets: Sequence[str | None] = ()) -> TransportFailed:
    """A ``TransportFailed`` whose message says what happened (status, type, code) and holds no key."""
    status_cls, timeout_cls, conn_cls = _sdk_error_classes()
    if isinstance(exc, timeout_cls):
        return TransportFailed("request timed out", retryable=True)
    if isinstance(exc, conn_cls):
        return TransportFailed("connection error", retryable=True)
    if isinstance(exc, status_cls):
        code = int(getattr(exc, "status_code", 0) or 0)
        etype, ecode, msg = _error_body(exc)
        parts = [f"HTTP {code}"]
        if etype:
            parts.append(etype)
        if ecode:
            parts.append(ecode)
        text = " ".join(parts) + (f": {msg[:300]}" if msg else "")
        return TransportFailed(redact(text, secrets), status=code, retryable=classify_sdk_error(exc) is not None)
    return TransportFailed(redact(f"{type(exc).__name__}: {str(exc)[:300]}", secrets))


def remaining_timeout(default_s: float, deadline: float | None, clock: Callable[[], float]) -> float:
    """The per-request timeout: the client's default, shortened so no call outlives the time budget."""
    if deadline is None:
        return default_s
    left = deadline - clock()
    if left <= 0:
        raise BudgetExhausted("time budget spent before the model call")
    return min(default_s, left)

"""Test doubles, in one place: a scripted model client and settable clocks. Never imported by production code.

- :class:`ScriptedClient` replays model turns (or raises exceptions) and records every request;
- :class:`FakeClock` is an aware-datetime clock the test moves (``clock.advance(minutes=6)``);
- :class:`SecondsClock` is a ``time.time``-style clock (seconds) for the stand-in and the executor.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from agent.strategist.providers import ChatRequest, ModelTurn, ToolCall


class FakeClock:
    """A settable clock: tests move time instead of sleeping."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 11, 22, 8, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw: float) -> None:
        self.now += timedelta(**kw)


class SecondsClock:
    """A settable clock in seconds (``time.time`` style)."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class ExchangeClock:
    """The stand-in's clock (``time.time`` style): the wall clock plus what the test moved it on."""

    def __init__(self) -> None:
        self.moved_s = 0.0

    def __call__(self) -> float:
        import time

        return time.time() + self.moved_s

    def advance(self, seconds: float) -> None:
        self.moved_s += seconds


class ScriptedClient:
    """A model double replaying a list of turns (or exceptions to raise); records every request.

    Used by the loop, chat and injection tests and the prompt-token benchmark.
    """

    def __init__(self, turns: Sequence[ModelTurn | Exception], *, provider: str = "scripted") -> None:
        self.provider = provider
        self._turns = list(turns)
        self.requests: list[ChatRequest] = []

    def complete(self, request: ChatRequest) -> ModelTurn:
        self.requests.append(request)
        if not self._turns:
            raise AssertionError("ScriptedClient: the script has no more turns")
        turn = self._turns.pop(0)
        if isinstance(turn, Exception):
            raise turn
        return turn


def submit_turn(name: str, arguments: str | Mapping[str, Any], *, call_id: str = "call_1", text: str = "") -> ModelTurn:
    """A turn that calls one tool: a convenience for scripts (``arguments`` as a dict or raw JSON text)."""
    raw = arguments if isinstance(arguments, str) else json.dumps(arguments)
    return ModelTurn(stop="tool_use", text=text, tool_calls=(ToolCall(call_id, name, raw),))

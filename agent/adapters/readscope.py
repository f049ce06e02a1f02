"""One question, one read: the answers an exchange gave during the current question, for the adapters to reuse.

A question is one command, web request, heartbeat tick or tool call. Inside :func:`question`, an adapter that
asks for something it already asked in the same question (the same venue, the same request body) gets the
first answer back instead of spending rate weight on it again. Outside any question nothing is remembered.

What is remembered is dropped whenever something may have changed it: an adapter calls :func:`forget` before
every state-changing request, and an execution calls it before its fresh-state check. Reads that exist to
see change (order status, fills, TWAP progress) are never remembered: the adapter leaves them out.

The scope is a context variable: each thread or task has its own, and a question's helpers (a web request's
thread-pool calls) share it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

T = TypeVar("T")
_answers: ContextVar[dict[str, Any] | None] = ContextVar("rebalancer_question_answers", default=None)


@contextmanager
def question(*, join: bool = False) -> Iterator[None]:
    """Remember the answers read inside the block. A question opened inside another (a heartbeat tick inside
    the long-running command that ticks) is a new one: it starts knowing nothing, and the outer one resumes
    after it. ``join``: part of the question already open, if any (a tool the strategist calls during a tick)."""
    if join and _answers.get() is not None:
        yield
        return
    token = _answers.set({})
    try:
        yield
    finally:
        _answers.reset(token)


def forget() -> None:
    """Drop what this question has read (something may have changed it)."""
    answers = _answers.get()
    if answers is not None:
        answers.clear()


def key(venue: str, body: Any) -> str:
    """The key of a request: the venue and the body as canonical JSON."""
    return venue + json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)


def answer(key: str | None, ask: Callable[[], T], *, fresh: bool = False) -> T:
    """What this question already got for ``key``, else ``ask()``'s answer (remembered under ``key``).

    ``key`` None: never remembered (a read that polls for change). ``fresh``: asked again, and remembered.
    """
    answers = _answers.get()
    if answers is None or key is None:
        return ask()
    if not fresh and key in answers:
        return answers[key]
    found = answers[key] = ask()
    return found

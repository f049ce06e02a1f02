"""HTTP error answers read the same way whatever their body.

The SDK's own ``API._handle_exception`` reads a 4xx body as JSON and then indexes ``err["code"]`` and
``err["msg"]``: a JSON 4xx without a ``code`` field (or a body that is a list, a string or a number)
escapes as ``KeyError``/``AttributeError``/``TypeError`` instead of ``ClientError``, and a whole
execution stopped on it. :func:`raise_for_status` replaces it on every SDK object the adapter builds:
4xx → ``ClientError`` (``error_code`` and ``error_message`` taken from the body where present, else the
raw text), 5xx → ``ServerError``; below 400 nothing happens.

:func:`post_info` is one budgeted /info request: 429, 5xx, timeouts, connection errors and unparseable bodies
are retried with backoff, then raise ``TemporaryExchangeError``; another 4xx raises ``ExchangeError``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

import requests
from hyperliquid.utils.error import ClientError, ServerError

from agent.adapters.hyperliquid.answers import _unparseable
from agent.core.errors import ExchangeError, TemporaryExchangeError


def raise_for_status(response: Any) -> None:
    status = int(response.status_code)
    if status < 400:
        return
    text = response.text or ""
    if status >= 500:
        raise ServerError(status, text)
    try:
        body = json.loads(text)
    except ValueError:
        body = None
    code = msg = data = None
    if isinstance(body, Mapping):
        code = body.get("code")
        msg = body.get("msg", body.get("error", body.get("message")))
        data = body.get("data")
    raise ClientError(status, code, msg if msg is not None else text, response.headers, data)


def install(*sdk_objects: Any) -> None:
    """Make each SDK object (``API``, ``Info``, ``Exchange``) read error answers with :func:`raise_for_status`."""
    for obj in sdk_objects:
        if obj is not None:
            obj._handle_exception = raise_for_status


def post_info(
    api: Any,
    body: dict[str, Any],
    weight: int,
    budget: Any,
    retries: int,
    backoff_s: float,
    sleep: Callable[[float], None],
) -> Any:
    """One /info answer, ``weight`` taken from ``budget`` per try, at most ``retries`` retries."""
    kind = str(body.get("type"))
    last: Exception | None = None
    for attempt in range(retries + 1):
        if attempt:
            sleep(backoff_s * 2 ** (attempt - 1))
        budget.acquire(weight)
        try:
            answer = api.post("/info", body)
        except ClientError as exc:
            if exc.status_code == 429:
                last = exc
                continue
            raise ExchangeError(f"/info {kind}: HTTP {exc.status_code}: {str(exc.error_message)[:200]}") from None
        except (ServerError, requests.exceptions.RequestException) as exc:
            last = exc
            continue
        if _unparseable(answer):
            last = ValueError("unparseable JSON")
            continue
        return answer
    what = type(last).__name__ if last else "error"
    status = getattr(last, "status_code", None)
    raise TemporaryExchangeError(f"/info {kind}: {what}{f' HTTP {status}' if status else ''} after {retries + 1} tries")

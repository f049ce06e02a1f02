"""HTTP error answers read the same way whatever their body.

The SDK's own ``API._handle_exception`` reads a 4xx body as JSON and then indexes ``err["code"]`` and
``err["msg"]``: a JSON 4xx without a ``code`` field (or a body that is a list, a string or a number)
escapes as ``KeyError``/``AttributeError``/``TypeError`` instead of ``ClientError``, and a whole
execution stopped on it. :func:`raise_for_status` replaces it on every SDK object the adapter builds:
4xx → ``ClientError`` (``error_code`` and ``error_message`` taken from the body where present, else the
raw text), 5xx → ``ServerError``; below 400 nothing happens.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from hyperliquid.utils.error import ClientError, ServerError


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

"""Fault knobs for the stand-in server: latency, 429, 5xx, JSON 4xx, timeouts, late delivery, malformed or
lost responses.

Each ``*_next`` counter answers that many upcoming requests with the fault, then returns to normal.
``path`` restricts the counters and the latency to "/info" or "/exchange" (None: both); ``kind``
restricts them to one request type: an /info ``type`` ("clearinghouseState", "orderStatus", …) or an
/exchange action ``type`` ("order", "cancel", …). ``latency_s`` delays every request (to ``path``).
Counters are consumed in the order: timeout, late, 429, 5xx, JSON 4xx, malformed, lost response.

- ``timeout_next``: hold the connection ``hang_s`` seconds (longer than the client's timeout), then
  close it without an answer. The action is *not* applied.
- ``late_next``: the request is delivered late: held ``late_s`` seconds (longer than the client's
  timeout, so the client has given up), *then* applied, and the connection closed without an answer.
  An /exchange action then meets its ``expiresAfter`` on the stand-in's clock, as on Hyperliquid.
  ``late_landed`` counts the late requests applied so far (a test waits on it, not on a guess).
- ``http_429_next`` / ``http_5xx_next``: answer 429 / ``status_5xx`` with a plain-text body
  (the SDK raises ``ClientError`` / ``ServerError``). Not applied.
- ``http_4xx_json_next``: answer ``status_4xx`` with the JSON body ``body_4xx`` (by default one with no
  ``code`` field, which the SDK's own error handler cannot read). Not applied.
- ``malformed_next``: apply the request, then answer 200 with truncated JSON (the SDK returns
  ``{"error": "Could not parse JSON: ..."}``).
- ``lose_response_next``: apply the request, then drop the answer: close the connection
  (``lose_mode="close"``) or answer 502 (``lose_mode="502"``).
- ``rewrite``: /info type → a function of the stand-in's answer returning the answer to send instead
  (a mid of 0, a negative balance, a missing field), for every such request until removed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any


def request_kind(path: str, request: Any) -> str | None:
    """The request's type: the /info ``type`` or the /exchange ``action.type``."""
    if not isinstance(request, Mapping):
        return None
    if path == "/exchange":
        action = request.get("action")
        return str(action.get("type")) if isinstance(action, Mapping) else None
    kind = request.get("type")
    return str(kind) if kind is not None else None


@dataclass
class Faults:
    latency_s: float = 0.0
    http_429_next: int = 0
    http_5xx_next: int = 0
    http_4xx_json_next: int = 0
    timeout_next: int = 0
    late_next: int = 0
    malformed_next: int = 0
    lose_response_next: int = 0
    path: str | None = None
    kind: str | None = None
    hang_s: float = 10.0
    late_s: float = 3.0
    status_5xx: int = 500
    status_4xx: int = 400
    body_4xx: Any = field(default_factory=lambda: {"error": "Stand-in: bad request"})
    lose_mode: str = "close"
    rewrite: dict[str, Callable[[Any], Any]] = field(default_factory=dict)
    late_landed: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    _ORDER = (
        "timeout_next",
        "late_next",
        "http_429_next",
        "http_5xx_next",
        "http_4xx_json_next",
        "malformed_next",
        "lose_response_next",
    )

    def delays(self, path: str) -> bool:
        """Whether a request to ``path`` waits ``latency_s`` first."""
        return self.latency_s > 0 and (self.path is None or self.path == path)

    def take(self, path: str, kind: str | None = None) -> str | None:
        """Consume and return the next fault for a request to ``path`` of type ``kind`` (the counter's name)."""
        with self._lock:
            if self.path is not None and self.path != path:
                return None
            if self.kind is not None and self.kind != kind:
                return None
            for name in self._ORDER:
                count = getattr(self, name)
                if count > 0:
                    setattr(self, name, count - 1)
                    return name
            return None

    def landed(self) -> None:
        """A late request was applied."""
        with self._lock:
            self.late_landed += 1

    def clear(self) -> None:
        with self._lock:
            self.latency_s = 0.0
            for name in self._ORDER:
                setattr(self, name, 0)

"""Fault knobs for the stand-in server: latency, 429, 5xx, timeouts, malformed or lost responses.

Each ``*_next`` counter answers that many upcoming requests with the fault, then returns to normal.
``path`` restricts the counters and the latency to "/info" or "/exchange" (None: both). ``latency_s``
delays every request (to ``path``). Counters are consumed in the order: timeout, 429, 5xx, malformed, lost response.

- ``timeout_next``: hold the connection ``hang_s`` seconds (longer than the client's timeout), then
  close it without an answer. The action is *not* applied.
- ``http_429_next`` / ``http_5xx_next``: answer 429 / ``status_5xx`` with a plain-text body
  (the SDK raises ``ClientError`` / ``ServerError``). Not applied.
- ``malformed_next``: apply the request, then answer 200 with truncated JSON (the SDK returns
  ``{"error": "Could not parse JSON: ..."}``).
- ``lose_response_next``: apply the request, then drop the answer: close the connection
  (``lose_mode="close"``) or answer 502 (``lose_mode="502"``).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field


@dataclass
class Faults:
    latency_s: float = 0.0
    http_429_next: int = 0
    http_5xx_next: int = 0
    timeout_next: int = 0
    malformed_next: int = 0
    lose_response_next: int = 0
    path: str | None = None
    hang_s: float = 10.0
    status_5xx: int = 500
    lose_mode: str = "close"
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    _ORDER = ("timeout_next", "http_429_next", "http_5xx_next", "malformed_next", "lose_response_next")

    def delays(self, path: str) -> bool:
        """Whether a request to ``path`` waits ``latency_s`` first."""
        return self.latency_s > 0 and (self.path is None or self.path == path)

    def take(self, path: str) -> str | None:
        """Consume and return the next fault for a request to ``path`` (the counter's name), if any."""
        with self._lock:
            if self.path is not None and self.path != path:
                return None
            for name in self._ORDER:
                count = getattr(self, name)
                if count > 0:
                    setattr(self, name, count - 1)
                    return name
            return None

    def clear(self) -> None:
        with self._lock:
            self.latency_s = 0.0
            for name in self._ORDER:
                setattr(self, name, 0)

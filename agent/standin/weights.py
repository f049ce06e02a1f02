"""Request weight, as Hyperliquid counts it against an IP's 1,200 per minute, and the log of every request.

Hyperliquid API docs, "Rate limits and user limits":

- ``/exchange``: 1 + floor(batch_length / 40), batch_length being the length of the action's array (the
  orders of an ``order`` action, the cancels of a ``cancel``); an unbatched action weighs 1.
- ``/info``: ``l2Book``, ``allMids``, ``clearinghouseState``, ``orderStatus``, ``spotClearinghouseState`` and
  ``exchangeStatus`` weigh 2; ``userRole`` 60; every other documented request 20.
- Some ``/info`` requests weigh more for what they return: 1 more per 20 items for ``recentTrades``,
  ``historicalOrders``, ``userFills``, ``userFillsByTime``, ``fundingHistory``, ``userFunding``,
  ``nonUserFundingUpdates``, ``twapHistory``, ``userTwapSliceFills``, ``userTwapSliceFillsByTime``,
  ``delegatorHistory``, ``delegatorRewards``, ``validatorStats``; 1 more per 60 items for ``candleSnapshot``.

:class:`RequestLog` keeps one :class:`Request` per request the server received (faulted ones included: the
exchange counts what arrives), so a test or a benchmark can read what a question spent, which requests it
made and which it made twice. The server answers ``GET /standin/requests?since=N`` with the entries from
``N`` on (that read is not itself logged).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

LIGHT = frozenset(
    {"l2Book", "allMids", "clearinghouseState", "orderStatus", "spotClearinghouseState", "exchangeStatus"}
)
HEAVY = {"userRole": 60}
DEFAULT = 20
PER_20_ITEMS = frozenset(
    {
        "recentTrades",
        "historicalOrders",
        "userFills",
        "userFillsByTime",
        "fundingHistory",
        "userFunding",
        "nonUserFundingUpdates",
        "twapHistory",
        "userTwapSliceFills",
        "userTwapSliceFillsByTime",
        "delegatorHistory",
        "delegatorRewards",
        "validatorStats",
    }
)
PER_60_ITEMS = frozenset({"candleSnapshot"})
_BATCH_KEYS = ("orders", "cancels", "modifies")


def info_weight(kind: str | None, answer: Any = None) -> int:
    """An ``/info`` request's weight, given its answer (a list answer adds weight per item for some kinds)."""
    if kind in LIGHT:
        return 2
    base = HEAVY.get(str(kind), DEFAULT)
    items = len(answer) if isinstance(answer, list) else 0
    if kind in PER_20_ITEMS:
        return base + items // 20
    if kind in PER_60_ITEMS:
        return base + items // 60
    return base


def exchange_weight(request: Any) -> int:
    """An ``/exchange`` action's weight: 1 + floor(batch length / 40)."""
    action = request.get("action") if isinstance(request, Mapping) else None
    batch = 0
    if isinstance(action, Mapping):
        batch = next((len(action[k]) for k in _BATCH_KEYS if isinstance(action.get(k), list)), 0)
    return 1 + batch // 40


@dataclass(frozen=True)
class Request:
    """One request as the exchange counted it: ``key`` is the /info body as canonical JSON ("" for /exchange)."""

    path: str
    kind: str | None
    weight: int
    key: str

    def to_public(self) -> dict[str, Any]:
        return asdict(self)


class RequestLog:
    """Every request the server received, in order, with its weight. Thread-safe."""

    def __init__(self) -> None:
        self._entries: list[Request] = []
        self._lock = threading.Lock()

    def record(self, path: str, request: Any, answer: Any = None) -> Request:
        if path == "/info":
            kind = request.get("type") if isinstance(request, Mapping) else None
            kind = str(kind) if kind is not None else None
            key = json.dumps(request, sort_keys=True, separators=(",", ":"), default=str)
            entry = Request(path, kind, info_weight(kind, answer), key)
        else:
            action = request.get("action") if isinstance(request, Mapping) else None
            kind = str(action.get("type")) if isinstance(action, Mapping) else None
            entry = Request(path, kind, exchange_weight(request), "")
        with self._lock:
            self._entries.append(entry)
        return entry

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def since(self, start: int = 0) -> list[Request]:
        with self._lock:
            return self._entries[max(0, start) :]

    def weight(self, start: int = 0) -> int:
        return sum(r.weight for r in self.since(start))

    def to_public(self, start: int = 0) -> dict[str, Any]:
        """``count`` (all requests so far), ``weight`` and ``requests`` from ``start`` on."""
        entries = self.since(start)
        return {
            "count": len(self),
            "since": start,
            "weight": sum(r.weight for r in entries),
            "requests": [r.to_public() for r in entries],
        }


def duplicates(entries: list[Request] | list[dict[str, Any]]) -> list[str]:
    """The /info bodies asked more than once with no ``/exchange`` action in between (the account could not
    have changed by our doing, so the second answer was already known)."""
    seen: set[str] = set()
    out: list[str] = []
    for e in entries:
        path, key = (e["path"], e["key"]) if isinstance(e, dict) else (e.path, e.key)
        if path == "/exchange":
            seen.clear()
            continue
        if key in seen and key not in out:
            out.append(key)
        seen.add(key)
    return out

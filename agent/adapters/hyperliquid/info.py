"""The ``/info`` endpoint as one object: the rate budget, the retries and ``post``.

Every read of the adapter goes through :meth:`InfoClient.post`: the trading client's account and market
reads, :class:`~agent.adapters.hyperliquid.history.HistoryReads`,
:class:`~agent.adapters.hyperliquid.dex_reads.DexReads`, the TWAP lookups of
:class:`~agent.adapters.hyperliquid.twaps.TwapOrders`, the master's account reads and the doctor's.

- **Weight.** Each request takes its weight from the shared budget first (``l2Book``, ``allMids``,
  ``clearinghouseState``, ``spotClearinghouseState``, ``orderStatus`` weigh 2, other info 20, fills more);
  a fleet passes one budget to every account's client (Hyperliquid's limit is per IP).
- **One read per question.** Inside a question (:mod:`agent.adapters.readscope`) an identical body is asked
  once, except what polls for change (``POLLED``); ``fresh=True`` always asks; every /exchange action of the
  trading client forgets what the question read.
- **Retries.** 429, 5xx, timeouts, connection errors and unparseable bodies are retried ``retries`` times
  with exponential backoff from ``backoff_s``, then raise :class:`TemporaryExchangeError`; any other HTTP
  error is an :class:`ExchangeError` at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from hyperliquid.api import API

from agent.adapters import readscope
from agent.adapters.hyperliquid import transport
from agent.adapters.hyperliquid.budget import RateBudget
from agent.adapters.hyperliquid.constants import DEFAULT_INFO_WEIGHT, INFO_WEIGHTS, POLLED


class InfoClient:
    """``InfoClient(base_url, budget=RateBudget(1000))``: rate-budgeted, retried ``/info`` requests."""

    def __init__(
        self,
        base_url: str,
        *,
        budget: RateBudget | Any,
        timeout: float = 10.0,
        retries: int = 2,
        backoff_s: float = 0.25,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.base_url = base_url
        self.budget = budget
        self.timeout = timeout
        self.retries = retries
        self.backoff_s = backoff_s
        self._sleep = sleep
        self._clock = clock
        self._api = API(base_url, timeout)
        transport.install(self._api)

    def post(self, body: dict[str, Any], weight: int | None = None, *, fresh: bool = False) -> Any:
        """One ``/info`` answer (``weight``: its cost, by default its type's); a question's, see :meth:`post_at`."""
        return self.post_at(body, weight, fresh=fresh)[1]

    def post_at(
        self, body: dict[str, Any], weight: int | None = None, *, fresh: bool = False
    ) -> tuple[float, Any, float]:
        """(local time before, answer, local time after). Within a question (:mod:`agent.adapters.readscope`) a
        body is asked once and its first answer (with its times) given again, unless its type polls for change
        (``POLLED``: never remembered) or ``fresh`` (asked again, and remembered)."""
        key = None if body.get("type") in POLLED else readscope.key(self.base_url, body)
        return readscope.answer(key, lambda: (self._clock(), self._ask(body, weight), self._clock()), fresh=fresh)

    def _ask(self, body: dict[str, Any], weight: int | None) -> Any:
        kind = str(body.get("type"))
        weight = weight if weight is not None else INFO_WEIGHTS.get(kind, DEFAULT_INFO_WEIGHT)
        return transport.post_info(self._api, body, weight, self.budget, self.retries, self.backoff_s, self._sleep)

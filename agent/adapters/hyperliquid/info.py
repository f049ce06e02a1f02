"""The ``/info`` endpoint as one object: the rate budget, the retries and ``post``.

Every read of the adapter goes through :meth:`InfoClient.post`: the trading client's account and market
reads, :class:`~agent.adapters.hyperliquid.history.HistoryReads`,
:class:`~agent.adapters.hyperliquid.dex_reads.DexReads`, the TWAP lookups of
:class:`~agent.adapters.hyperliquid.twaps.TwapOrders`, the master's account reads and the doctor's.

- **Weight.** Each request takes its weight from the shared budget first (``l2Book``, ``allMids``,
  ``clearinghouseState``, ``spotClearinghouseState``, ``orderStatus`` weigh 2, other info 20, fills more);
  a fleet passes one budget to every account's client (Hyperliquid's limit is per IP).
- **Retries.** 429, 5xx, timeouts, connection errors and unparseable bodies are retried ``retries`` times
  with exponential backoff from ``backoff_s``, then raise :class:`TemporaryExchangeError`; any other HTTP
  error is an :class:`ExchangeError` at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import requests
from hyperliquid.api import API
from hyperliquid.utils.error import ClientError, ServerError

from agent.adapters.hyperliquid import transport
from agent.adapters.hyperliquid.answers import _unparseable
from agent.adapters.hyperliquid.budget import RateBudget
from agent.adapters.hyperliquid.constants import DEFAULT_INFO_WEIGHT, INFO_WEIGHTS
from agent.core.errors import ExchangeError, TemporaryExchangeError


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
    ) -> None:
        self.base_url = base_url
        self.budget = budget
        self.timeout = timeout
        self.retries = retries
        self.backoff_s = backoff_s
        self._sleep = sleep
        self._api = API(base_url, timeout)
        transport.install(self._api)

    def post(self, body: dict[str, Any], weight: int | None = None) -> Any:
        """One ``/info`` request's parsed answer (``weight``: its cost, by default its type's)."""
        kind = str(body.get("type"))
        weight = weight if weight is not None else INFO_WEIGHTS.get(kind, DEFAULT_INFO_WEIGHT)
        last: Exception | None = None
        for attempt in range(self.retries + 1):
            if attempt:
                self._sleep(self.backoff_s * 2 ** (attempt - 1))
            self.budget.acquire(weight)
            try:
                answer = self._api.post("/info", body)
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
        raise TemporaryExchangeError(
            f"/info {kind}: {what}{f' HTTP {status}' if status else ''} after {self.retries + 1} tries"
        )

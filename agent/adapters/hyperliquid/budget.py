"""The client-side rate budget: a token bucket below Hyperliquid's 1200 weight/minute per IP."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from agent.core.errors import ConfigError

log = logging.getLogger("agent.adapters.hyperliquid.client")


class RateBudget:
    """A token bucket: ``per_minute`` weight refilled continuously, bursts up to the same amount."""

    def __init__(
        self,
        per_minute: float = 1000.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not 0 < per_minute < 1200:
            raise ConfigError("rate budget must be between 0 and 1200 weight per minute")
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self.tokens = self.capacity
        self.spent = 0
        self._clock, self._sleep = clock, sleep
        self._last = clock()
        self._lock = threading.Lock()

    def _refill(self) -> None:
        now = self._clock()
        self.tokens = min(self.capacity, self.tokens + (now - self._last) * self.rate)
        self._last = now

    def acquire(self, weight: int) -> None:
        with self._lock:
            self._refill()
            if self.tokens < weight:
                wait = (weight - self.tokens) / self.rate
                log.info("rate budget: waiting %.2fs for %d weight", wait, weight)
                self._sleep(wait)
                self._refill()
            self.tokens -= weight
            self.spent += weight

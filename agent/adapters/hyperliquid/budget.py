"""Client-side rate budgets. :class:`RateBudget`: one client's token bucket below Hyperliquid's 1200 weight/minute
per IP. For a fleet, budgets shared by many accounts: the per-IP weight and the per-address actions, as
sliding windows.

Hyperliquid (API docs, "Rate limits and user limits"): 1200 weight per minute per IP, aggregated over every
address that IP asks about; and per address, actions (an order batch of n counts n) starting at 10,000
and growing by 1 per USDC traded. A token bucket that starts full lets up to twice its rate through in the
first minute; :class:`WindowBudget` never lets more than ``limit`` through in *any* ``window_s`` seconds,
which is what the exchange counts. It has :class:`RateBudget`'s
``acquire(weight)``, so account clients take it in place of their own.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
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
        self.waited_s = 0.0  # time ``acquire`` spent waiting for weight
        self._clock, self._sleep = clock, sleep
        self._last = clock()
        self._lock = threading.Lock()

    def wait_for(self, weight: int) -> float:
        """Seconds until ``weight`` would pass without waiting (0 now); nothing is taken."""
        with self._lock:
            self._refill()
            return max(0.0, (weight - self.tokens) / self.rate)

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
                self.waited_s += wait
                self._sleep(wait)
                self._refill()
            self.tokens -= weight
            self.spent += weight


class WindowBudget:
    """``WindowBudget(1000)``: at most 1000 weight in any 60 s; ``acquire`` waits until there is room.

    ``log`` (when kept) holds every grant as ``(time, weight)``, for tests and the benchmark to count.
    """

    def __init__(
        self,
        limit: float,
        *,
        window_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        keep_log: bool = False,
    ) -> None:
        if limit <= 0 or window_s <= 0:
            raise ValueError("a budget needs a positive limit and window")
        self.limit, self.window_s = float(limit), float(window_s)
        self.spent = 0
        self.log: list[tuple[float, int]] | None = [] if keep_log else None
        self._grants: deque[tuple[float, int]] = deque()
        self._used = 0.0
        self._clock, self._sleep = clock, sleep
        self._lock = threading.Lock()

    def _expire(self, now: float) -> None:
        while self._grants and self._grants[0][0] <= now - self.window_s:
            self._used -= self._grants.popleft()[1]

    def acquire(self, weight: int) -> None:
        weight = min(int(weight), int(self.limit))  # one request larger than the window could never pass
        while True:
            with self._lock:
                now = self._clock()
                self._expire(now)
                if self._used + weight <= self.limit:
                    self._grants.append((now, weight))
                    self._used += weight
                    self.spent += weight
                    if self.log is not None:
                        self.log.append((now, weight))
                    return
                wait = self._grants[0][0] + self.window_s - now if self._grants else 0.01
            self._sleep(max(wait, 0.005))

    @property
    def per_minute(self) -> float:
        return self.limit * 60.0 / self.window_s


class AddressActions:
    """Per-address /exchange actions: at most ``limit`` per ``window_s`` for each address (our cap, below
    Hyperliquid's per-address allowance), shared by every client that signs for that address."""

    def __init__(self, limit: int, *, window_s: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit, self.window_s, self._clock = limit, window_s, clock
        self._budgets: dict[str, WindowBudget] = {}
        self._lock = threading.Lock()
        self.counts: dict[str, int] = {}

    def acquire(self, address: str, actions: int) -> None:
        with self._lock:
            budget = self._budgets.setdefault(
                address.lower(), WindowBudget(self.limit, window_s=self.window_s, clock=self._clock)
            )
            self.counts[address.lower()] = self.counts.get(address.lower(), 0) + actions
        budget.acquire(actions)

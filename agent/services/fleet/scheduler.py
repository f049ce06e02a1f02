"""``rebalancer fleet run``: every account's heartbeat in one process, on its own schedule.

Each account ticks at the start of each of its slots (its ``interval``, else ``[heartbeat] interval``) with
its autonomy (else ``[heartbeat] autonomy``), exactly as ``rebalancer heartbeat`` would for it alone: the
tick holds that account's lease, so no two ticks of one account ever overlap, here or in another process.
At most ``[fleet] workers`` accounts tick at once. Every request of every account draws on one
:class:`~agent.adapters.hyperliquid.budget.WindowBudget` (the per-IP weight: never more than
``[fleet] rate_limit_per_minute`` in any minute) and every signed action on the per-address
:class:`~agent.adapters.hyperliquid.budget.AddressActions`, so a slow or busy period delays ticks instead of
getting the IP rate limited. At start, transfers a killed process left open are resolved first.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from agent.core.errors import RebalancerError
from agent.services.fleet import allocation
from agent.services.fleet.accounts import Account, Fleet
from agent.services.trading.heartbeat import Heartbeat, TickResult

log = logging.getLogger("rebalancer.fleet")


@dataclass
class AccountSchedule:
    account: Account
    heartbeat: Heartbeat
    next_at: datetime
    last_at: datetime | None = None
    last: TickResult | None = None
    running: bool = False
    ticks: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "last_tick": self.last_at.isoformat() if self.last_at else None,
            "next_tick": self.next_at.isoformat(),
            "last_status": self.last.status if self.last else None,
            "ticks": self.ticks,
        }


@dataclass
class FleetRunner:
    """``FleetRunner(fleet).run(stop)``; ``max_ticks`` bounds each account's ticks (``--once``: 1)."""

    fleet: Fleet
    max_ticks: int | None = None
    check_roles: bool = True  # ``userRole`` of every account first (60 weight each)
    on_tick: Callable[[str, TickResult, datetime | None], None] | None = None
    schedules: dict[str, AccountSchedule] = field(default_factory=dict)

    def __post_init__(self) -> None:
        now = self.fleet.clock()
        for name, account in self.fleet.accounts.items():
            hb = Heartbeat(account.services, autonomy=account.autonomy, interval=account.interval)
            self.schedules[name] = AccountSchedule(account, hb, next_at=now)
        self._lock = threading.Lock()
        self._wake = threading.Event()

    def _done(self, s: AccountSchedule) -> bool:
        return self.max_ticks is not None and s.ticks >= self.max_ticks

    def _tick(self, s: AccountSchedule) -> None:
        name = s.account.name
        try:
            result = s.heartbeat.tick()
        except RebalancerError as e:  # one account's failure never stops the others
            result = TickResult(s.heartbeat.slot_id(self.fleet.clock()), "error", str(e))
        now = self.fleet.clock()
        with self._lock:
            s.running = False
            s.ticks += 1
            s.last, s.last_at = result, now
            s.next_at = s.heartbeat.next_tick_at(now)
        log.info("%s: tick %s %s", name, result.cycle_id, result.status)
        if self.on_tick is not None:
            self.on_tick(name, result, None if self._done(s) else s.next_at)
        self._wake.set()

    def run(self, stop: threading.Event) -> dict[str, AccountSchedule]:
        """Tick every account when due until ``stop`` is set (or each has ticked ``max_ticks`` times)."""
        if self.check_roles:
            self.fleet.check_roles()
        allocation.recover(self.fleet)
        workers = self.fleet.settings.fleet.workers
        futures: list[Future[None]] = []
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fleet") as pool:
            while not stop.is_set():
                now = self.fleet.clock()
                with self._lock:
                    if all(self._done(s) and not s.running for s in self.schedules.values()):
                        break
                    due = [
                        s for s in self.schedules.values() if not s.running and not self._done(s) and s.next_at <= now
                    ]
                    for s in due:
                        s.running = True
                    waiting = [s.next_at for s in self.schedules.values() if not s.running and not self._done(s)]
                for s in due:
                    futures.append(pool.submit(self._tick, s))
                delay = min(((t - now).total_seconds() for t in waiting), default=1.0)
                self._wake.wait(timeout=max(0.05, min(delay, 1.0)))
                self._wake.clear()
            for f in futures:
                f.result()
        return self.schedules

    def status(self) -> dict[str, dict[str, Any]]:
        with self._lock:
            return {name: s.to_json() for name, s in self.schedules.items()}

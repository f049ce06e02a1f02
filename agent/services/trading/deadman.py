"""The dead-man switch (``scheduleCancel``): armed only while one of our TWAPs runs, never left armed.

Hyperliquid (docs, "Exchange endpoint", schedule cancel; SDK docstring): at the scheduled time every open
order of the account is cancelled, the user's own included; the time must be at least 5 s ahead; at most
10 triggers a day (reset at 00:00 UTC). So the rule here:

- armed when a TWAP of ours starts (our IOC orders never rest), extended while it runs, disarmed when it
  ends and, whatever happens, when the execution ends normally;
- never armed while the account has open orders that are not ours (it would cancel them if we died);
  the plan and the report say so instead. The check is made again at every extension: an order of the
  user's that appears while our TWAP runs disarms the switch for the rest of the run (a failed check
  counts as such an order);
- a record of the arming is kept in the store before the exchange is asked, so that after a crash the
  next run knows the switch was armed; if its time has passed, it fired: that counts one trigger of the
  day, and no arming is attempted once 10 triggers are counted.

Whether a fired switch also stops a running TWAP is not documented, and nothing here relies on it: after a
crash, the TWAP the dead run left is found and cancelled by its id (``agent.services.trading.twaps``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from agent.core.errors import ExchangeError

ARMED = "dead_man_armed_until"
TRIGGERS = "dead_man_triggers"
MAX_TRIGGERS_PER_DAY = 10


class DeadManSwitch:
    """``DeadManSwitch(exchange, records, clock, window_s=120, has_foreign_orders=...)``.

    ``has_foreign_orders()`` says whether the account has open orders that are not ours; it may raise
    ``ExchangeError`` (counted as yes). Without it, extensions do not check again.
    """

    def __init__(
        self,
        exchange: Any,
        records: Any,
        clock: Callable[[], float],
        *,
        window_s: float = 120.0,
        has_foreign_orders: Callable[[], bool] | None = None,
    ) -> None:
        self.exchange = exchange
        self.has_foreign_orders = has_foreign_orders
        self.records = records
        self.clock = clock
        self.window_s = window_s
        self.allowed = bool(getattr(exchange, "supports_schedule_cancel", False))
        self.why_not: str | None = None if self.allowed else "the exchange has no dead-man switch"
        self.armed_until_ms: int | None = None

    def _now_ms(self) -> int:
        return int(self.clock() * 1000)

    def _day(self) -> str:
        return datetime.fromtimestamp(self.clock(), UTC).date().isoformat()

    def triggers_today(self) -> int:
        got = self.records.get(TRIGGERS) or {}
        return int(got.get("count", 0)) if got.get("day") == self._day() else 0

    def note_fired(self) -> None:
        """At start: a switch we left armed whose time has passed has fired (a crash): count it."""
        armed = self.records.get(ARMED)
        if armed is None:
            return
        if int(armed) <= self._now_ms():
            self.records.set(TRIGGERS, {"day": self._day(), "count": self.triggers_today() + 1})
            self.records.set(ARMED, None)
        else:
            self.armed_until_ms = int(armed)  # still armed from a run that died: disarmed at our end

    def refuse(self, why: str) -> None:
        self.allowed, self.why_not = False, why

    def arm(self) -> bool:
        """Arm (or extend) for ``window_s`` from now; False when not allowed or refused."""
        if not self.allowed:
            return False
        if self.triggers_today() >= MAX_TRIGGERS_PER_DAY:
            self.refuse(f"{MAX_TRIGGERS_PER_DAY} triggers already today")
            return False
        until = self._now_ms() + int(self.window_s * 1000)
        self.records.set(ARMED, until)  # before the exchange: a crash right after still knows it
        try:
            ok = bool(self.exchange.schedule_cancel(until))
        except ExchangeError:
            ok = False
        if ok:
            self.armed_until_ms = until
        return ok

    def extend(self) -> None:
        """Re-arm when less than half the window is left, after checking again for open orders not ours:
        when one has appeared (or the check fails), disarm and stay disarmed for the rest of the run."""
        if self.armed_until_ms is None or self.armed_until_ms - self._now_ms() >= self.window_s * 500:
            return
        if self.has_foreign_orders is not None:
            try:
                foreign = self.has_foreign_orders()
            except ExchangeError:
                foreign = True
            if foreign:
                self.refuse("open orders that are not ours appeared while the switch was armed")
                self.disarm()
                return
        self.arm()

    def disarm(self) -> None:
        if self.armed_until_ms is None and self.records.get(ARMED) is None:
            return
        try:
            self.exchange.schedule_cancel(None)
        except ExchangeError:
            return  # the record stays: the next run (or doctor) sees the switch may still be armed
        self.armed_until_ms = None
        self.records.set(ARMED, None)

"""Alerts with a cooldown: stderr (the log), the history database, and an optional webhook."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

import httpx

from agent.adapters.store.db import Store

log = logging.getLogger("rebalancer.alerts")


class Alerter:
    """``Alerter(store, cooldown=timedelta(hours=1), webhook_url=None)``.

    An alert of the same kind within the cooldown is recorded as suppressed and not delivered again.
    A webhook failure is recorded, never raised: alerting must not break a tick.
    """

    def __init__(
        self,
        store: Store,
        *,
        cooldown: timedelta,
        webhook_url: str | None = None,
        clock: Callable[[], datetime],
        http: httpx.Client | None = None,
    ) -> None:
        self.store = store
        self.cooldown = cooldown
        self.webhook_url = webhook_url
        self.clock = clock
        self.http = http

    def send(self, kind: str, message: str) -> bool:
        """Record and deliver; returns False when the cooldown suppressed delivery."""
        now = self.clock()
        last = self.store.records.get(f"alert_last:{kind}")
        if last and now - datetime.fromisoformat(last) < self.cooldown:
            self.store.records.add_alert(kind, message, delivered=["suppressed (cooldown)"])
            return False
        delivered = ["stderr"]
        log.warning("ALERT %s: %s", kind, message)
        if self.webhook_url:
            try:
                client = self.http or httpx.Client(timeout=5.0)
                client.post(self.webhook_url, json={"kind": kind, "message": message, "at": now.isoformat()})
                delivered.append("webhook")
            except httpx.HTTPError as e:
                delivered.append(f"webhook failed: {type(e).__name__}")
        self.store.records.add_alert(kind, message, delivered=delivered)
        self.store.records.set(f"alert_last:{kind}", now.isoformat())
        return True

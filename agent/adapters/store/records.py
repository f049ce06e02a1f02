"""Records beside plans, cycles and orders: settings (kill switch, stored target, calendar), alerts, decisions."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from agent.adapters.store.rows import dumps, now_iso

if TYPE_CHECKING:
    from agent.adapters.store.db import Store


class Records:
    def __init__(self, store: Store) -> None:
        self.store = store

    # -- settings -----------------------------------------------------------------------------

    def get(self, key: str, default: Any = None) -> Any:
        rows = self.store.query("SELECT value FROM settings WHERE key = ?", (key,))
        return json.loads(rows[0]["value"]) if rows else default

    def get_with_time(self, key: str) -> tuple[Any, str | None]:
        """The value and when it was set (``(None, None)`` when never)."""
        rows = self.store.query("SELECT value, updated_at FROM settings WHERE key = ?", (key,))
        return (json.loads(rows[0]["value"]), rows[0]["updated_at"]) if rows else (None, None)

    def set(self, key: str, value: Any) -> None:
        with self.store.tx() as c:
            c.execute(
                "INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                (key, dumps(value), now_iso()),
            )

    # -- kill switch ---------------------------------------------------------------------------

    def is_paused(self) -> bool:
        return bool(self.get("paused", False))

    def pause_reason(self) -> str | None:
        return self.get("paused_reason") if self.is_paused() else None

    def set_paused(self, paused: bool, reason: str = "") -> None:
        text = reason or ("trading paused" if paused else "trading resumed")
        with self.store.tx() as c:
            for key, value in (("paused", paused), ("paused_reason", text if paused else None)):
                c.execute(
                    "INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?) "
                    "ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                    (key, dumps(value), now_iso()),
                )
            c.execute(
                "INSERT INTO alerts (created_at, kind, message, delivered) VALUES (?, ?, ?, ?)",
                (now_iso(), "pause" if paused else "resume", text, dumps([])),
            )

    # -- alerts --------------------------------------------------------------------------------

    def add_alert(self, kind: str, message: str, delivered: list[str] | None = None) -> int:
        with self.store.tx() as c:
            cur = c.execute(
                "INSERT INTO alerts (created_at, kind, message, delivered) VALUES (?, ?, ?, ?)",
                (now_iso(), kind, message, dumps(delivered or [])),
            )
            return int(cur.lastrowid or 0)

    def alerts(self, kind: str | None = None, *, limit: int = 100) -> list[dict[str, Any]]:
        """Newest first."""
        if kind is None:
            return self.store.query("SELECT * FROM alerts ORDER BY id DESC LIMIT ?", (limit,))
        return self.store.query("SELECT * FROM alerts WHERE kind = ? ORDER BY id DESC LIMIT ?", (kind, limit))

    # -- decisions -----------------------------------------------------------------------------

    def add_decision(self, decision: Any, cycle_id: str | None = None) -> int:
        """Record a strategist's ``Decision`` (``agent.strategist.base``), every raw reply included."""
        d = decision
        with self.store.tx() as c:
            cur = c.execute(
                "INSERT INTO decisions (cycle_id, created_at, provider, model, status, selected_strategy, target, "
                "reasoning, raw_replies, usage, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    cycle_id,
                    now_iso(),
                    d.provider,
                    d.model,
                    d.status,
                    d.selected_strategy,
                    dumps(d.target.allocations) if d.target else None,
                    d.reasoning,
                    dumps(d.raw_replies),
                    dumps(d.usage.model_dump()),
                    d.error,
                ),
            )
            return int(cur.lastrowid or 0)

    def decisions(self, cycle_id: str | None = None, *, limit: int = 50) -> list[dict[str, Any]]:
        """Newest first; JSON columns decoded."""
        if cycle_id is None:
            rows = self.store.query("SELECT * FROM decisions ORDER BY id DESC LIMIT ?", (limit,))
        else:
            rows = self.store.query("SELECT * FROM decisions WHERE cycle_id = ? ORDER BY id DESC", (cycle_id,))
        for r in rows:
            for col in ("target", "raw_replies", "usage"):
                r[col] = json.loads(r[col]) if r[col] else None
        return rows

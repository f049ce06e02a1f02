"""Cycles: one per heartbeat tick and one per execution, with value before and after and what it cost.

A cycle's id is its heartbeat slot (``hb-<autonomy>-<slot>``) or ``run-<plan_id>`` for an execution that
no tick started. Its realised 7-day return is filled in once a later cycle has a value.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agent.adapters.store.rows import dumps, now_iso

if TYPE_CHECKING:
    from agent.adapters.store.db import Store

COLUMNS = (
    "id",
    "started_at",
    "finished_at",
    "trigger",
    "source",
    "autonomy",
    "status",
    "reason",
    "plan_id",
    "target_source",
    "value_before",
    "value_after",
    "orders",
    "fills",
    "estimated_cost_usd",
    "realised_cost_usd",
    "return_7d",
)
_WRITABLE = frozenset(COLUMNS) - {"id", "started_at"} | {"detail"}


class Cycles:
    def __init__(self, store: Store) -> None:
        self.store = store

    def start(self, cycle_id: str, *, started_at: str, trigger: str, status: str = "started", **fields: Any) -> bool:
        """Insert a cycle unless one with this id exists; True when this call created it."""
        fields = _checked(fields)
        cols = ["id", "started_at", "trigger", "status", *fields]
        with self.store.tx() as c:
            cur = c.execute(
                f"INSERT OR IGNORE INTO cycles ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",  # noqa: S608 - fixed column names
                (cycle_id, started_at, trigger, status, *fields.values()),
            )
            return cur.rowcount == 1

    def update(self, cycle_id: str, **fields: Any) -> None:
        fields = _checked(fields)
        if not fields:
            return
        sets = ", ".join(f"{k} = ?" for k in fields)
        with self.store.tx() as c:
            c.execute(f"UPDATE cycles SET {sets} WHERE id = ?", (*fields.values(), cycle_id))  # noqa: S608

    def finish(self, cycle_id: str, status: str, reason: str, **fields: Any) -> None:
        self.update(cycle_id, status=status, reason=reason, finished_at=now_iso(), **fields)

    def get(self, cycle_id: str) -> dict[str, Any] | None:
        rows = self.store.query("SELECT * FROM cycles WHERE id = ?", (cycle_id,))
        return rows[0] if rows else None

    def for_plan(self, plan_id: str) -> dict[str, Any] | None:
        rows = self.store.query("SELECT * FROM cycles WHERE plan_id = ? ORDER BY started_at LIMIT 1", (plan_id,))
        return rows[0] if rows else None

    def since(self, started_at: str) -> list[dict[str, Any]]:
        """Newest first, without the JSON detail."""
        return self.store.query(
            f"SELECT {', '.join(COLUMNS)} FROM cycles WHERE started_at >= ? ORDER BY started_at DESC, id",  # noqa: S608
            (started_at,),
        )

    def fill_returns(self, days: int = 7) -> int:
        """Each cycle's realised return over ``days``, once a cycle that much later has a value."""
        from datetime import datetime, timedelta

        filled = 0
        for row in self.store.query(
            "SELECT id, started_at, COALESCE(value_after, value_before) AS v FROM cycles "
            "WHERE return_7d IS NULL AND COALESCE(value_after, value_before) > 0"
        ):
            later_than = (datetime.fromisoformat(row["started_at"]) + timedelta(days=days)).isoformat()
            later = self.store.query(
                "SELECT value_before FROM cycles WHERE started_at >= ? AND value_before > 0 "
                "ORDER BY started_at LIMIT 1",
                (later_than,),
            )
            if later:
                self.update(row["id"], return_7d=later[0]["value_before"] / row["v"] - 1)
                filled += 1
        return filled

    def missing_returns(self, started_before: str) -> list[dict[str, Any]]:
        """Cycles started before ``started_before`` whose realised return is still empty (oldest first)."""
        return self.store.query(
            "SELECT id, started_at, COALESCE(value_after, value_before) AS v FROM cycles "
            "WHERE return_7d IS NULL AND started_at < ? ORDER BY started_at",
            (started_before,),
        )


def _checked(fields: dict[str, Any]) -> dict[str, Any]:
    bad = set(fields) - _WRITABLE
    if bad:
        raise ValueError(f"unknown cycle fields {sorted(bad)}")
    if "detail" in fields and fields["detail"] is not None and not isinstance(fields["detail"], str):
        fields = {**fields, "detail": dumps(fields["detail"])}
    return fields

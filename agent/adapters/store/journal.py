"""The write-ahead order journal over the Store's ``orders``, ``order_events`` and ``fills`` tables.

Every order attempt is one ``orders`` row keyed by its deterministic cloid
``"0x" + sha256(f"{plan_id}:{action_index}:{attempt}")[:32]``, committed (``PENDING``) *before* anything
is sent. States only move forward::

    PENDING ──► SENT ──► FILLED | PARTIAL | RESTING | REJECTED | CANCELED | UNKNOWN | ABANDONED
       │                 UNKNOWN ──► any final state (after an orderStatus lookup)
       ├──► DRY_RUN      (dry-run: journaled, never sent)
       └──► ABANDONED    (reconcile: the exchange never saw it; it is never sent under this cloid)
    RESTING ──► FILLED | PARTIAL | CANCELED

``PENDING``/``SENT``/``UNKNOWN`` are *open*: the exchange may or may not have the order; they are
resolved by cloid (``orderStatus``) before anything is resent. Each state change appends an
``order_events`` row. ``record_fills`` is idempotent on the fill's ``tid``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict

from agent.adapters.store.leases import Lease
from agent.adapters.store.leases import check as check_lease
from agent.adapters.store.rows import now_iso
from agent.core.errors import JournalError
from agent.core.orders import Fill, OrderIntent, make_cloid

if TYPE_CHECKING:
    from agent.adapters.store.db import Store

PENDING, SENT, FILLED, PARTIAL, RESTING = "PENDING", "SENT", "FILLED", "PARTIAL", "RESTING"
REJECTED, CANCELED, UNKNOWN, ABANDONED, DRY_RUN = "REJECTED", "CANCELED", "UNKNOWN", "ABANDONED", "DRY_RUN"

OPEN_STATES = (PENDING, SENT, UNKNOWN)
_RESOLVED = {FILLED, PARTIAL, RESTING, REJECTED, CANCELED, UNKNOWN, ABANDONED}
TRANSITIONS: dict[str, set[str]] = {
    PENDING: {SENT, ABANDONED, DRY_RUN, REJECTED},
    SENT: _RESOLVED,
    UNKNOWN: _RESOLVED,
    RESTING: {FILLED, PARTIAL, CANCELED, RESTING},
}
_FIELDS = ("oid", "filled_sz", "avg_px", "fee", "error")


class OrderRow(BaseModel):
    model_config = ConfigDict(frozen=True)

    cloid: str
    plan_id: str
    action_index: int
    attempt: int
    mode: str
    coin: str
    asset: int
    wire_name: str
    side: str
    size: float
    limit_px: float
    reduce_only: bool
    state: str
    oid: int | None = None
    filled_sz: float = 0.0
    avg_px: float | None = None
    fee: float | None = None
    error: str | None = None
    created_at: str
    fence: int | None = None
    expires_after_ms: int | None = None
    updated_at: str


class Journal:
    """``Journal(store)``: intents, state changes and fills, each in its own committed transaction."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def intend(
        self,
        plan_id: str,
        action_index: int,
        attempt: int,
        intent: OrderIntent,
        *,
        mode: str = "live",
        lease: Lease | None = None,
    ) -> str:
        """Commit a PENDING row for this attempt; return its cloid. Idempotent for the same intent.

        With ``lease``, the row is written only while that lease is still the account's (its fencing token
        current); otherwise :class:`~agent.adapters.store.leases.LeaseLost` and nothing is written.
        """
        cloid = make_cloid(plan_id, action_index, attempt)
        if intent.cloid != cloid:
            raise JournalError(f"intent cloid {intent.cloid} is not the deterministic cloid {cloid}")
        now = now_iso()
        with self.store.tx() as c:
            if lease is not None:
                check_lease(c, lease)
            row = c.execute("SELECT state, size, side FROM orders WHERE cloid = ?", (cloid,)).fetchone()
            if row is not None:
                if row["side"] != intent.side or abs(row["size"] - intent.size) > 1e-12:
                    raise JournalError(f"{cloid} is already journaled with a different order")
                return cloid
            c.execute(
                "INSERT INTO orders (cloid, plan_id, action_index, attempt, mode, coin, asset, wire_name, side, size, "
                "limit_px, reduce_only, state, created_at, updated_at, fence, expires_after_ms) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    cloid,
                    plan_id,
                    action_index,
                    attempt,
                    mode,
                    intent.coin,
                    intent.asset,
                    intent.wire_name,
                    intent.side,
                    intent.size,
                    intent.limit_px,
                    int(intent.reduce_only),
                    PENDING,
                    now,
                    now,
                    lease.fence if lease is not None else None,
                    intent.expires_after_ms,
                ),
            )
            c.execute(
                "INSERT INTO order_events (cloid, at, state, detail) VALUES (?, ?, ?, ?)",
                (cloid, now, PENDING, json.dumps({"tif": intent.tif, "mode": mode})),
            )
        return cloid

    def mark(self, cloid: str, state: str, *, detail: Any = None, **fields: Any) -> OrderRow:
        """Move a row to ``state`` (checked against TRANSITIONS), update fields, append an event."""
        unknown = set(fields) - set(_FIELDS)
        if unknown:
            raise JournalError(f"mark: unknown fields {sorted(unknown)}")
        now = now_iso()
        with self.store.tx() as c:
            row = c.execute("SELECT state FROM orders WHERE cloid = ?", (cloid,)).fetchone()
            if row is None:
                raise JournalError(f"no journal row for {cloid}")
            current = row["state"]
            if state != current and state not in TRANSITIONS.get(current, set()):
                raise JournalError(f"{cloid}: {current} → {state} is not allowed")
            sets = ["state = ?", "updated_at = ?"] + [f"{k} = ?" for k in fields]
            c.execute(f"UPDATE orders SET {', '.join(sets)} WHERE cloid = ?", (state, now, *fields.values(), cloid))  # noqa: S608 - fixed column names
            event = {k: v for k, v in fields.items() if v is not None}
            if detail is not None:
                event["detail"] = detail
            c.execute(
                "INSERT INTO order_events (cloid, at, state, detail) VALUES (?, ?, ?, ?)",
                (cloid, now, state, json.dumps(event, default=str) if event else None),
            )
        got = self.get(cloid)
        assert got is not None
        return got

    def set_fee(self, cloid: str, fee: float) -> None:
        """Attach the fee read from fills (no state change, no event)."""
        with self.store.tx() as c:
            c.execute("UPDATE orders SET fee = ?, updated_at = ? WHERE cloid = ?", (fee, now_iso(), cloid))

    def get(self, cloid: str) -> OrderRow | None:
        rows = self.store.query("SELECT * FROM orders WHERE cloid = ?", (cloid,))
        return OrderRow.model_validate(rows[0]) if rows else None

    def rows(
        self,
        *,
        plan_id: str | None = None,
        action_index: int | None = None,
        states: Iterable[str] | None = None,
        mode: str | None = None,
    ) -> list[OrderRow]:
        where: list[str] = []
        params: list[object] = []
        if plan_id is not None:
            where.append("plan_id = ?")
            params.append(plan_id)
        if action_index is not None:
            where.append("action_index = ?")
            params.append(action_index)
        if mode is not None:
            where.append("mode = ?")
            params.append(mode)
        if states is not None:
            st = list(states)
            where.append(f"state IN ({','.join('?' * len(st))})")
            params.extend(st)
        sql = "SELECT * FROM orders" + (" WHERE " + " AND ".join(where) if where else "")  # noqa: S608
        sql += " ORDER BY created_at, plan_id, action_index, attempt"
        return [OrderRow.model_validate(r) for r in self.store.query(sql, tuple(params))]

    def open_rows(self, mode: str | None = None) -> list[OrderRow]:
        return self.rows(states=OPEN_STATES, mode=mode)

    def count(self, *, plan_id: str | None = None, sent: bool = False) -> int:
        """Journal rows (order attempts), of one plan or all; ``sent``: only those that left the machine."""
        if sent:
            rows = self.store.query(
                "SELECT COUNT(*) AS n FROM orders WHERE (? IS NULL OR plan_id = ?) AND state NOT IN (?, ?, ?)",
                (plan_id, plan_id, PENDING, DRY_RUN, ABANDONED),
            )
            return int(rows[0]["n"])
        if plan_id is None:
            return int(self.store.query("SELECT COUNT(*) AS n FROM orders")[0]["n"])
        return int(self.store.query("SELECT COUNT(*) AS n FROM orders WHERE plan_id = ?", (plan_id,))[0]["n"])

    def traded_notional_since(self, iso: str) -> float:
        """USD filled (or, without an average price, at the limit) by orders created since ``iso``, dry-runs aside."""
        rows = self.store.query(
            "SELECT COALESCE(SUM(filled_sz * COALESCE(avg_px, limit_px)), 0) AS n FROM orders "
            "WHERE created_at >= ? AND mode != 'dry-run'",
            (iso,),
        )
        return float(rows[0]["n"] or 0.0)

    def fills(self, *, plan_id: str | None = None) -> list[dict[str, Any]]:
        """Recorded fills, of one plan's orders or all (oldest first)."""
        if plan_id is None:
            return self.store.query("SELECT * FROM fills ORDER BY time, id")
        return self.store.query(
            "SELECT f.* FROM fills f JOIN orders o ON f.cloid = o.cloid WHERE o.plan_id = ? ORDER BY f.time, f.id",
            (plan_id,),
        )

    def events(self, cloid: str) -> list[dict[str, Any]]:
        return self.store.query("SELECT at, state, detail FROM order_events WHERE cloid = ? ORDER BY id", (cloid,))

    def record_fills(self, fills: Iterable[Fill]) -> int:
        """Insert fills not seen before (by ``tid``); return how many were new."""
        new = 0
        with self.store.tx() as c:
            for f in fills:
                cur = c.execute(
                    "INSERT OR IGNORE INTO fills (cloid, oid, coin, side, px, sz, fee, time, tid, raw) "
                    "VALUES (?,?,?,?,?,?,?,?,?,?)",
                    (f.cloid, f.oid, f.coin, f.side, f.px, f.sz, f.fee_usd, f.time, f.tid, json.dumps(f.raw)),
                )
                new += cur.rowcount
        return new

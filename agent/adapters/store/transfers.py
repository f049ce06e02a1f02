"""The fleet's records: allocation plans (``fleet_plans``) and the transfer journal (``transfers``).

Transfers are journaled like orders. Each planned transfer has a deterministic key
``"tr-" + sha256(f"{plan_id}:{index}")[:24]`` and is committed ``PENDING`` (with the exchange's time and the
action's ``expiresAfter``) before it is signed. States move forward only::

    PENDING ──► SENT ──► DONE | REJECTED | UNKNOWN
       └──► ABANDONED          UNKNOWN ──► DONE | ABANDONED

``subAccountTransfer`` has no client id, so an open transfer (``PENDING``/``SENT``/``UNKNOWN``) is looked up
in the subaccount's ledger (``userNonFundingLedgerUpdates``): a ``subAccountTransfer`` line with the same
direction and exact amount, no earlier than the journaled time, whose hash no other row has claimed (the
``ledger_hash`` column is unique). Not found once the exchange's clock is past ``expiresAfter``: it can
never land, so it is ``ABANDONED``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from agent.adapters.store.leases import Lease
from agent.adapters.store.leases import check as check_lease
from agent.adapters.store.rows import dumps, now_iso

if TYPE_CHECKING:
    from agent.adapters.store.db import Store

PENDING, SENT, DONE, REJECTED, UNKNOWN, ABANDONED = "PENDING", "SENT", "DONE", "REJECTED", "UNKNOWN", "ABANDONED"
OPEN = (PENDING, SENT, UNKNOWN)
_NEXT = {
    PENDING: {SENT, ABANDONED, REJECTED, DONE},
    SENT: {DONE, REJECTED, UNKNOWN, ABANDONED},
    UNKNOWN: {DONE, ABANDONED},
}


def transfer_key(plan_id: str, index: int) -> str:
    return "tr-" + hashlib.sha256(f"{plan_id}:{index}".encode()).hexdigest()[:24]


@dataclass(frozen=True)
class TransferRow:
    key: str
    plan_id: str
    idx: int
    account: str
    sub_account_user: str
    is_deposit: bool
    usd_micro: int
    state: str
    journaled_ms: int | None
    expires_after_ms: int | None
    ledger_hash: str | None
    error: str | None


def _row(r: dict[str, Any]) -> TransferRow:
    return TransferRow(
        r["key"],
        r["plan_id"],
        r["idx"],
        r["account"],
        r["sub_account_user"],
        bool(r["is_deposit"]),
        int(r["usd_micro"]),
        r["state"],
        r["journaled_ms"],
        r["expires_after_ms"],
        r["ledger_hash"],
        r["error"],
    )


class Transfers:
    def __init__(self, store: Store) -> None:
        self.store = store

    def intend(
        self,
        plan_id: str,
        idx: int,
        *,
        account: str,
        sub_account_user: str,
        is_deposit: bool,
        usd_micro: int,
        journaled_ms: int,
        expires_after_ms: int,
        lease: Lease | None = None,
    ) -> TransferRow:
        """Commit the PENDING intent (idempotent: an existing row for this key is returned unchanged)."""
        key = transfer_key(plan_id, idx)
        now = now_iso()
        with self.store.tx() as c:
            if lease is not None:
                check_lease(c, lease)
            row = c.execute("SELECT * FROM transfers WHERE key = ?", (key,)).fetchone()
            if row is None:
                c.execute(
                    "INSERT INTO transfers (key, plan_id, idx, account, sub_account_user, is_deposit, usd_micro, "
                    "state, journaled_ms, expires_after_ms, fence, created_at, updated_at) "
                    "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (
                        key,
                        plan_id,
                        idx,
                        account,
                        sub_account_user.lower(),
                        int(is_deposit),
                        int(usd_micro),
                        PENDING,
                        journaled_ms,
                        expires_after_ms,
                        lease.fence if lease else None,
                        now,
                        now,
                    ),
                )
                row = c.execute("SELECT * FROM transfers WHERE key = ?", (key,)).fetchone()
        return _row(dict(row))

    def mark(self, key: str, state: str, *, ledger_hash: str | None = None, error: str | None = None) -> TransferRow:
        with self.store.tx() as c:
            row = c.execute("SELECT state FROM transfers WHERE key = ?", (key,)).fetchone()
            if row is None:
                raise KeyError(key)
            if state != row["state"] and state not in _NEXT.get(row["state"], set()):
                raise ValueError(f"transfer {key}: {row['state']} → {state} is not allowed")
            c.execute(
                "UPDATE transfers SET state = ?, ledger_hash = COALESCE(?, ledger_hash), error = COALESCE(?, error), "
                "updated_at = ? WHERE key = ?",
                (state, ledger_hash, error, now_iso(), key),
            )
            return _row(dict(c.execute("SELECT * FROM transfers WHERE key = ?", (key,)).fetchone()))

    def get(self, key: str) -> TransferRow | None:
        rows = self.store.query("SELECT * FROM transfers WHERE key = ?", (key,))
        return _row(rows[0]) if rows else None

    def for_plan(self, plan_id: str) -> list[TransferRow]:
        return [_row(r) for r in self.store.query("SELECT * FROM transfers WHERE plan_id = ? ORDER BY idx", (plan_id,))]

    def open(self) -> list[TransferRow]:
        rows = self.store.query(
            f"SELECT * FROM transfers WHERE state IN ({','.join('?' * len(OPEN))}) ORDER BY created_at",  # noqa: S608
            OPEN,
        )
        return [_row(r) for r in rows]

    def claimed_hashes(self) -> set[str]:
        return {
            r["ledger_hash"]
            for r in self.store.query("SELECT ledger_hash FROM transfers WHERE ledger_hash IS NOT NULL")
        }

    def count(self, *, state: str | None = None) -> int:
        if state is None:
            return int(self.store.query("SELECT COUNT(*) AS n FROM transfers")[0]["n"])
        return int(self.store.query("SELECT COUNT(*) AS n FROM transfers WHERE state = ?", (state,))[0]["n"])


@dataclass(frozen=True)
class StoredFleetPlan:
    plan: dict[str, Any]
    status: str
    token_hash: str | None
    expires_at: datetime | None
    source: str | None
    reason: str | None


class FleetPlans:
    """Allocation plans: ``previewed`` → ``confirmed`` → ``executing`` → ``executed`` | ``incomplete`` |
    ``failed``; or ``previewed`` → ``expired`` | ``refused``; ``nothing-to-do``. On Temporal:
    ``awaiting-approval`` (or ``approved`` in ``auto``) → ``executed`` | ``incomplete`` | ``failed``."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def add(
        self,
        plan: dict[str, Any],
        *,
        status: str,
        source: str,
        token_hash: str | None = None,
        expires_at: datetime | None = None,
        reason: str | None = None,
    ) -> None:
        body = {k: v for k, v in plan.items() if k != "confirm_token"}
        now = now_iso()
        with self.store.tx() as c:
            c.execute(
                "INSERT INTO fleet_plans (plan_id, created_at, plan, token_hash, expires_at, status, status_at, "
                "source, reason) VALUES (?,?,?,?,?,?,?,?,?)",
                (
                    plan["plan_id"],
                    now,
                    dumps(body),
                    token_hash,
                    expires_at.isoformat() if expires_at else None,
                    status,
                    now,
                    source,
                    reason,
                ),
            )

    def get(self, plan_id: str) -> StoredFleetPlan | None:
        rows = self.store.query("SELECT * FROM fleet_plans WHERE plan_id = ?", (plan_id,))
        if not rows:
            return None
        r = rows[0]
        return StoredFleetPlan(
            json.loads(r["plan"]),
            r["status"],
            r["token_hash"],
            datetime.fromisoformat(r["expires_at"]) if r["expires_at"] else None,
            r["source"],
            r["reason"],
        )

    def move(
        self, plan_id: str, status: str, *, expect: str | tuple[str, ...] | None = None, reason: str | None = None
    ) -> bool:
        sql = "UPDATE fleet_plans SET status = ?, status_at = ?, reason = COALESCE(?, reason) WHERE plan_id = ?"
        params: list[Any] = [status, now_iso(), reason, plan_id]
        if expect is not None:
            wanted = (expect,) if isinstance(expect, str) else expect
            sql += f" AND status IN ({','.join('?' * len(wanted))})"
            params.extend(wanted)
        with self.store.tx() as c:
            return c.execute(sql, tuple(params)).rowcount == 1

    def with_status(self, statuses: tuple[str, ...]) -> list[str]:
        rows = self.store.query(
            f"SELECT plan_id FROM fleet_plans WHERE status IN ({','.join('?' * len(statuses))}) ORDER BY created_at",  # noqa: S608
            statuses,
        )
        return [r["plan_id"] for r in rows]


class Equities:
    """Each account's equity, last observation per UTC day, and the USDC our transfers moved in (+) or out (−)
    that day: daily returns net of our own transfers (what risk-parity and adaptive weigh)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def observe(self, account: str, day: str, equity: float) -> None:
        with self.store.tx() as c:
            c.execute(
                "INSERT INTO account_equity (account, day, equity, at) VALUES (?,?,?,?) "
                "ON CONFLICT (account, day) DO UPDATE SET equity = excluded.equity, at = excluded.at",
                (account, day, float(equity), now_iso()),
            )

    def add_flow(self, account: str, day: str, usd: float, equity_if_new: float) -> None:
        with self.store.tx() as c:
            c.execute(
                "INSERT INTO account_equity (account, day, equity, flows, at) VALUES (?,?,?,?,?) "
                "ON CONFLICT (account, day) DO UPDATE SET flows = flows + excluded.flows",
                (account, day, float(equity_if_new), float(usd), now_iso()),
            )

    def daily(self, account: str, *, limit: int = 365) -> list[tuple[str, float, float]]:
        """(day, equity, flows), oldest first."""
        rows = self.store.query(
            "SELECT day, equity, flows FROM account_equity WHERE account = ? ORDER BY day DESC LIMIT ?",
            (account, limit),
        )
        return [(r["day"], r["equity"], r["flows"]) for r in reversed(rows)]

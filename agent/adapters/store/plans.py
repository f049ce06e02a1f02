"""Stored plans: what preview issued, the hash of its single-use token, its status.

Statuses move forward only: ``previewed`` → ``confirmed`` (the token is spent, by one caller only) →
``executing`` → ``executed:<report status>`` | ``failed`` | ``incomplete``; or ``previewed`` → ``expired`` |
``refused`` | ``rejected``; ``advisory`` (the heartbeat's advice: its token can never execute).

A preview the person rejected (``rejected``) or let expire unconfirmed (``expired``) keeps a *rejection*: the
reason, when, and who said so (``cli``, ``mcp``, ``web``, ``chat``, or ``expiry``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from agent.adapters.store.rows import dumps, now_iso
from agent.core.domain import RebalancingPlan

if TYPE_CHECKING:
    from agent.adapters.store.db import Store


@dataclass(frozen=True)
class StoredPlan:
    plan: RebalancingPlan
    status: str
    token_hash: str | None
    expires_at: datetime | None
    cycle_id: str | None
    source: str | None
    created_at: str
    status_at: str
    reason: str | None
    rejection: dict[str, str] | None = None

    def summary(self) -> dict[str, Any]:
        """One line of ``plans`` / ``get_history``."""
        p = self.plan
        return {
            "plan_id": p.plan_id,
            "created_at": self.created_at,
            "status": self.status,
            "status_at": self.status_at,
            "source": self.source,
            "cycle_id": self.cycle_id,
            "equity": p.summary.equity_usd,
            "num_trades": len(p.actions),
            "turnover_usd": p.summary.turnover_usd,
            "estimated_cost_usd": p.estimated_cost.total_usd,
            "expires_at": self.expires_at.isoformat() if self.expires_at else None,
            "reason": self.reason,
        } | ({"rejection": self.rejection} if self.rejection else {})


class Plans:
    def __init__(self, store: Store) -> None:
        self.store = store

    def add(
        self,
        plan: RebalancingPlan,
        *,
        status: str,
        source: str,
        token_hash: str | None = None,
        expires_at: datetime | None = None,
        cycle_id: str | None = None,
        reason: str | None = None,
        account: str | None = None,
    ) -> None:
        """Store a plan (never its token: only the token's hash), for ``account``."""
        body = plan.model_dump(mode="json", exclude={"confirm_token"})
        now = now_iso()
        with self.store.tx() as c:
            c.execute(
                "INSERT INTO plans (plan_id, cycle_id, created_at, inputs_hash, equity, plan, token_hash, expires_at, "
                "status, status_at, source, reason, account) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    plan.plan_id,
                    cycle_id,
                    now,
                    plan.inputs_hash,
                    plan.summary.equity_usd,
                    dumps(body),
                    token_hash,
                    expires_at.isoformat() if expires_at else None,
                    status,
                    now,
                    source,
                    reason,
                    account,
                ),
            )

    def get(self, plan_id: str) -> StoredPlan | None:
        rows = self.store.query("SELECT * FROM plans WHERE plan_id = ?", (plan_id,))
        return _stored(rows[0]) if rows else None

    def move(
        self, plan_id: str, status: str, *, expect: str | tuple[str, ...] | None = None, reason: str | None = None
    ) -> bool:
        """Set the status; with ``expect``, only from that status (True when this caller moved it)."""
        sql = "UPDATE plans SET status = ?, status_at = ?, reason = COALESCE(?, reason) WHERE plan_id = ?"
        params: list[Any] = [status, now_iso(), reason, plan_id]
        if expect is not None:
            wanted = (expect,) if isinstance(expect, str) else expect
            sql += f" AND status IN ({','.join('?' * len(wanted))})"
            params.extend(wanted)
        with self.store.tx() as c:
            return c.execute(sql, tuple(params)).rowcount == 1

    def reject(self, plan_id: str, status: str, *, reason: str, by: str, at: str | None = None) -> bool:
        """Move a ``previewed`` plan to ``status`` (``rejected``/``expired``) with its rejection, in one step
        (True when this caller moved it: the token is spent from then on)."""
        with self.store.tx() as c:
            sql = (
                "UPDATE plans SET status = ?, status_at = ?, rejection_reason = ?, rejected_at = ?, rejected_by = ? "
                "WHERE plan_id = ? AND status = 'previewed'"
            )
            now = now_iso()
            return c.execute(sql, (status, now, reason, at or now, by, plan_id)).rowcount == 1

    def rejected(self, *, since: str, account: str | None, limit: int) -> list[StoredPlan]:
        """``account``'s plans (None: every account's) with a rejection at or after ``since``, newest rejection
        first."""
        which = "" if account is None else "AND (account = ? OR account IS NULL) "
        rows = self.store.query(
            f"SELECT * FROM plans WHERE rejected_at IS NOT NULL AND rejected_at >= ? {which}"  # noqa: S608
            "ORDER BY rejected_at DESC, plan_id LIMIT ?",
            (since, *(() if account is None else (account,)), limit),
        )
        return [_stored(r) for r in rows]

    def previewed(self) -> list[StoredPlan]:
        """Every account's plans still ``previewed`` (their tokens unspent), oldest first."""
        return [
            _stored(r) for r in self.store.query("SELECT * FROM plans WHERE status = 'previewed' ORDER BY created_at")
        ]

    def rekey(self, plan_id: str, token_hash: str) -> bool:
        """Replace a ``previewed`` plan's token hash (True when it was still previewed)."""
        with self.store.tx() as c:
            sql = "UPDATE plans SET token_hash = ? WHERE plan_id = ? AND status = 'previewed'"
            return c.execute(sql, (token_hash, plan_id)).rowcount == 1

    def set_expiry(self, plan_id: str, expires_at: datetime) -> None:
        with self.store.tx() as c:
            c.execute("UPDATE plans SET expires_at = ? WHERE plan_id = ?", (expires_at.isoformat(), plan_id))

    def with_status(self, statuses: tuple[str, ...], *, account: str) -> list[StoredPlan]:
        """``account``'s plans in any of ``statuses`` (plans stored before accounts were recorded count as
        the account's), oldest first."""
        rows = self.store.query(
            f"SELECT * FROM plans WHERE status IN ({','.join('?' * len(statuses))}) "  # noqa: S608
            "AND (account = ? OR account IS NULL) ORDER BY created_at",
            (*statuses, account),
        )
        return [_stored(r) for r in rows]

    def recent(self, *, since: str | None = None, limit: int = 50) -> list[StoredPlan]:
        """Newest first."""
        rows = self.store.query(
            "SELECT * FROM plans WHERE created_at >= ? ORDER BY created_at DESC, plan_id LIMIT ?",
            (since or "", limit),
        )
        return [_stored(r) for r in rows]

    def count(self) -> int:
        return int(self.store.query("SELECT COUNT(*) AS n FROM plans")[0]["n"])


def _stored(row: dict[str, Any]) -> StoredPlan:
    return StoredPlan(
        plan=RebalancingPlan.model_validate(json.loads(row["plan"])),
        status=row["status"],
        token_hash=row["token_hash"],
        expires_at=datetime.fromisoformat(row["expires_at"]) if row["expires_at"] else None,
        cycle_id=row["cycle_id"],
        source=row["source"],
        created_at=row["created_at"],
        status_at=row["status_at"],
        reason=row.get("reason"),
        rejection=(
            {"reason": row["rejection_reason"], "at": row["rejected_at"], "by": row["rejected_by"]}
            if row.get("rejected_at")
            else None
        ),
    )

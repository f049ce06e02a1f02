"""One writer per account: a lease row with an owner, an expiry and a fencing token.

``acquire`` succeeds when no live lease exists (none, expired, or already this owner's) and then bumps the
fencing token; every journal intent is written only while its token is still the account's (a process
whose lease expired and was taken over can no longer write an intent). Expiry is wall-clock seconds of
the machine that holds the store: one SQLite file is one machine.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from agent.adapters.store.rows import now_iso
from agent.core.errors import LeaseLost

if TYPE_CHECKING:
    import sqlite3

    from agent.adapters.store.db import Store


@dataclass(frozen=True)
class Lease:
    account: str
    owner: str
    pid: int | None
    purpose: str | None
    acquired_at: str
    expires_at: float
    fence: int

    def describe(self) -> str:
        since = self.acquired_at[:19].replace("T", " ")
        return f"held by pid {self.pid} ({self.purpose or 'a writer'}) since {since} UTC"


class Leases:
    def __init__(self, store: Store) -> None:
        self.store = store

    def acquire(
        self, account: str, owner: str, *, ttl_s: float, now: float, pid: int | None = None, purpose: str = ""
    ) -> Lease | None:
        """Take (or renew our own) lease; None when another owner's lease is still live."""
        with self.store.tx() as c:
            row = c.execute("SELECT * FROM leases WHERE account = ?", (account,)).fetchone()
            if row is not None and row["owner"] != owner and row["expires_at"] > now:
                return None
            if row is not None and row["owner"] == owner:
                c.execute("UPDATE leases SET expires_at = ? WHERE account = ?", (now + ttl_s, account))
                return _lease(dict(row) | {"expires_at": now + ttl_s})
            fence = (row["fence"] if row is not None else 0) + 1
            values = (account, owner, pid, purpose, now_iso(), now + ttl_s, fence)
            c.execute(
                "INSERT INTO leases (account, owner, pid, purpose, acquired_at, expires_at, fence) "
                "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(account) DO UPDATE SET owner = excluded.owner, "
                "pid = excluded.pid, purpose = excluded.purpose, acquired_at = excluded.acquired_at, "
                "expires_at = excluded.expires_at, fence = excluded.fence",
                values,
            )
            return Lease(*values)

    def renew(self, lease: Lease, *, ttl_s: float, now: float) -> Lease:
        """Extend a lease we hold; ``LeaseLost`` when it is no longer ours."""
        with self.store.tx() as c:
            check(c, lease)
            c.execute("UPDATE leases SET expires_at = ? WHERE account = ?", (now + ttl_s, lease.account))
        return Lease(**{**lease.__dict__, "expires_at": now + ttl_s})

    def release(self, lease: Lease) -> None:
        """Let go (only if still ours): the next writer need not wait for the expiry."""
        with self.store.tx() as c:
            c.execute(
                "UPDATE leases SET expires_at = 0 WHERE account = ? AND owner = ? AND fence = ?",
                (lease.account, lease.owner, lease.fence),
            )

    def expire(self, account: str, owner: str) -> None:
        """End ``owner``'s lease now (its process is gone), so the next ``acquire`` can take it."""
        with self.store.tx() as c:
            c.execute("UPDATE leases SET expires_at = 0 WHERE account = ? AND owner = ?", (account, owner))

    def holder(self, account: str, *, now: float) -> Lease | None:
        """The live lease on ``account``, if any (a read: never waits)."""
        rows = self.store.query("SELECT * FROM leases WHERE account = ? AND expires_at > ?", (account, now))
        return _lease(rows[0]) if rows else None


def check(c: sqlite3.Connection, lease: Lease) -> None:
    """Inside a transaction: raise ``LeaseLost`` unless ``lease`` is still the account's current one."""
    row = c.execute("SELECT owner, fence FROM leases WHERE account = ?", (lease.account,)).fetchone()
    if row is None or row["owner"] != lease.owner or row["fence"] != lease.fence:
        raise LeaseLost(f"the lease on {lease.account} was taken over (fence {lease.fence}); stopping")


def _lease(row: dict[str, Any]) -> Lease:
    return Lease(
        account=row["account"],
        owner=row["owner"],
        pid=row["pid"],
        purpose=row["purpose"],
        acquired_at=row["acquired_at"],
        expires_at=float(row["expires_at"]),
        fence=int(row["fence"]),
    )

"""The history database: one SQLite file (WAL, ``synchronous=FULL``) with versioned migrations, or a schema on a
PostgreSQL server (``db = "postgresql://…"``, :mod:`.postgres`) that processes on several machines share.

Tables: ``cycles`` (one per heartbeat tick or execution), ``decisions`` (with raw model replies),
``plans`` (with their confirm token's hash and status), ``orders`` (the write-ahead journal: one row per
(plan, action, attempt), keyed by its deterministic cloid), ``order_events`` (every state change),
``fills``, ``alerts``, ``settings`` (kill switch, stored target, calendar), ``tax_events`` and
``tax_lot_choices`` (lots), ``daily_candles`` (closed days, shared by every account). Nothing is deleted: rows only
move forward in state.

SQL is written only in this package: :class:`Store` opens the file and hands out its repositories
(``store.plans``, ``store.cycles``, ``store.journal``, ``store.records``, ``store.leases``).
"""

from __future__ import annotations

import os
import sqlite3
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from agent.adapters.store import postgres
from agent.adapters.store.candles import Candles
from agent.adapters.store.cycles import Cycles
from agent.adapters.store.journal import Journal
from agent.adapters.store.leases import Leases
from agent.adapters.store.plans import Plans
from agent.adapters.store.records import Records
from agent.adapters.store.rows import dumps, now_iso
from agent.adapters.store.tax import TaxRecords
from agent.adapters.store.transfers import Equities, FleetPlans, Transfers
from agent.core.errors import ConfigError

__all__ = ["MIGRATIONS", "Store", "dumps", "now_iso"]

MIGRATIONS: list[str] = [
    # 1: the initial schema
    """
    CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL, updated_at TEXT NOT NULL);
    CREATE TABLE cycles (
        id TEXT PRIMARY KEY, started_at TEXT NOT NULL, finished_at TEXT, trigger TEXT NOT NULL,
        autonomy TEXT, status TEXT NOT NULL, reason TEXT, plan_id TEXT,
        value_before REAL, value_after REAL, return_7d REAL, detail TEXT
    );
    CREATE TABLE decisions (
        id INTEGER PRIMARY KEY AUTOINCREMENT, cycle_id TEXT, created_at TEXT NOT NULL, provider TEXT NOT NULL,
        model TEXT, status TEXT NOT NULL, selected_strategy TEXT, target TEXT, reasoning TEXT,
        raw_replies TEXT NOT NULL, usage TEXT, error TEXT
    );
    CREATE TABLE plans (
        plan_id TEXT PRIMARY KEY, cycle_id TEXT, created_at TEXT NOT NULL, inputs_hash TEXT NOT NULL,
        equity REAL NOT NULL, plan TEXT NOT NULL, token_hash TEXT, expires_at TEXT,
        status TEXT NOT NULL, status_at TEXT NOT NULL, source TEXT
    );
    CREATE TABLE orders (
        cloid TEXT PRIMARY KEY, plan_id TEXT NOT NULL, action_index INTEGER NOT NULL, attempt INTEGER NOT NULL,
        mode TEXT NOT NULL, coin TEXT NOT NULL, asset INTEGER NOT NULL, wire_name TEXT NOT NULL,
        side TEXT NOT NULL, size REAL NOT NULL, limit_px REAL NOT NULL, reduce_only INTEGER NOT NULL,
        state TEXT NOT NULL, oid INTEGER, filled_sz REAL NOT NULL DEFAULT 0, avg_px REAL, fee REAL,
        error TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
        UNIQUE (plan_id, action_index, attempt)
    );
    CREATE TABLE order_events (
        id INTEGER PRIMARY KEY AUTOINCREMENT, cloid TEXT NOT NULL, at TEXT NOT NULL, state TEXT NOT NULL,
        detail TEXT
    );
    CREATE TABLE fills (
        id INTEGER PRIMARY KEY AUTOINCREMENT, cloid TEXT, oid INTEGER, coin TEXT NOT NULL, side TEXT NOT NULL,
        px REAL NOT NULL, sz REAL NOT NULL, fee REAL NOT NULL, time INTEGER NOT NULL, tid TEXT, raw TEXT,
        UNIQUE (tid)
    );
    CREATE TABLE alerts (
        id INTEGER PRIMARY KEY AUTOINCREMENT, created_at TEXT NOT NULL, kind TEXT NOT NULL,
        message TEXT NOT NULL, delivered TEXT
    );
    CREATE INDEX orders_plan ON orders (plan_id, action_index);
    CREATE INDEX cycles_started ON cycles (started_at);
    """,
    # 2: every execution is a cycle: where it came from, what it cost, how many orders and fills
    """
    ALTER TABLE cycles ADD COLUMN source TEXT;
    ALTER TABLE cycles ADD COLUMN target_source TEXT;
    ALTER TABLE cycles ADD COLUMN orders INTEGER;
    ALTER TABLE cycles ADD COLUMN fills INTEGER;
    ALTER TABLE cycles ADD COLUMN estimated_cost_usd REAL;
    ALTER TABLE cycles ADD COLUMN realised_cost_usd REAL;
    ALTER TABLE plans ADD COLUMN reason TEXT;
    CREATE INDEX cycles_plan ON cycles (plan_id);
    CREATE INDEX plans_created ON plans (created_at);
    """,
    # 3: one writer per account: a lease with an owner, an expiry and a fencing token
    """
    CREATE TABLE leases (
        account TEXT PRIMARY KEY, owner TEXT NOT NULL, pid INTEGER, purpose TEXT, acquired_at TEXT NOT NULL,
        expires_at REAL NOT NULL, fence INTEGER NOT NULL
    );
    ALTER TABLE orders ADD COLUMN fence INTEGER;
    """,
    # 4: time from the exchange: each order's expiresAfter on the exchange's clock
    """
    ALTER TABLE orders ADD COLUMN expires_after_ms INTEGER;
    ALTER TABLE plans ADD COLUMN account TEXT;
    """,
    # 5: the fleet: allocation plans across accounts, and the write-ahead journal of their transfers
    """
    CREATE TABLE fleet_plans (
        plan_id TEXT PRIMARY KEY, created_at TEXT NOT NULL, plan TEXT NOT NULL, token_hash TEXT, expires_at TEXT,
        status TEXT NOT NULL, status_at TEXT NOT NULL, source TEXT, reason TEXT
    );
    CREATE TABLE transfers (
        key TEXT PRIMARY KEY, plan_id TEXT NOT NULL, idx INTEGER NOT NULL, account TEXT NOT NULL,
        sub_account_user TEXT NOT NULL, is_deposit INTEGER NOT NULL, usd_micro INTEGER NOT NULL,
        state TEXT NOT NULL, journaled_ms INTEGER, expires_after_ms INTEGER, ledger_hash TEXT, error TEXT,
        fence INTEGER, created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
        UNIQUE (plan_id, idx)
    );
    CREATE UNIQUE INDEX transfers_ledger_hash ON transfers (ledger_hash);
    CREATE TABLE account_equity (
        account TEXT NOT NULL, day TEXT NOT NULL, equity REAL NOT NULL, flows REAL NOT NULL DEFAULT 0,
        at TEXT NOT NULL, PRIMARY KEY (account, day)
    );
    """,
    # 6: tax lots: the account's acquisitions and disposals (from fills or imported), the lots each sale named
    # before it was sent, and perp PnL and funding per account
    """
    CREATE TABLE tax_events (
        account TEXT NOT NULL, id TEXT NOT NULL, kind TEXT NOT NULL, asset TEXT NOT NULL, time TEXT NOT NULL,
        quantity REAL NOT NULL, usd REAL NOT NULL, source TEXT NOT NULL, cloid TEXT, raw TEXT,
        PRIMARY KEY (account, id)
    );
    CREATE TABLE tax_lot_choices (
        account TEXT NOT NULL, cloid TEXT NOT NULL, asset TEXT NOT NULL, picks TEXT NOT NULL,
        created_at TEXT NOT NULL, PRIMARY KEY (account, cloid)
    );
    CREATE INDEX tax_events_time ON tax_events (account, time);
    """,
    # 7: daily candles of closed days, per venue and coin, shared by every account (and the days asked for)
    """
    CREATE TABLE daily_candles (
        venue TEXT NOT NULL, coin TEXT NOT NULL, day TEXT NOT NULL, close REAL NOT NULL, value REAL NOT NULL,
        at TEXT NOT NULL, PRIMARY KEY (venue, coin, day)
    );
    CREATE TABLE daily_candle_spans (
        venue TEXT NOT NULL, coin TEXT NOT NULL, first_day TEXT NOT NULL, last_day TEXT NOT NULL, at TEXT NOT NULL,
        PRIMARY KEY (venue, coin)
    );
    """,
    # 8: a preview the person refused or let expire, with the reason, when and from where (fed to the next decision)
    """
    ALTER TABLE plans ADD COLUMN rejection_reason TEXT;
    ALTER TABLE plans ADD COLUMN rejected_at TEXT;
    ALTER TABLE plans ADD COLUMN rejected_by TEXT;
    CREATE INDEX plans_rejected ON plans (rejected_at);
    """,
]


def _check_existing(path: Path, *, init: bool) -> None:
    """Refuse a file that exists but is not a database of ours, rather than silently starting a new one
    (that would reset the kill switch, the daily caps and the journal). A missing file is a first run."""
    if not path.exists():
        return
    if path.is_dir():
        raise ConfigError(f"db: {path} is a folder, not a database file")
    size = path.stat().st_size
    if size == 0 and not init:
        raise ConfigError(f"db: {path} exists but is empty; `rebalancer db init` creates a database there on purpose")
    if size:
        with path.open("rb") as f:
            if f.read(16) != b"SQLite format 3\x00":
                raise ConfigError(f"db: {path} is not a SQLite database; point db at another file")


def _create_atomically(path: Path) -> None:
    """A new database appears whole: built in a temporary file, then linked into place. Two processes
    starting at once on a fresh path would otherwise race, one of them seeing the other's empty file
    (which :func:`_check_existing` rightly refuses). The loser of the link uses the winner's database."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        Store(tmp, _atomic=False).close()
        with suppress(FileExistsError):
            os.link(tmp, path)
    finally:
        for leftover in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
            leftover.unlink(missing_ok=True)


class Store:
    """A thread-safe handle on the history database (``Store(path)``; ``":memory:"`` for tests)."""

    def __init__(self, path: str | Path, *, init: bool = False, _atomic: bool = True) -> None:
        self.path = str(path)
        self._lock = threading.RLock()
        if postgres.is_url(self.path):  # a server every process reaches (Temporal workers on other machines)
            self.conn: Any = postgres.Connection(self.path)
            self.path = postgres.redacted(self.path)
            self._open()
            return
        if self.path != ":memory:":
            _check_existing(Path(self.path), init=init)
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            if _atomic and not Path(self.path).exists():
                _create_atomically(Path(self.path))
        self.conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=30)
        self.conn.row_factory = sqlite3.Row
        self._open()

    def _open(self) -> None:
        try:
            self._check_schema()
        except BaseException:
            self.conn.close()
            raise
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=FULL")  # a committed intent survives a kill -9 or power loss
        self.conn.execute("PRAGMA foreign_keys=ON")
        self._migrate()
        self.plans = Plans(self)
        self.cycles = Cycles(self)
        self.journal = Journal(self)
        self.records = Records(self)
        self.leases = Leases(self)
        self.fleet_plans = FleetPlans(self)
        self.transfers = Transfers(self)
        self.equities = Equities(self)
        self.tax = TaxRecords(self)
        self.candles = Candles(self)

    def _check_schema(self) -> None:
        tables = {r[0] for r in self.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if tables and "schema_version" not in tables:
            raise ConfigError(f"db: {self.path} is a SQLite database but not rebalancer's; point db at another file")
        if "schema_version" in tables:
            version = self.conn.execute("SELECT max(version) FROM schema_version").fetchone()[0] or 0
            if version > len(MIGRATIONS):
                raise ConfigError(
                    f"db: {self.path} has schema version {version}, newer than this rebalancer's "
                    f"{len(MIGRATIONS)}; upgrade rebalancer"
                )

    def _migrate(self) -> None:
        with self.tx() as c:
            c.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            row = c.execute("SELECT max(version) FROM schema_version").fetchone()
            current = row[0] or 0
            for version, sql in enumerate(MIGRATIONS, 1):
                if version > current:
                    for statement in filter(str.strip, sql.split(";")):
                        c.execute(statement)
                    c.execute("INSERT INTO schema_version (version) VALUES (?)", (version,))

    @property
    def schema_version(self) -> int:
        return int(self.conn.execute("SELECT max(version) FROM schema_version").fetchone()[0])

    @contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        """One immediate transaction: committed when the block ends, rolled back on error."""
        with self._lock:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            self.conn.execute("COMMIT")

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        """Rows as dicts; for the repositories of this package."""
        with self._lock:
            return [dict(r) for r in self.conn.execute(sql, params).fetchall()]

    def close(self) -> None:
        with self._lock:
            self.conn.close()

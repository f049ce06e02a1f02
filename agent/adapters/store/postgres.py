"""The history database on a PostgreSQL server: shared by every process that reaches it, on any machine.

``db = "postgresql://user@host:5432/dbname"`` puts the store in the schema ``rebalancer`` of that database
(``?schema=NAME`` picks another); a fleet account's store is the schema ``<schema>-<account>`` (the SQLite
default names a file ``<db stem>-<account>.db`` instead). Temporal workers on other machines and the CLI,
MCP and the web page then read and write one kill switch, one journal, one lease and one history.

:class:`Connection` offers the part of ``sqlite3.Connection`` the repositories use (``execute`` with ``?``
placeholders, rows by name and by index, ``rowcount``, ``lastrowid``), so the SQL stays written once:

- ``BEGIN IMMEDIATE`` (SQLite's single writer) becomes ``BEGIN`` plus a transaction-scoped advisory lock
  on the schema: writers of one store take turns exactly as on SQLite, so a read-then-write (a lease, a
  plan's single-use token) is atomic; readers never wait.
- DDL types: ``INTEGER`` → ``BIGINT`` (millisecond times overflow 32 bits), ``REAL`` → ``DOUBLE PRECISION``
  (``REAL`` is 4 bytes on PostgreSQL), ``INTEGER PRIMARY KEY AUTOINCREMENT`` → ``BIGSERIAL PRIMARY KEY``.
- ``INSERT OR IGNORE`` → ``ON CONFLICT DO NOTHING``; an insert into a table with an ``id`` serial returns it.
- Parameters are bound on the client (``ClientCursor``), as SQLite binds them: an untyped ``? IS NULL`` works.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from agent.core.errors import ConfigError

DEFAULT_SCHEMA = "rebalancer"
_SERIAL_TABLES = ("decisions", "order_events", "fills", "alerts")
_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,60}$")


def is_url(db: str) -> bool:
    return db.startswith(("postgresql://", "postgres://"))


def split(url: str) -> tuple[str, str]:
    """``(connection URL without our ``schema`` parameter, schema name)``."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    schema = next((v for k, v in query if k == "schema"), DEFAULT_SCHEMA)
    if not _NAME.fullmatch(schema):
        raise ConfigError(f"db: schema {schema!r} must be 1-60 letters, digits, '_', '.' or '-'")
    rest = urlencode([(k, v) for k, v in query if k != "schema"])
    return urlunsplit(parts._replace(query=rest)), schema


def for_account(url: str, name: str) -> str:
    """The URL of one fleet account's store: the schema ``<schema>-<name>`` in the same database."""
    base, schema = split(url)
    parts = urlsplit(base)
    query = [*parse_qsl(parts.query, keep_blank_values=True), ("schema", f"{schema}-{name}")]
    return urlunsplit(parts._replace(query=urlencode(query)))


def redacted(url: str) -> str:
    """The URL without its password (for messages)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


class Row(dict[str, Any]):
    """A row by column name (``row["state"]``) and by position (``row[0]``), like ``sqlite3.Row``."""

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, int):
            return list(self.values())[key]
        return super().__getitem__(key)


class Cursor:
    def __init__(self, rows: list[Row], rowcount: int, lastrowid: int | None) -> None:
        self._rows, self.rowcount, self.lastrowid = rows, rowcount, lastrowid

    def fetchone(self) -> Row | None:
        return self._rows[0] if self._rows else None

    def fetchall(self) -> list[Row]:
        return list(self._rows)

    def __iter__(self) -> Iterator[Row]:
        return iter(self._rows)


def _connect(conninfo: str) -> Any:
    try:
        import psycopg
    except ImportError:  # pragma: no cover - the extra is not installed
        raise ConfigError("db: a PostgreSQL store needs psycopg: pip install -e '.[fleet]'") from None
    try:
        return psycopg.connect(conninfo, autocommit=True, connect_timeout=10, cursor_factory=psycopg.ClientCursor)
    except psycopg.Error as e:
        first = (str(e).strip().splitlines() or [type(e).__name__])[0]
        raise ConfigError(f"db: cannot reach PostgreSQL at {redacted(conninfo)}: {first[:160]}") from None


def schema_ready(url: str) -> bool:
    """Whether the URL's schema holds a store (``db init`` made it): checked without creating anything."""
    conninfo, schema = split(url)
    conn = _connect(conninfo)
    try:
        sql = "SELECT 1 FROM information_schema.tables WHERE table_schema = %s AND table_name = 'schema_version'"
        return conn.execute(sql, (schema,)).fetchone() is not None
    finally:
        conn.close()


class Connection:
    """One autocommit connection to the store's schema (created on first use)."""

    def __init__(self, url: str) -> None:
        conninfo, self.schema = split(url)
        self.conn = _connect(conninfo)
        self._lock_key = zlib.crc32(self.schema.encode())
        quoted = '"' + self.schema.replace('"', "") + '"'
        with self.conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_lock(%s)", (self._lock_key,))  # two first starts: one creates
            try:
                cur.execute(f"CREATE SCHEMA IF NOT EXISTS {quoted}")
            finally:
                cur.execute("SELECT pg_advisory_unlock(%s)", (self._lock_key,))
            cur.execute(f"SET search_path TO {quoted}")

    def execute(self, sql: str, params: tuple[Any, ...] | list[Any] = ()) -> Cursor:
        text = sql.strip()
        upper = text.upper()
        if upper.startswith("PRAGMA"):
            return Cursor([], 0, None)
        if upper == "BEGIN IMMEDIATE":
            self.conn.execute("BEGIN")
            self.conn.execute("SELECT pg_advisory_xact_lock(%s)", (self._lock_key,))
            return Cursor([], 0, None)
        if "SQLITE_MASTER" in upper:
            text = (
                "SELECT table_name AS name FROM information_schema.tables "
                "WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
            )
        text = _translate(text)
        returning = None
        m = re.match(r"INSERT INTO (\w+)", text, re.IGNORECASE)
        if m and m.group(1).lower() in _SERIAL_TABLES and "RETURNING" not in text.upper():
            text += " RETURNING id"
            returning = "id"
        values = tuple(int(v) if isinstance(v, bool) else v for v in params)
        cur = self.conn.execute(text.replace("%", "%%").replace("?", "%s"), values)
        rows: list[Row] = []
        if cur.description is not None:
            names = [d.name for d in cur.description]
            rows = [Row(zip(names, r, strict=True)) for r in cur.fetchall()]
        lastrowid = int(rows[0]["id"]) if returning and rows else None
        return Cursor(rows if not returning else [], cur.rowcount, lastrowid)

    def close(self) -> None:
        self.conn.close()


def _translate(sql: str) -> str:
    if sql.upper().startswith("INSERT OR IGNORE INTO"):
        sql = "INSERT INTO" + sql[len("INSERT OR IGNORE INTO") :] + " ON CONFLICT DO NOTHING"
    if re.match(r"\s*(CREATE TABLE|ALTER TABLE)", sql, re.IGNORECASE):
        sql = re.sub(r"\bINTEGER PRIMARY KEY AUTOINCREMENT\b", "BIGSERIAL PRIMARY KEY", sql)
        sql = re.sub(r"\bINTEGER\b", "BIGINT", sql)
        sql = re.sub(r"\bREAL\b", "DOUBLE PRECISION", sql)
    return sql

"""The history store: versioned migrations, applied once; nothing is lost across reopen."""

import sqlite3

from agent.adapters.store.db import MIGRATIONS, Store


def test_migrations_apply_once_and_data_survives_reopen(tmp_path):
    path = tmp_path / "h.db"
    store = Store(path)
    assert store.schema_version == len(MIGRATIONS)
    store.records.set_paused(True, "hello")
    store.close()
    again = Store(path)  # reopening must not re-run migration 1 (it would fail on existing tables)
    assert again.schema_version == len(MIGRATIONS)
    assert again.records.is_paused() and again.records.pause_reason() == "hello"
    assert again.records.alerts("pause")[0]["message"] == "hello"
    again.close()


def test_the_journal_tables_use_wal(tmp_path):
    Store(tmp_path / "h.db").close()
    mode = sqlite3.connect(tmp_path / "h.db").execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def test_a_failed_transaction_changes_nothing(tmp_path):
    store = Store(tmp_path / "h.db")
    try:
        with store.tx() as c:  # the repositories' own transaction, failing half-way
            c.execute("INSERT INTO alerts (created_at, kind, message) VALUES ('t', 'k', 'm')")
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    assert store.records.alerts() == []
    store.close()

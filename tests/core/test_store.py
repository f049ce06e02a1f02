"""The history store: versioned migrations, applied once; nothing is lost across reopen."""

import sqlite3

from agent.adapters.store.db import MIGRATIONS, Store


def test_migrations_apply_once_and_data_survives_reopen(tmp_path):
    path = tmp_path / "h.db"
    store = Store(path)
    assert store.schema_version == len(MIGRATIONS)
    store.set_setting("paused", True)
    store.add_alert("test", "hello")
    store.close()
    again = Store(path)  # reopening must not re-run migration 1 (it would fail on existing tables)
    assert again.schema_version == len(MIGRATIONS)
    assert again.is_paused() and again.query("SELECT message FROM alerts")[0]["message"] == "hello"
    assert again.query("SELECT COUNT(*) AS n FROM schema_version")[0]["n"] == len(MIGRATIONS)
    again.close()


def test_the_journal_tables_use_wal(tmp_path):
    Store(tmp_path / "h.db").close()
    mode = sqlite3.connect(tmp_path / "h.db").execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def test_a_failed_transaction_changes_nothing(tmp_path):
    store = Store(tmp_path / "h.db")
    try:
        with store.tx() as c:
            c.execute("INSERT INTO alerts (created_at, kind, message) VALUES ('t', 'k', 'm')")
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    assert store.query("SELECT COUNT(*) AS n FROM alerts")[0]["n"] == 0
    store.close()

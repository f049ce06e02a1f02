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


def test_processes_opening_a_fresh_path_at_once_all_get_the_same_database(tmp_path):
    """Two heartbeats starting together on a new path: none sees the other's half-made (empty) file."""
    import subprocess
    import sys

    path = tmp_path / "fresh.db"
    code = (
        "import sys, time; from agent.adapters.store.db import Store\n"
        "time.sleep(max(0.0, float(sys.argv[2]) - time.time()))\n"
        "s = Store(sys.argv[1]); s.records.set('who', sys.argv[3]); s.close()\n"
    )
    import time

    start = time.time() + 1.0
    procs = [
        subprocess.Popen([sys.executable, "-c", code, str(path), str(start), str(i)], stderr=subprocess.PIPE, text=True)
        for i in range(6)
    ]
    errors = [p.communicate(timeout=60)[1] for p in procs]
    assert all(p.returncode == 0 for p in procs), errors
    assert Store(path).schema_version == len(MIGRATIONS)
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]

"""The store on a real PostgreSQL server: what one process writes another sees at once (the kill switch, a
plan's single-use token, the lease), each account has its own schema, and an unreachable server is one line."""

from __future__ import annotations

import threading
import time

import pytest

from agent.adapters.store.db import Store
from agent.core.errors import ConfigError
from agent.services.fleet.accounts import account_db


@pytest.fixture
def two(pg_db):
    a, b = Store(pg_db), Store(pg_db)
    yield a, b
    a.close()
    b.close()


def test_a_pause_written_by_one_process_is_read_by_another(two):
    cli, worker = two
    assert not worker.records.is_paused()
    cli.records.set_paused(True, "stop")
    assert worker.records.is_paused() and worker.records.pause_reason() == "stop"


def test_one_writer_per_account_across_connections_with_a_fencing_token(two):
    a, b = two
    now = time.time()
    first = a.leases.acquire("acct", "one", ttl_s=60, now=now, pid=1)
    assert first is not None and b.leases.acquire("acct", "two", ttl_s=60, now=now, pid=2) is None
    later = b.leases.acquire("acct", "two", ttl_s=60, now=now + 61, pid=2)  # the first expired
    assert later is not None and later.fence == first.fence + 1


def test_racing_writers_take_turns_like_sqlite_single_writer(pg_db):
    """Twenty connections race to take one lease at once: exactly one wins (read-then-write is atomic)."""
    stores = [Store(pg_db) for _ in range(20)]
    won: list[str] = []
    go = threading.Barrier(len(stores))

    def take(i: int, s: Store) -> None:
        go.wait()
        if s.leases.acquire("acct", f"w{i}", ttl_s=60, now=time.time()) is not None:
            won.append(f"w{i}")

    threads = [threading.Thread(target=take, args=(i, s)) for i, s in enumerate(stores)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for s in stores:
        s.close()
    assert len(won) == 1, won


def test_each_account_has_its_own_schema_and_sqlite_names_a_file_beside_the_db(pg_db, tmp_path):
    main, trend = Store(pg_db), Store(account_db(pg_db, "trend"))
    try:
        main.records.set_paused(True)
        assert not trend.records.is_paused()
        assert account_db(pg_db, "trend").endswith("-trend")
        assert main.schema_version == trend.schema_version > 0
    finally:
        main.close()
        trend.close()
    assert account_db(str(tmp_path / "rebalancer.db"), "trend") == str(tmp_path / "rebalancer-trend.db")


def test_an_unreachable_server_is_a_one_line_config_error_without_the_password():
    with pytest.raises(ConfigError) as info:
        Store("postgresql://me:secret@127.0.0.1:1/db")
    assert "cannot reach PostgreSQL at postgresql://me:***@127.0.0.1:1/db" in str(info.value)
    assert "secret" not in str(info.value) and "\n" not in str(info.value)

"""A Temporal worker never creates its store by accident: a configured database that does not exist (a
mistyped SQLite path, or a PostgreSQL schema nobody initialised) is an exit-2 error naming ``rebalancer db
init``, before the worker connects to anything, and nothing is created. The CLI holds a PostgreSQL URL to
the same rule. Through the console script."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from clirun import made_db, run
from pgkit import find_bin, fresh_schema, postgres_server

from agent.adapters.store import postgres

from .fleetkit import write_config

FIXED = 'method = "fixed"\nweights = {core = 0.5, trend = 0.25, carry = 0.25}'
UNREACHABLE_EXCHANGE = "http://127.0.0.1:9"


def _worker(cfg: Path) -> object:
    return run("fleet", "worker", "--temporal", "127.0.0.1:1", "--config", str(cfg), timeout=60)


def test_a_mistyped_sqlite_path_stops_the_worker_with_exit_2_and_creates_nothing(tmp_path):
    made_db(tmp_path / "fleet.db")  # the real one
    typo = tmp_path / "flet.db"
    cfg = write_config(tmp_path, UNREACHABLE_EXCHANGE, FIXED, db=str(typo))
    p = _worker(cfg)
    assert p.returncode == 2, p.stderr
    assert p.stderr.strip() == (
        f"error: db: {typo} does not exist; `rebalancer db init --config {cfg}` creates it on purpose (or fix the path)"
    )
    assert not typo.exists() and not list(tmp_path.glob("flet*"))


def test_an_existing_store_lets_the_worker_go_on_to_connect(tmp_path):
    cfg = write_config(tmp_path, UNREACHABLE_EXCHANGE, FIXED)  # fleet.db made on purpose
    p = _worker(cfg)
    assert p.returncode == 4 and "cannot reach Temporal at 127.0.0.1:1" in p.stderr, p.stderr


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    if find_bin() is None:
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql)")
    with postgres_server() as url:
        yield url


@pytest.mark.slow  # a PostgreSQL server
@pytest.mark.parametrize("command", [["fleet", "worker", "--temporal", "127.0.0.1:1"], ["pause"], ["status"]])
def test_a_postgresql_schema_nobody_initialised_is_exit_2_and_is_not_created(tmp_path, pg_url, command):
    db = fresh_schema(pg_url)
    _, schema = postgres.split(db)
    cfg = write_config(tmp_path, UNREACHABLE_EXCHANGE, FIXED, db=db)
    p = run(*command, "--config", str(cfg), timeout=60)
    assert p.returncode == 2, p.stderr
    assert f"`rebalancer db init --config {cfg}` creates it on purpose" in p.stderr, p.stderr
    assert f"schema {schema}" in p.stderr and len(p.stderr.strip().splitlines()) == 1
    assert not postgres.schema_ready(db)
    init = run("db", "init", "--config", str(cfg))
    assert init.returncode == 0 and postgres.schema_ready(db), init.stderr

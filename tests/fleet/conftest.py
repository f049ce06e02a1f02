"""A PostgreSQL server for the fleet's shared-store tests (one per test process; a fresh schema per test)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pgkit import find_bin, fresh_schema, postgres_server


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    if find_bin() is None:
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql)")
    with postgres_server() as url:
        yield url


@pytest.fixture
def pg_db(pg_server: str) -> str:
    """A database URL (``postgresql://…?schema=…``) no other test uses, its store made on purpose (as
    ``rebalancer db init`` does: a configured schema that holds no store is refused)."""
    from agent.adapters.store.db import Store

    url = fresh_schema(pg_server)
    Store(url, init=True).close()
    return url

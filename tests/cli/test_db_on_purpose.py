"""The store is never created by accident: a configured database path that does not exist is an exit-2
error naming ``rebalancer db init``; only the default path is created on first use, and never by an
autonomous heartbeat. Through the command line (in process)."""

from __future__ import annotations

import pytest
from clirun import invoke, invoke_json

from agent.adapters.store.db import Store


@pytest.mark.parametrize("how", ["config-file", "environment"])
def test_a_configured_path_that_does_not_exist_is_refused_and_nothing_is_created(tmp_path, how):
    typo = tmp_path / "rebalancr.db"
    cfg = tmp_path / "rebalancer.toml"
    if how == "config-file":
        cfg.write_text(f'network = "local"\ndb = "{typo}"\n')
        p = invoke("pause", "--reason", "test", "--config", str(cfg), cwd=tmp_path)
    else:
        cfg.write_text('network = "local"\n')
        p = invoke("pause", "--reason", "test", "--config", str(cfg), env={"REBALANCER_DB": str(typo)}, cwd=tmp_path)
    hint = f"`rebalancer db init --config {cfg}`"
    assert p.returncode == 2
    assert p.stderr.strip() == f"error: db: {typo} does not exist; {hint} creates it on purpose (or fix the path)"
    assert not typo.exists() and not (tmp_path / "rebalancer.db").exists()


def test_db_init_creates_it_and_then_every_command_uses_it(tmp_path):
    db = tmp_path / "mine.db"
    cfg = tmp_path / "rebalancer.toml"
    cfg.write_text(f'network = "local"\ndb = "{db}"\n')
    assert invoke("db", "init", "--config", str(cfg)).returncode == 0 and db.exists()
    assert invoke("pause", "--reason", "maintenance", "--config", str(cfg)).returncode == 0
    store = Store(db)
    try:
        assert store.records.is_paused()
    finally:
        store.close()


def test_the_default_path_is_created_on_first_use(tmp_path):
    code, rows = invoke_json("history", cwd=tmp_path)
    assert code == 0 and rows == []
    assert (tmp_path / "rebalancer.db").exists()


@pytest.mark.parametrize("how", ["flag", "config"])
def test_an_autonomous_heartbeat_never_creates_the_database_even_at_the_default_path(tmp_path, how):
    if how == "flag":
        p = invoke("heartbeat", "--once", "--autonomy", "auto", cwd=tmp_path)
    else:
        (tmp_path / "rebalancer.toml").write_text('network = "local"\n[heartbeat]\nautonomy = "auto"\n')
        p = invoke("heartbeat", "--once", cwd=tmp_path)
    assert p.returncode == 2
    assert "rebalancer.db does not exist; `rebalancer db init` creates it on purpose" in p.stderr
    assert not (tmp_path / "rebalancer.db").exists()

"""One policy for every way in, seen through the command line (in process): each defect the new-user run-through found.

- ``execute --json`` without ``--yes`` refuses (it used to trade without asking);
- every execution is a cycle in ``history`` (CLI execute, demo --keep-db and a confirmed heartbeat plan);
- preview gives no token for a plan that execute would refuse (paused, risk gate) and exits 3;
- ``status`` says whether trading is paused and when the exchange data was read;
- the confirm command is printed whole on one line at 80 columns and when piped;
- a bad ``[targets]`` exits 2 with one line, in ``status`` and in ``config show``;
- a dry-run exits 0 and says what it journaled;
- the heartbeat loop prints a line per tick as it happens, the next tick's time, and a line when it stops.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import time
from decimal import Decimal

import pytest
from clirun import SCRIPT, clean_env, invoke, invoke_json, made_db

from agent.standin.demo import load_demo_snapshot
from agent.standin.modes import with_mode

TARGET = '"UBTC/USDC" = 0.25\n"UETH/USDC" = 0.30\n"USOL/USDC" = 0.25\nAVAX = 0.0\nUSDC = 0.20\n'


def write_config(tmp_path, extra: str = "", *, targets: bool = True):
    cfg = tmp_path / "rebalancer.toml"
    body = f'network = "local"\ndb = "{made_db(tmp_path / "h.db")}"\n{extra}\n'
    cfg.write_text(body + (f"\n[targets]\n{TARGET}" if targets else ""))
    return cfg


@pytest.fixture
def config(tmp_path):
    return write_config(tmp_path)


def test_execute_with_json_and_no_yes_refuses_and_sends_nothing(config):
    _, plan = invoke_json("preview", "--config", str(config))
    code, out = invoke_json("execute", plan["plan_id"], "--confirm", plan["confirm_token"], "--config", str(config))
    assert code == 3 and "--yes" in out["error"] and "nothing was sent" in out["error"]
    _, shown = invoke_json("plans", "show", plan["plan_id"], "--config", str(config))
    assert shown["status"] == "previewed" and shown["orders"] == []  # the token is still good
    code, report = invoke_json(
        "execute", plan["plan_id"], "--confirm", plan["confirm_token"], "--yes", "--config", str(config)
    )
    assert code == 0 and report["status"] == "ok"


@pytest.mark.slow  # several console-script runs
def test_every_execution_is_a_cycle_in_history(config, tmp_path):
    _, plan = invoke_json("preview", "--config", str(config))
    token = plan["confirm_token"]
    assert invoke("execute", plan["plan_id"], "--confirm", token, "--yes", "--config", str(config)).returncode == 0
    hb = invoke_json("heartbeat", "--once", "--autonomy", "confirm", "--config", str(config))[1]
    assert hb["status"] == "pending-confirm"
    token = hb["confirm_token"]
    assert invoke("execute", hb["plan_id"], "--confirm", token, "--yes", "--config", str(config)).returncode == 0

    code, rows = invoke_json("history", "--config", str(config))
    assert code == 0
    by_plan = {r["plan_id"]: r for r in rows}
    cli = by_plan[plan["plan_id"]]
    assert cli["status"] == "executed:ok" and cli["source"] == "cli" and cli["target_source"] == "config"
    assert cli["value_before"] > 0 and cli["value_after"] > 0 and cli["orders"] == len(plan["actions"])
    assert cli["fills"] >= cli["orders"] and cli["estimated_cost_usd"] > 0 and cli["realised_cost_usd"] > 0
    tick = by_plan[hb["plan_id"]]
    assert tick["id"] == hb["cycle_id"] and tick["status"] == "executed:ok"  # no longer pending-confirm
    assert tick["value_after"] > 0 and tick["orders"] > 0

    kept = tmp_path / "demo.db"
    assert invoke("demo", "--keep-db", str(kept)).returncode == 0
    code, demo_rows = invoke_json("history", env={"REBALANCER_DB": str(kept)})
    assert code == 0 and [r["status"] for r in demo_rows] == ["executed:ok"] and demo_rows[0]["source"] == "demo"


def test_preview_gives_no_token_when_paused_and_status_says_paused(config):
    assert invoke("pause", "--reason", "maintenance", "--config", str(config)).returncode == 0
    code, out = invoke_json("preview", "--config", str(config))
    assert code == 3 and "paused" in out["error"] and "no confirm token" in out["error"]
    code, status = invoke_json("status", "--config", str(config))
    assert code == 0 and status["paused"] is True and status["as_of"]
    human = invoke("status", "--config", str(config)).stdout
    assert "TRADING PAUSED" in human and "exchange data 20" in human
    _, plans = invoke_json("plans", "--config", str(config))
    assert plans[0]["status"] == "refused" and plans[0]["expires_at"] is None


def test_preview_gives_no_token_for_a_plan_the_risk_gate_refuses(tmp_path):
    cfg = write_config(tmp_path, "[limits]\nmax_notional_per_cycle_usd = 100")
    code, out = invoke_json("preview", "--config", str(cfg))
    assert code == 3 and "risk gate" in out["error"] and "per-cycle cap" in out["error"]


@pytest.mark.parametrize("columns", ["80", "40"])
def test_the_confirm_command_is_printed_whole_when_piped(config, columns):
    p = invoke("preview", "--config", str(config), env={"COLUMNS": columns})
    assert p.returncode == 0
    (line,) = [ln for ln in p.stdout.splitlines() if ln.startswith("rebalancer execute ")]
    assert re.fullmatch(r"rebalancer execute p_[0-9a-f]+-[0-9a-f]{6} --confirm [A-Za-z0-9_-]{24}", line), line
    # a table too wide for the width is folded into blocks, its headers whole
    assert "Current" in p.stdout and "Target" in p.stdout and "…" not in p.stdout


def test_status_shows_one_unified_usdc_row_for_the_unified_demo_account(config):
    out = invoke("status", "--config", str(config), env={"COLUMNS": "120"}).stdout
    assert re.search(r"unified USDC .*\$[0-9,.]+", out) and "perp margin" not in out
    _, status = invoke_json("status", "--config", str(config))
    assert set(status["cash_pools"]) == {"unified_usdc"}


def test_status_shows_spot_usdc_and_perp_margin_as_two_rows_on_a_standard_account(tmp_path):
    standard = with_mode(load_demo_snapshot(), "disabled", perp_usdc=Decimal("599.29"))
    snap = tmp_path / "standard.json"
    snap.write_text(json.dumps(standard))
    out = invoke("status", "--snapshot", str(snap), env={"COLUMNS": "120"}).stdout
    assert re.search(r"spot USDC .*\$77\.71", out) and re.search(r"perp margin .*\$[0-9,.]+", out)
    _, status = invoke_json("status", "--snapshot", str(snap))
    assert set(status["cash_pools"]) == {"spot_usdc", "perp_margin"}


@pytest.mark.parametrize(
    "targets",
    ['"UBTC/USDC" = 0.7\nUSDC = 0.6\n', '"UBTC/USDC" = "half"\n', "NaN = nan\n"],
    ids=["sum", "string", "nan"],
)
@pytest.mark.parametrize("command", [["status"], ["config", "show"]], ids=["status", "config-show"])
def test_bad_targets_in_the_config_exit_2_with_one_line(tmp_path, targets, command):
    cfg = tmp_path / "rebalancer.toml"
    cfg.write_text(f'db = "{made_db(tmp_path / "h.db")}"\n[targets]\n{targets}')
    p = invoke(*command, "--config", str(cfg))
    assert p.returncode == 2 and p.stdout == ""
    (line,) = p.stderr.strip().splitlines()
    assert line.startswith("error: targets") and "Traceback" not in p.stderr


def test_a_dry_run_exits_0_and_says_what_it_journaled(config):
    env = {"REBALANCER_EXECUTION": "dry-run"}
    _, plan = invoke_json("preview", "--config", str(config), env=env)
    token = plan["confirm_token"]
    p = invoke("execute", plan["plan_id"], "--confirm", token, "--yes", "--config", str(config), env=env)
    assert p.returncode == 0, p.stderr
    assert f"Dry-run: {len(plan['actions'])} order intents journaled, nothing was sent." in p.stdout
    _, shown = invoke_json("plans", "show", plan["plan_id"], "--config", str(config))
    assert shown["status"] == "executed:dry-run" and {o["state"] for o in shown["orders"]} == {"DRY_RUN"}


@pytest.mark.slow  # several console-script runs
def test_the_heartbeat_loop_prints_each_tick_as_it_happens_and_when_it_stops(config):
    env = clean_env()
    proc = subprocess.Popen(
        [str(SCRIPT), "heartbeat", "--interval", "1s", "--autonomy", "advise", "--config", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + 60
    while not any(ln.startswith("next tick at") for ln in lines) and time.monotonic() < deadline:
        lines.append(proc.stdout.readline().strip())
    assert proc.poll() is None, "the loop must still be running while its first tick is already printed"
    assert any(re.match(r"hb-advise-\d{8}T\d{6}: (advised|no-trigger|in-band)", ln) for ln in lines), lines
    proc.send_signal(signal.SIGTERM)
    rest, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0
    assert re.search(r"heartbeat stopped after \d+ tick", rest)


def test_the_heartbeat_loop_in_json_prints_one_object_per_tick(config):
    p = invoke("heartbeat", "--once", "--autonomy", "advise", "--config", str(config), "--json")
    (line,) = p.stdout.strip().splitlines()
    tick = json.loads(line)
    assert tick["status"] == "advised" and "next_tick_at" in tick


def test_an_echoed_coin_name_has_its_control_characters_escaped(config, tmp_path):
    target = tmp_path / "evil.json"
    target.write_text(json.dumps({"EVIL\u202eCSU\u0000": 0.5, "USDC": 0.5}))
    p = invoke("status", "--target", str(target), "--config", str(config))
    assert p.returncode == 2 and "\u202e" not in p.stderr and "\x00" not in p.stderr
    assert "EVIL\\u202eCSU\\x00" in p.stderr


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"", "exists but is empty"), (b"not a database at all", "not a SQLite database")],
    ids=["empty", "not-sqlite"],
)
def test_a_database_that_is_not_ours_is_refused_not_recreated(tmp_path, content, message):
    db = tmp_path / "h.db"
    db.write_bytes(content)
    cfg = tmp_path / "rebalancer.toml"
    cfg.write_text(f'db = "{db}"\n[targets]\n{TARGET}')
    for command in (["pause"], ["status"], ["history"]):
        p = invoke(*command, "--config", str(cfg))
        assert p.returncode == 2 and message in p.stderr, (command, p.stderr)
    assert db.read_bytes() == content  # nothing was changed
    if not content:
        assert invoke("db", "init", "--config", str(cfg)).returncode == 0
        assert invoke("pause", "--config", str(cfg)).returncode == 0


def test_a_foreign_or_newer_sqlite_database_is_refused(tmp_path):
    import sqlite3

    from agent.adapters.store.db import MIGRATIONS

    foreign = tmp_path / "foreign.db"
    sqlite3.connect(foreign).execute("CREATE TABLE photos (id INTEGER)").connection.commit()
    newer = tmp_path / "newer.db"
    c = sqlite3.connect(newer)
    c.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
    c.execute("INSERT INTO schema_version VALUES (?)", (len(MIGRATIONS) + 1,))
    c.commit()
    for db, message in ((foreign, "not rebalancer's"), (newer, "newer than this rebalancer")):
        p = invoke("history", env={"REBALANCER_DB": str(db)})
        assert p.returncode == 2 and message in p.stderr, p.stderr


@pytest.mark.slow  # several console-script runs
def test_executing_leaves_the_users_own_orders_alone_and_says_so(tmp_path):
    from agent.standin import load_demo_snapshot, serve

    with serve(load_demo_snapshot()) as server:
        cfg = tmp_path / "rebalancer.toml"
        cfg.write_text(f'network = "{server.url}"\ndb = "{made_db(tmp_path / "h.db")}"\n[targets]\n{TARGET}')
        _, before = invoke_json("orders", "--config", str(cfg))
        assert before  # seed 002's own resting order
        _, plan = invoke_json("preview", "--config", str(cfg))
        code, report = invoke_json(
            "execute", plan["plan_id"], "--confirm", plan["confirm_token"], "--yes", "--config", str(cfg)
        )
        assert code == 0 and report["status"] == "ok"
        assert any("not placed by rebalancer" in n for n in report["notes"])
        assert server.exchange.account.scheduled_cancel_ms is None  # no dead-man switch was armed
        _, after = invoke_json("orders", "--config", str(cfg))
        assert [o["oid"] for o in after] == [o["oid"] for o in before]

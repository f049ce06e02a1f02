"""The CLI as a user runs it: --json shapes, exit codes. In this process through Typer's runner, except two
smoke tests that start the installed console script (the demo, and a preview executed by another process)."""

from __future__ import annotations

import json

import pytest
from clirun import invoke, invoke_json, run_json

TARGET = '"UBTC/USDC" = 0.25\n"UETH/USDC" = 0.30\n"USOL/USDC" = 0.25\nAVAX = 0.0\nUSDC = 0.20\n'


def test_demo_runs_the_whole_loop():
    code, out = run_json("demo")  # the console script, as the README's quick start runs it
    assert code == 0
    assert out["execution"]["status"] == "ok"
    assert out["after"]["rebalance_needed"] is False
    assert out["cost"]["realised_usd"] > 0 and out["cost"]["estimated_usd"] > 0
    # the estimate walks the same books the orders fill against: it is right to the cent
    assert abs(out["cost"]["realised_usd"] - out["cost"]["estimated_usd"]) <= 0.01


def test_status_shows_drift_and_why(config):
    code, out = invoke_json("status", "--config", str(config))
    assert code == 0 and out["rebalance_needed"] is True
    assert "total drift" in out["reason"]
    p = invoke("status", "--config", str(config))
    assert "Current vs target" in p.stdout and "UETH/USDC" in p.stdout


def test_preview_then_execute_across_processes(config):
    code, plan = invoke_json("preview", "--config", str(config))
    assert code == 0 and plan["confirm_token"] and plan["actions"]
    token = plan["confirm_token"]
    # another process (the console script) executes what this one previewed
    code, report = run_json("execute", plan["plan_id"], "--confirm", token, "--yes", "--config", str(config))
    assert code == 0 and report["status"] == "ok"
    code, again = invoke_json("execute", plan["plan_id"], "--confirm", token, "--yes", "--config", str(config))
    assert code == 3 and "already used" in again["error"]


def test_execute_asks_before_trading(config):
    _, plan = invoke_json("preview", "--config", str(config))
    p = invoke("execute", plan["plan_id"], "--confirm", plan["confirm_token"], "--config", str(config))
    assert p.returncode == 3 and "not confirmed" in p.stderr  # stdin is empty: the answer is no


def test_pause_blocks_execution_and_resume_restores(config):
    _, plan = invoke_json("preview", "--config", str(config))
    assert invoke("pause", "--config", str(config), "--reason", "test").returncode == 0
    p = invoke("execute", plan["plan_id"], "--confirm", plan["confirm_token"], "--yes", "--config", str(config))
    assert p.returncode == 3 and "paused" in p.stderr
    assert invoke("resume", "--config", str(config)).returncode == 0


def test_history_json_and_csv(config):
    assert invoke("heartbeat", "--once", "--autonomy", "advise", "--config", str(config)).returncode == 0
    code, rows = invoke_json("history", "--config", str(config))
    assert code == 0 and rows[0]["status"] == "advised"
    p = invoke("history", "--csv", "--config", str(config))
    assert p.stdout.splitlines()[0].startswith("id,started_at")


def test_config_show_redacts_the_secret(config):
    key = "0x" + "cd" * 32
    code, out = invoke_json("config", "show", "--config", str(config), env={"REBALANCER_SECRET_KEY": key})
    assert code == 0 and out["secret_key"] == "set (hidden)"
    p = invoke("config", "show", "--config", str(config), env={"REBALANCER_SECRET_KEY": key})
    assert "cd" * 32 not in p.stdout + p.stderr


def test_decide_offline_from_a_fresh_clone(tmp_path):
    code, out = invoke_json("decide", cwd=tmp_path)
    assert code == 0 and out["status"] == "ok" and out["provider"] == "offline"
    assert (
        abs(
            sum(abs(v) for k, v in out["target_allocation"].items() if k != "USDC")
            + out["target_allocation"].get("USDC", 0)
            - 1
        )
        < 0.011
    )
    from datetime import UTC, datetime

    assert out["history_as_of"] == datetime.now(UTC).date().isoformat() and "stand-in" in out["history_source"]
    p = invoke("decide", cwd=tmp_path)
    assert p.returncode == 0 and f"Market data as of {out['history_as_of']}" in p.stdout


@pytest.mark.slow  # real retry backoff through the console script
def test_decide_with_an_unreachable_provider_fails_closed(tmp_path):
    code, out = invoke_json(
        "decide", "--provider", "openai-compatible", "--base-url", "http://127.0.0.1:9/v1", cwd=tmp_path
    )
    assert code == 5 and out["status"] == "failed_transport" and out["target"] is None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["heartbeat", "--once", "--autonomy", "yolo"], "--autonomy must be"),
        (["heartbeat", "--once", "--interval", "soon"], "--interval"),
        (["history", "--days", "0"], "days must be between"),
        (["decide", "--provider", "magic"], "--provider"),
        (["execute", "p_nope", "--confirm", "x", "--yes"], "unknown plan id"),
    ],
    ids=["autonomy", "interval", "days", "provider", "plan-id"],
)
def test_bad_arguments_get_one_clear_line(config, args, message):
    p = invoke(*args, "--config", str(config))
    assert p.returncode in (2, 3) and message in p.stderr


def test_bad_config_names_the_key(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[limits]\nmax_weight = 7\n")
    p = invoke("status", "--config", str(bad))
    assert p.returncode == 2 and "limits.max_weight" in p.stderr


def test_snapshot_dump_round_trips_into_plan(config, tmp_path):
    out = tmp_path / "snap.json"
    p = invoke("snapshot", "--out", str(out), "--config", str(config))
    assert p.returncode == 0, p.stderr
    data = json.loads(out.read_text())
    assert {"user", "meta", "spotMeta", "clearinghouseState", "spotClearinghouseState", "allMids"} <= set(data)
    target = tmp_path / "t.json"
    target.write_text(json.dumps({"UBTC/USDC": 0.25, "UETH/USDC": 0.30, "USOL/USDC": 0.25, "USDC": 0.20}))
    code, plan = invoke_json("plan", "--snapshot", str(out), "--target", str(target))
    assert code == 0 and plan["rebalance_needed"]

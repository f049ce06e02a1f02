"""The CLI as people expect it: --version, completion, -v, plans, orders, cancel, plan --config."""

from __future__ import annotations

import json

from clirun import invoke, invoke_json

TARGET = '"UBTC/USDC" = 0.25\n"UETH/USDC" = 0.30\n"USOL/USDC" = 0.25\nAVAX = 0.0\nUSDC = 0.20\n'


def test_version():
    p = invoke("--version")
    assert p.returncode == 0 and p.stdout.startswith("rebalancer 0.")


def test_shell_completion_script():
    # the shell named rather than detected from the parent processes (a test started under nohup, by CI or by a
    # background job has no interactive shell above it to detect)
    p = invoke("--show-completion", "bash", env={"_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1"})
    assert p.returncode == 0 and "complete" in p.stdout and "rebalancer" in p.stdout


def test_an_unexpected_error_is_one_line_and_minus_v_shows_the_traceback():
    """No input is meant to reach exit 1 (that is a bug), so the boundary is driven by a command that fails."""
    from typer.testing import CliRunner

    from agent.interfaces.cli import app
    from agent.interfaces.cli.base import boundary

    @app.command("boom", hidden=True)
    @boundary
    def boom() -> None:
        raise RuntimeError("an internal bug")

    try:
        quiet = CliRunner().invoke(app, ["boom"])
        assert quiet.exit_code == 1 and "Traceback" not in quiet.stderr
        assert quiet.stderr.strip() == "error: unexpected RuntimeError: an internal bug (run with -v for the traceback)"
        loud = CliRunner().invoke(app, ["-v", "boom"])
        assert loud.exit_code == 1 and "Traceback" in loud.stderr and "an internal bug" in loud.stderr
    finally:
        app.registered_commands[:] = [c for c in app.registered_commands if c.name != "boom"]


def test_plans_and_plans_show(config):
    _, plan = invoke_json("preview", "--config", str(config))
    code, plans = invoke_json("plans", "--config", str(config))
    assert code == 0 and plans[0]["plan_id"] == plan["plan_id"] and plans[0]["status"] == "previewed"
    assert "confirm_token" not in json.dumps(plans) and plan["confirm_token"] not in json.dumps(plans)
    code, shown = invoke_json("plans", "show", plan["plan_id"], "--config", str(config))
    assert code == 0 and shown["plan"]["actions"] == plan["actions"] and shown["orders"] == []
    human = invoke("plans", "--config", str(config)).stdout
    assert plan["plan_id"] in human
    assert invoke("plans", "show", "p_nope", "--config", str(config)).returncode == 2


def test_orders_lists_the_open_orders_and_cancel_asks_first(config):
    code, orders = invoke_json("orders", "--config", str(config))
    assert code == 0 and orders and orders[0]["coin"] == "UETH/USDC"  # seed 002's resting order holds 0.143 UETH
    p = invoke("cancel", "--config", str(config))
    assert p.returncode == 3 and "--yes" in p.stderr
    code, out = invoke_json("cancel", "--yes", "--config", str(config))
    assert code == 0 and out["sent"] is True and out["count"] == len(orders)


def test_cancel_in_dry_run_sends_nothing(config):
    code, out = invoke_json("cancel", "--yes", "--config", str(config), env={"REBALANCER_EXECUTION": "dry-run"})
    assert code == 0 and out["sent"] is False and out["count"] >= 1 and "nothing was sent" in out["detail"]


def test_plan_reads_its_rules_from_the_config_and_flags_override(tmp_path):
    code, _ = invoke_json("snapshot", "--out", str(tmp_path / "snap.json"))
    assert code == 0
    target = tmp_path / "t.json"
    target.write_text(json.dumps({"UBTC/USDC": 0.25, "UETH/USDC": 0.30, "USOL/USDC": 0.25, "USDC": 0.20}))
    cfg = tmp_path / "band.toml"
    cfg.write_text('[rebalance]\nmode = "band"\nband = 0.02\n')
    args = ("plan", "--snapshot", str(tmp_path / "snap.json"), "--target", str(target))
    assert invoke_json(*args, "--config", str(cfg))[1]["mode"] == "band"
    assert invoke_json(*args, "--config", str(cfg), "--mode", "calendar")[1]["mode"] == "calendar"
    assert invoke_json(*args)[1]["mode"] == "threshold"  # the defaults, which examples/rebalancer.toml holds

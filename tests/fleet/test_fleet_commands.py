"""Every command the fleet prints runs as printed, through the console script (answering its prompt on a
terminal): ``fleet preview``'s execute command keeps its ``--config``; ``fleet run`` in confirm mode prints the
real ``execute … --account NAME`` command; ``plans``, ``plans show``, ``history`` and ``execute`` take
``--account`` and read that account's own database."""

from __future__ import annotations

import os
import pty
import re
import shlex
import subprocess

import pytest
from clirun import SCRIPT, clean_env, run, run_json
from typer.testing import CliRunner

from agent.interfaces.cli import app
from agent.standin import serve

from .fleetkit import fleet_snapshot, write_config

FIXED = 'method = "fixed"\nweights = {core = 0.5, trend = 0.25, carry = 0.25}'
CAPS = "[heartbeat]\nmax_notional_per_tick_usd = 50000\nmax_notional_per_day_usd = 100000\n"


def run_as_printed(command: str, answer: str = "y\n", timeout: float = 120) -> subprocess.CompletedProcess:
    """Run a printed ``rebalancer …`` line with a terminal on stdin (as a person pastes it), answering its prompt."""
    argv = shlex.split(command)
    assert argv[0] == "rebalancer", command
    master, slave = pty.openpty()
    try:
        os.write(master, answer.encode())
        return subprocess.run(
            [str(SCRIPT), *argv[1:]],
            stdin=slave,
            capture_output=True,
            text=True,
            timeout=timeout,
            env=clean_env(),
            check=False,
        )
    finally:
        os.close(master)
        os.close(slave)


def printed(stdout: str, prefix: str) -> str:
    lines = [line.strip() for line in stdout.splitlines() if line.strip().startswith(prefix)]
    assert len(lines) == 1, stdout
    return lines[0]


@pytest.mark.slow
def test_fleet_preview_prints_an_execute_command_that_runs_as_printed_against_the_same_fleet(tmp_path):
    with serve(fleet_snapshot()) as server:
        cfg = write_config(tmp_path, server.url, FIXED)
        p = run("fleet", "preview", "--config", str(cfg))
        assert p.returncode == 0, p.stderr
        command = printed(p.stdout, "rebalancer fleet execute ")
        assert command.endswith(f"--config {cfg}")
        done = run_as_printed(command)
        ledger = list(server.exchange.ledger)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "executed" in done.stdout and ledger


@pytest.mark.slow
def test_fleet_run_in_confirm_mode_prints_the_execute_command_and_account_commands_read_its_database(tmp_path):
    with serve(fleet_snapshot()) as server:
        cfg = write_config(
            tmp_path,
            server.url,
            FIXED,
            extra=CAPS,
            master_targets="{USDC = 1.0}",
            sub_targets="{BTC = 0.1, ETH = 0.1, USDC = 0.8}",
            autonomy="confirm",
        )
        ran = run("fleet", "run", "--once", "--config", str(cfg), timeout=180)
        assert ran.returncode == 0, ran.stderr
        assert "<" not in ran.stdout  # no placeholder where the token belongs
        command = next(
            line.strip() for line in ran.stdout.splitlines() if line.strip().startswith("rebalancer execute ")
        )
        plan_id = command.split()[2]
        account = re.search(r"--account (\S+)", command).group(1)
        assert account in ("trend", "carry") and command.endswith(f"--config {cfg}")

        code, plans = run_json("plans", "--account", account, "--config", str(cfg))
        assert code == 0 and plans[0]["plan_id"] == plan_id and plans[0]["status"] == "previewed"
        elsewhere = run("plans", "show", plan_id, "--config", str(cfg))  # the master's database has no such plan
        assert elsewhere.returncode == 2 and "unknown plan id" in elsewhere.stderr

        done = run_as_printed(command)
        assert done.returncode == 0, done.stdout + done.stderr
        orders = [
            o for s in server.exchange.subaccounts.values() if s.name == account for o in s.account.orders.values()
        ]

    assert orders
    code, detail = run_json("plans", "show", plan_id, "--account", account, "--config", str(cfg))
    assert code == 0 and detail["status"] == "executed:ok" and len(detail["orders"]) == len(orders)
    code, cycles = run_json("history", "--account", account, "--config", str(cfg))
    assert code == 0 and any(c["plan_id"] == plan_id and c["status"] == "executed:ok" for c in cycles)


@pytest.mark.parametrize(
    "args",
    [["plans"], ["plans", "show", "x"], ["history"], ["pause"], ["execute", "x", "--confirm", "t", "--yes"]],
    ids=["plans", "plans-show", "history", "pause", "execute"],
)
def test_an_unknown_account_is_one_line_exit_2_naming_the_configured_ones(tmp_path, args):
    cfg = write_config(tmp_path, "http://127.0.0.1:9", FIXED)
    p = CliRunner().invoke(app, [*args, "--account", "ghost", "--config", str(cfg)])
    assert p.exit_code == 2, (args, p.stderr)
    assert p.stderr.strip() == "error: --account: 'ghost' is not configured (accounts: core, trend, carry)"
    assert not (tmp_path / "fleet-ghost.db").exists()

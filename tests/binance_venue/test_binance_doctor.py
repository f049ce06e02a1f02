"""Doctor on Binance: the key trades spot and cannot withdraw; a key that may withdraw is refused for autonomy
auto unless the config allows it."""

from __future__ import annotations

import json
import os

from clirun import made_db
from typer.testing import CliRunner

from agent.standin.binance.seed import WITHDRAW_KEY, WITHDRAW_SECRET

TARGETS = '[targets]\n"BTC/USD" = 0.25\n"ETH/USD" = 0.30\n"SOL/USD" = 0.25\n"AVAX/USD" = 0.0\nUSDC = 0.20\n'


def run(*args: str, env: dict[str, str] | None = None):
    from agent.interfaces.cli import app

    base: dict[str, str | None] = {k: None for k in os.environ if k.startswith(("REBALANCER_", "OPENAI_"))}
    r = CliRunner().invoke(app, list(args), env={**base, **(env or {})})
    return r.exit_code, r.stdout, r.stderr


def config(tmp_path, extra: str = ""):
    cfg = tmp_path / "b.toml"
    cfg.write_text(
        f'network = "local"\ndb = "{made_db(tmp_path / "b.db")}"\n[exchange]\nvenue = "binanceus"\n{extra}\n' + TARGETS
    )
    return str(cfg)


WITHDRAW = {"REBALANCER_BINANCE_API_KEY": WITHDRAW_KEY, "REBALANCER_BINANCE_SECRET": WITHDRAW_SECRET}


def test_doctor_passes_on_the_demo_key(tmp_path):
    code, out, err = run("doctor", "--config", config(tmp_path), "--json")
    assert code == 0, out + err
    checks = {c["check"]: c for c in map(json.loads, out.splitlines())}
    assert checks["key"]["detail"] == "trades spot; cannot withdraw"
    assert checks["open_orders"]["detail"] == "0 ours, 2 the user's own (never cancelled)"


def test_a_key_that_can_withdraw_fails_the_doctor_and_auto_refuses_it(tmp_path):
    cfg = config(tmp_path)
    code, out, _ = run("doctor", "--config", cfg, "--json", env=WITHDRAW)
    assert code == 2
    [key] = [c for c in map(json.loads, out.splitlines()) if c["check"] == "key"]
    assert not key["ok"] and "can withdraw" in key["detail"]
    code, out, err = run("heartbeat", "--once", "--autonomy", "auto", "--config", cfg, "--json", env=WITHDRAW)
    tick = json.loads(out.strip().splitlines()[0])
    assert tick["status"] == "risk-refused" and "can withdraw" in tick["reason"], out + err
    assert not tick.get("execution")


def test_the_config_may_allow_a_withdrawal_key(tmp_path):
    cfg = config(tmp_path, "allow_withdrawal_keys = true")
    _, out, err = run("heartbeat", "--once", "--autonomy", "auto", "--config", cfg, "--json", env=WITHDRAW)
    tick = json.loads(out.strip().splitlines()[0])
    assert tick["status"].startswith("executed:"), out + err

"""``rebalancer doctor`` through the command line (in process) against the stand-in: a clean demo account passes; an
API wallet's address configured as the account is caught (and ``status`` points at doctor)."""

from __future__ import annotations

import json

from clirun import invoke, invoke_json, made_db

from agent.standin.demo import DEMO_ACCOUNT_ADDRESS, DEMO_AGENT_ADDRESS

CHECKS = ["account", "signer", "mode", "dexes", "open_orders", "dead_man_switch", "rate_budget"]


def lines(stdout: str) -> list[dict]:
    return [json.loads(ln) for ln in stdout.splitlines() if ln.strip()]


def test_doctor_passes_on_the_demo_account(tmp_path):
    p = invoke("doctor", "--json", env={"REBALANCER_DB": str(made_db(tmp_path / "h.db"))})
    checks = lines(p.stdout)
    assert [c["check"] for c in checks] == CHECKS
    assert all(set(c) == {"check", "ok", "detail", "fix"} for c in checks)
    assert p.returncode == 0, checks
    by = {c["check"]: c for c in checks}
    assert "unified account" in by["mode"]["detail"]
    assert "1 not ours" in by["open_orders"]["detail"]  # the demo account's own resting UETH sell


def test_doctor_catches_an_agent_address_used_as_the_account(tmp_path):
    env = {"REBALANCER_DB": str(made_db(tmp_path / "h.db")), "REBALANCER_ACCOUNT_ADDRESS": DEMO_AGENT_ADDRESS}
    p = invoke("doctor", "--json", env=env)
    assert p.returncode == 2
    account = next(c for c in lines(p.stdout) if c["check"] == "account")
    assert account["ok"] is False and "API (agent) wallet" in account["detail"]
    assert DEMO_ACCOUNT_ADDRESS.lower() in account["fix"]
    human = invoke("doctor", env=env)
    assert human.returncode == 2 and "FAIL account" in human.stdout
    status = invoke("status", env=env)
    assert "run `rebalancer doctor`" in status.stdout and "account" in status.stdout
    code, body = invoke_json("status", env=env)
    assert code == 0 and "account" in body["doctor_failing"] and body["doctor_unchecked"] == []


def test_status_before_any_doctor_names_the_wiring_unchecked_and_reads_no_role(tmp_path):
    env = {"REBALANCER_DB": str(made_db(tmp_path / "h.db")), "REBALANCER_ACCOUNT_ADDRESS": DEMO_AGENT_ADDRESS}
    code, body = invoke_json("status", env=env)
    assert code == 0 and body["doctor_failing"] == []  # the agent address is not found without `doctor`
    assert body["doctor_unchecked"] == ["account", "signer", "dexes"]
    human = invoke("status", env=env)
    assert "not checked in the last day (account, signer, dexes): run `rebalancer doctor`" in human.stdout


def test_a_plan_with_a_twap_says_when_open_orders_not_ours_keep_the_dead_man_switch_off(tmp_path):
    """[rebalance] twap_over_usd = 100: the demo's big legs become TWAPs; its resting UETH sell is not ours."""
    cfg = tmp_path / "rebalancer.toml"
    cfg.write_text(
        f'network = "local"\ndb = "{made_db(tmp_path / "h.db")}"\n[rebalance]\ntwap_over_usd = 100.0\n'
        '[targets]\n"UBTC/USDC" = 0.25\n"UETH/USDC" = 0.30\n"USOL/USDC" = 0.25\nAVAX = 0.0\nUSDC = 0.20\n'
    )
    code, plan = invoke_json("status", "--config", str(cfg))
    assert code == 0
    twaps = [a for a in plan["actions"] if a["order_type"] == "twap"]
    assert twaps and all(a["twap_minutes"] >= 5 for a in twaps)
    assert "not placed by rebalancer (UETH/USDC)" in plan["reason"] and "no dead-man switch" in plan["reason"]

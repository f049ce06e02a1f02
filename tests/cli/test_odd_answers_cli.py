"""Odd exchange answers and unreadable config files, through the command line (in process).

A stand-in seeded with a mid of 0 or a negative balance answers exactly that; ``status`` and ``preview``
exit 4 with one line naming the request and the field, and no plan is stored. A binary config file exits 2.
"""

from __future__ import annotations

import copy
import json

import pytest
from clirun import invoke, invoke_json

from agent.standin import load_demo_snapshot


def _mid_zero(snapshot):
    snapshot["allMids"]["BTC"] = "0"
    return "/info allMids, l2Book: allMids.BTC: '0' is not a positive price"


def _negative_balance(snapshot):
    ubtc = next(b for b in snapshot["spotClearinghouseState"]["balances"] if b["coin"] == "UBTC")
    ubtc["total"] = "-1"
    return "spotClearinghouseState.balances[UBTC].total: '-1.0' is negative"  # as the stand-in serves it


@pytest.fixture(params=[_mid_zero, _negative_balance], ids=["mid-0", "negative-balance"])
def odd(tmp_path, request):
    snapshot = copy.deepcopy(load_demo_snapshot())
    message = request.param(snapshot)
    (tmp_path / "odd.json").write_text(json.dumps(snapshot))
    cfg = tmp_path / "odd.toml"
    db = tmp_path / "h.db"
    cfg.write_text(f'network = "local"\nlocal_snapshot = "{tmp_path / "odd.json"}"\ndb = "{db}"\n')
    assert invoke("db", "init", "--config", str(cfg)).returncode == 0
    return cfg, message


@pytest.mark.parametrize("command", ["status", "preview"])
def test_an_odd_exchange_answer_exits_4_with_one_line_and_plans_nothing(odd, command):
    cfg, message = odd
    p = invoke(command, "--config", str(cfg))
    assert p.returncode == 4, p.stderr
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], lines
    assert "pydantic" not in p.stderr and "Traceback" not in p.stderr
    code, plans = invoke_json("plans", "--config", str(cfg))
    assert code == 0 and plans == []


def test_a_binary_config_file_exits_2_naming_the_file(tmp_path):
    cfg = tmp_path / "rebalancer.toml"
    cfg.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe binary")
    p = invoke("status", "--config", str(cfg))
    assert p.returncode == 2, p.stderr
    assert p.stderr.strip().splitlines() == [f"error: {cfg}: not a text file (TOML is UTF-8 text)"]

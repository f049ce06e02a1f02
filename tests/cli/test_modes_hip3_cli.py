"""``status``, ``preview``/``execute`` and ``snapshot --out`` through the command line (in process) on accounts
in each mode with a HIP-3 position (the in-process stand-in seeded from the snapshot; the real SDK over loopback)."""

from __future__ import annotations

import json

import pytest
from clirun import invoke, invoke_json, made_db

from agent.adapters.hyperliquid.parsing import load_snapshot
from agent.standin.demo import load_demo_snapshot
from agent.standin.hip3 import with_xyz


def config(tmp_path, mode: str, targets: str = "") -> str:
    snap = tmp_path / "seed.json"
    snap.write_text(json.dumps(with_xyz(load_demo_snapshot(), mode=mode)))
    cfg = tmp_path / "rebalancer.toml"
    cfg.write_text(
        f'network = "local"\ndb = "{made_db(tmp_path / "h.db")}"\nlocal_snapshot = "{snap}"\n'
        f'[hyperliquid]\ndexes = ["xyz"]\n{targets}'
    )
    return str(cfg)


@pytest.mark.parametrize("mode", ["disabled", "unifiedAccount", "portfolioMargin"])
def test_status_counts_the_hip3_position_and_the_same_equity_in_every_mode(tmp_path, mode):
    code, status = invoke_json("status", "--config", config(tmp_path, mode))
    assert code == 0, status
    rows = {r["coin"]: r for r in status["rows"]}
    assert rows["xyz:TSLA"]["value_usd"] == pytest.approx(2 * 433.635, abs=0.01)
    assert status["summary"]["equity_usd"] == pytest.approx(9130.32, abs=0.01)
    assert set(status["cash_pools"]) == ({"spot_usdc", "perp_margin"} if mode == "disabled" else {"unified_usdc"})


def test_preview_and_execute_trade_the_hip3_coin_through_the_sdk(tmp_path):
    targets = (
        '[targets]\n"UBTC/USDC" = 0.10\n"UETH/USDC" = 0.30\n"USOL/USDC" = 0.25\nAVAX = 0.0\n'
        '"xyz:TSLA" = 0.15\nUSDC = 0.20\n'
    )
    cfg = config(tmp_path, "unifiedAccount", targets)
    code, plan = invoke_json("preview", "--config", cfg)
    assert code == 0, plan
    tsla = next(a for a in plan["actions"] if a["coin"] == "xyz:TSLA")
    assert tsla["side"] == "buy" and tsla["asset"] == 110_001
    code, report = invoke_json("execute", plan["plan_id"], "--confirm", plan["confirm_token"], "--yes", "--config", cfg)
    assert code == 0, report  # each command seeds its own stand-in from the same snapshot: nothing moved
    [leg] = [a for a in report["actions"] if a["coin"] == "xyz:TSLA"]
    assert leg["state"] == "filled" and leg["filled_sz"] == pytest.approx(tsla["size"])


def test_snapshot_out_writes_mode_dexes_and_hip3_books(tmp_path):
    out = tmp_path / "out.json"
    p = invoke("snapshot", "--out", str(out), "--config", config(tmp_path, "unifiedAccount"))
    assert p.returncode == 0, p.stderr
    data = json.loads(out.read_text())
    assert data["userAbstraction"] == "unifiedAccount" and "xyz" in data["dexes"]
    state, _ = load_snapshot(data)
    assert state.positions["xyz:TSLA"].size == 2.0

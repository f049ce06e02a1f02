"""One portfolio across venues: a Hyperliquid account and a Binance.US account added up by underlying, and a
target over the whole split into one plan per account (each venue with its own cash)."""

from __future__ import annotations

import json

import pytest
from clirun import made_db

from agent.core.domain import TargetAllocation
from agent.services.config import load_settings
from agent.services.fleet.portfolio import account_views, across, split
from agent.services.runtime import open_runtime

CONFIG = """network = "local"
db = "{db}"

[[accounts]]
name = "hl"
address = "0xff44ac95c64b5ea2f6d62a90a24a55bc74adf99c"
role = "master"

[[accounts]]
name = "bus"
venue = "binanceus"

[allocation]
weights = {{hl = 0.5, bus = 0.5}}
"""


@pytest.fixture
def svc(tmp_path):
    cfg = tmp_path / "a.toml"
    cfg.write_text(CONFIG.format(db=made_db(tmp_path / "a.db")))
    with open_runtime(load_settings(cfg, env={})) as s:
        yield s


def test_holdings_add_up_by_underlying_across_venues(svc):
    s = across(svc)
    assets = {a["asset"]: a for a in s["assets"]}
    btc = assets["BTC"]
    assert set(btc["accounts"]) == {"hl", "bus"}  # UBTC/USDC on Hyperliquid and BTC/USD on Binance.US are BTC
    assert btc["accounts"]["bus"] == pytest.approx(3175, abs=1)
    assert btc["value_usd"] == pytest.approx(sum(btc["accounts"].values()), abs=0.02)
    equities = {a["name"]: a["equity_usd"] for a in s["accounts"]}
    assert s["total_equity_usd"] == pytest.approx(sum(equities.values()), abs=0.02)
    total_weight = sum(a["weight"] for a in s["assets"]) + s["cash_weight"]
    assert total_weight == pytest.approx(1.0, abs=1e-6)


def test_a_whole_portfolio_target_splits_per_account_and_reports_what_no_venue_can_reach(svc):
    target = TargetAllocation.from_json({"BTC": 0.3, "ETH": 0.3, "DOGE": 0.1, "USDC": 0.3})
    views = account_views(svc)
    targets, unreachable = split(views, target)
    assert targets["bus"]["BTC/USD"] == pytest.approx(0.3) and targets["hl"]["UBTC/USDC"] == pytest.approx(0.3)
    # DOGE trades on Hyperliquid (a perp), not on this Binance.US: its share goes to the Hyperliquid account
    assert "DOGE" in targets["hl"] and not any(k.startswith("DOGE") for k in targets["bus"])
    e = {v.name: v.equity for v in views}
    assert targets["hl"]["DOGE"] * e["hl"] == pytest.approx(0.1 * (e["hl"] + e["bus"]), rel=1e-6)
    assert unreachable == []
    far = TargetAllocation.from_json({"BTC": 0.2, "ETH": 0.2, "DOGE": 0.6})
    _, unreachable = split(views, far)
    assert unreachable and unreachable[0].startswith("DOGE: $")


def test_status_all_and_preview_all_through_the_cli(tmp_path):
    from clirun import invoke_json

    cfg = tmp_path / "a.toml"
    cfg.write_text(CONFIG.format(db=made_db(tmp_path / "a.db")))
    tgt = tmp_path / "t.json"
    tgt.write_text(json.dumps({"BTC": 0.3, "ETH": 0.3, "SOL": 0.2, "USDC": 0.2}))
    code, out = invoke_json("status", "--all", "--config", str(cfg))
    assert code == 0, out
    assert {a["venue"] for a in out["accounts"]} == {"hyperliquid", "binanceus"}
    code, out = invoke_json("preview", "--all", "--target", str(tgt), "--config", str(cfg))
    assert code == 0, out
    assert set(out["plans"]) == {"hl", "bus"}
    assert all(p["confirm_token"] for p in out["plans"].values())

"""The committed demo snapshot: seed 002's account on real market data, served and tradable."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import eth_account
import pytest
import requests
from hyperliquid.exchange import Exchange
from hyperliquid.info import Info

from agent import standin
from agent.standin import (
    DEMO_ACCOUNT_ADDRESS,
    DEMO_AGENT_ADDRESS,
    DEMO_AGENT_SECRET_KEY,
    DEMO_SECRET_KEY,
    StandIn,
    load_demo_snapshot,
    serve,
)

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared"


def test_public_names():
    assert set(standin.__all__) >= {
        "StandIn",
        "Faults",
        "serve",
        "serve_forever",
        "run_server",
        "StandInServer",
        "load_demo_snapshot",
        "DEMO_SECRET_KEY",
        "DEMO_ACCOUNT_ADDRESS",
    }


def test_demo_keys_match_their_addresses():
    assert eth_account.Account.from_key(DEMO_SECRET_KEY).address == DEMO_ACCOUNT_ADDRESS
    assert eth_account.Account.from_key(DEMO_AGENT_SECRET_KEY).address == DEMO_AGENT_ADDRESS


def test_demo_snapshot_holds_seed_002_as_a_unified_account():
    """Seed 002's $77.71 spot cash and $599.29 of perp margin, held the way the app keeps new accounts:
    one unified USDC balance in spot, the AVAX position's margin on hold."""
    snap = load_demo_snapshot()
    assert snap["user"] == DEMO_ACCOUNT_ADDRESS
    assert snap["approvedAgents"] == [DEMO_AGENT_ADDRESS]
    assert snap["userAbstraction"] == "unifiedAccount"
    balances = {b["coin"]: b for b in snap["spotClearinghouseState"]["balances"]}
    assert {c: Decimal(balances[c]["total"]) for c in balances} == {
        "USDC": Decimal("77.71") + Decimal("599.29"),
        "UBTC": Decimal("0.03482"),
        "UETH": Decimal("1.54158"),
        "USOL": Decimal("25.111"),
    }
    assert balances["UETH"]["hold"] == "0.143"
    [entry] = snap["clearinghouseState"]["assetPositions"]
    avax = entry["position"]
    assert avax["coin"] == "AVAX" and avax["szi"] == "55.66" and avax["leverage"]["value"] == 2
    assert Decimal(balances["USDC"]["hold"]) == Decimal(avax["marginUsed"])
    assert snap["clearinghouseState"]["withdrawable"] == "0.0"


def test_demo_market_is_consistent():
    snap = load_demo_snapshot()
    mids = snap["allMids"]
    for coin, book in snap["l2Books"].items():
        bids, asks = book["levels"]
        assert float(bids[0]["px"]) < float(mids[coin]) < float(asks[0]["px"]), coin
    pairs = {p["name"]: p["tokens"][0] for p in snap["spotMeta"]["universe"]}
    assert set(pairs) == {"@142", "@151", "@156"}
    assert mids["@142"] == mids["BTC"] and mids["@151"] == mids["ETH"] and mids["@156"] == mids["SOL"]
    meta, ctxs = snap["metaAndAssetCtxs"]
    assert len(ctxs) == len(meta["universe"]) == 28
    assert len(snap["candles"]["SOL"]["1d"]) == 120
    StandIn.from_snapshot(snap)  # every section parses


def test_demo_account_trades_with_its_key_and_its_agent():
    snap = load_demo_snapshot()
    with serve(snap) as server:
        info = Info(server.url, skip_ws=True, meta=snap["meta"], spot_meta=snap["spotMeta"])
        for key in (DEMO_SECRET_KEY, DEMO_AGENT_SECRET_KEY):
            exchange = Exchange(
                eth_account.Account.from_key(key),
                server.url,
                meta=snap["meta"],
                spot_meta=snap["spotMeta"],
                account_address=DEMO_ACCOUNT_ADDRESS,
            )
            result = exchange.market_open("SOL", True, 0.2)
            assert "filled" in result["response"]["data"]["statuses"][0], result
        sold = exchange.market_open("UETH/USDC", False, 1.3)
        assert "filled" in sold["response"]["data"]["statuses"][0], sold
        too_much = exchange.market_open("UETH/USDC", False, 0.2)  # 0.143 of the rest is on hold
        assert too_much["response"]["data"]["statuses"][0] == {"error": "Insufficient spot balance asset=10151"}
        assert info.user_state(DEMO_ACCOUNT_ADDRESS)["assetPositions"][-1]["position"]["szi"] == "0.4"


@pytest.mark.skipif(not SHARED.is_dir(), reason="the shared source data is not on this machine")
def test_demo_snapshot_is_reproducible_from_the_sources():
    from agent.standin.build_demo import build

    assert build(SHARED) == load_demo_snapshot()


def test_run_server_serves_until_sigterm(tmp_path):
    path = tmp_path / "snap.json"
    path.write_text(json.dumps(load_demo_snapshot()))
    code = f"from agent.standin import run_server; run_server({str(path)!r}, '127.0.0.1', 0)"
    proc = subprocess.Popen([sys.executable, "-c", code], stderr=subprocess.PIPE, text=True, cwd=REPO)
    try:
        line = ""
        while "http://127.0.0.1:" not in line:  # skip anything else the interpreter prints first
            line = proc.stderr.readline()
            assert line, "the server exited before printing its URL"
        url = line.strip().rsplit(" ", 1)[-1]
        assert url.startswith("http://127.0.0.1:")
        mids = requests.post(url + "/info", json={"type": "allMids"}, timeout=10).json()
        assert "BTC" in mids
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()

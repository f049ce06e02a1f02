"""HIP-3 dexes through the real SDK against the stand-in: an ``xyz`` dex with a TSLA position.

Equity counts the dex (standard: its account value; unified: its unrealized PnL); a target naming
``xyz:TSLA`` is planned with the dex's asset id (100000 + dex index × 10000 + index in its meta), sent
and filled; a dex that ``perpDexs`` does not list is refused.
"""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from agent import PortfolioRebalancer, TargetAllocation
from agent.adapters.hyperliquid.client import HyperliquidExchange
from agent.adapters.hyperliquid.parsing import load_snapshot
from agent.core.errors import SnapshotError, TargetValidationError
from agent.services.trading.executor import Executor
from agent.standin import DEMO_ACCOUNT_ADDRESS, DEMO_SECRET_KEY, load_demo_snapshot, serve
from agent.standin.hip3 import with_xyz


def connect(url: str, **kw) -> HyperliquidExchange:
    return HyperliquidExchange(
        url, account_address=DEMO_ACCOUNT_ADDRESS, secret_key=DEMO_SECRET_KEY, timeout=2.0, order_ttl_s=2.0, **kw
    )


@pytest.mark.parametrize("mode", ["disabled", "unifiedAccount"])
def test_equity_and_positions_include_the_hip3_dex(mode):
    snap = with_xyz(load_demo_snapshot(), mode=mode)
    with serve(snap) as srv:
        adapter = connect(srv.url, dexes=("xyz",))
        state, market = adapter.account_state(), adapter.market()
        tsla = state.positions["xyz:TSLA"]
        assert tsla.size == 2.0 and market.assets["xyz:TSLA"].asset == 110_001
        assert market.assets["xyz:TSLA"].only_isolated and market.assets["xyz:TSLA"].fee_scale == 2.0
        ch = adapter._info({"type": "clearinghouseState", "user": adapter.user})
        xyz = adapter._info({"type": "clearinghouseState", "user": adapter.user, "dex": "xyz"})
        spot = adapter._info({"type": "spotClearinghouseState", "user": adapter.user})
        mids = adapter._info({"type": "allMids"})
        pair = {"UBTC": "@142", "UETH": "@151", "USOL": "@156"}
        spot_value = sum(
            float(b["total"]) * (1.0 if b["coin"] == "USDC" else float(mids[pair[b["coin"]]])) for b in spot["balances"]
        )
        if mode == "disabled":
            values = [float(c["marginSummary"]["accountValue"]) for c in (ch, xyz)]
            formula = sum(values) + spot_value
        else:
            upnl = [float(p["position"]["unrealizedPnl"]) for c in (ch, xyz) for p in c["assetPositions"]]
            formula = spot_value + sum(upnl)
        assert state.equity(market) == pytest.approx(formula, abs=1e-6)
        assert state.equity(market) == pytest.approx(9130.318, abs=0.01)  # the same account in both modes


def test_a_target_naming_a_hip3_coin_reads_its_dex_and_trades_it(tmp_path):
    from agent.adapters.store.db import Store

    snap = with_xyz(load_demo_snapshot(), mode="unifiedAccount", tsla=Decimal(0))
    with serve(snap) as srv:
        adapter = connect(srv.url)  # no dex configured: the target names it
        adapter.use_dexes(["xyz"])
        state = adapter.account_state()
        market = adapter.market(books=["xyz:TSLA"])
        target = {c: round(w, 6) for c, w in state.weights(market).items() if c != "USDC"}
        target["xyz:TSLA"] = 0.03
        plan = PortfolioRebalancer(rebalance_threshold=0.02).create_rebalancing_plan(
            state, TargetAllocation.from_json(target), market
        )
        [buy] = [a for a in plan.actions if a.coin == "xyz:TSLA"]
        assert buy.asset == 110_001 and buy.wire_name == "xyz:TSLA" and buy.side == "buy"
        store = Store(tmp_path / "h.sqlite")
        report = Executor(adapter, store, mode="live").execute(plan)
        store.close()
        assert report.status == "ok", report.errors
        pos = adapter.account_state().positions["xyz:TSLA"]
        assert pos.size == pytest.approx(buy.size) and pos.leverage is not None
        leverage = adapter._info({"type": "clearinghouseState", "user": adapter.user, "dex": "xyz"})
        lev = leverage["assetPositions"][0]["position"]["leverage"]
        assert (lev["type"], lev["value"]) == ("isolated", 1)  # isolated-only, set to 1x before the open
        fill = srv.exchange.account.fills[-1]
        # HIP-3 taker fee at deployerFeeScale 1.0: twice the main dex's 4.5 bp
        assert float(fill["fee"]) == pytest.approx(float(fill["px"]) * float(fill["sz"]) * 0.00045 * 2, rel=1e-6)


def test_a_dex_perp_dexs_does_not_list_is_refused():
    with serve(with_xyz(load_demo_snapshot())) as srv:
        adapter = connect(srv.url)
        with pytest.raises(SnapshotError, match="dex abc is not listed by perpDexs"):
            adapter.use_dexes(["abc"])


def test_a_snapshot_naming_an_unlisted_dex_and_a_target_on_a_dex_not_read_are_bad_input(tmp_path):
    snap = with_xyz(load_demo_snapshot())
    bad = json.loads(json.dumps(snap))
    bad["dexes"]["flx"] = bad["dexes"].pop("xyz")
    with pytest.raises(SnapshotError, match="dex flx is not listed by perpDexs"):
        load_snapshot(bad)
    state, market = load_snapshot(load_demo_snapshot())
    with pytest.raises(TargetValidationError, match="HIP-3 dex 'xyz' is not one the account can use"):
        PortfolioRebalancer().create_rebalancing_plan(state, TargetAllocation.from_json({"xyz:TSLA": 0.05}), market)


def test_snapshot_out_writes_the_mode_and_the_dexes_in_use():
    from agent.adapters.snapshot import dump_snapshot

    with serve(with_xyz(load_demo_snapshot(), mode="unifiedAccount")) as srv:
        dumped = dump_snapshot(connect(srv.url, dexes=("xyz",)))
    assert dumped["userAbstraction"] == "unifiedAccount"
    assert dumped["perpDexs"][0] is None and dumped["perpDexs"][1]["name"] == "xyz"
    assert set(dumped["dexes"]["xyz"]) == {"meta", "metaAndAssetCtxs", "clearinghouseState"}
    assert "xyz:TSLA" in dumped["l2Books"]
    state, _ = load_snapshot(dumped)
    assert state.positions["xyz:TSLA"].size == 2.0 and state.unified

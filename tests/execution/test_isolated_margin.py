"""Isolated-only HIP-3 perps through the real SDK against the stand-in: the stand-in answers
``updateLeverage`` as Hyperliquid does and margins an isolated position on its own (a 10x isolated
``xyz:TSLA`` long is liquidated about 5 % below its entry, on its own margin); the executor sets an
isolated-only asset's leverage before its first open, journals it, and skips the leg when refused."""

from __future__ import annotations

from decimal import Decimal

import pytest
from eth_account import Account
from hyperliquid.exchange import Exchange
from hyperliquid.utils.types import Cloid

from agent import PortfolioRebalancer, TargetAllocation
from agent.adapters.hyperliquid.client import HyperliquidExchange
from agent.adapters.store.db import Store
from agent.services.trading.executor import Executor
from agent.services.trading.leverage import record_key
from agent.standin import DEMO_ACCOUNT_ADDRESS, DEMO_SECRET_KEY, Faults, load_demo_snapshot, serve
from agent.standin.hip3 import with_xyz

DEX_USDC = Decimal(300)


def standard_xyz() -> dict:
    """The demo account as a standard account with $300 on dex ``xyz`` and no TSLA yet."""
    return with_xyz(load_demo_snapshot(), tsla=Decimal(0), dex_usdc=DEX_USDC)


def sdk(url: str) -> Exchange:
    return Exchange(Account.from_key(DEMO_SECRET_KEY), url, account_address=DEMO_ACCOUNT_ADDRESS, perp_dexs=["", "xyz"])


def xyz_state(ex: Exchange) -> dict:
    return ex.info.post("/info", {"type": "clearinghouseState", "user": DEMO_ACCOUNT_ADDRESS, "dex": "xyz"})


def test_update_leverage_is_answered_as_hyperliquid_does():
    with serve(standard_xyz()) as srv:
        ex = sdk(srv.url)
        assert ex.update_leverage(10, "xyz:TSLA", is_cross=False) == {"status": "ok", "response": {"type": "default"}}
        assert ex.update_leverage(11, "xyz:TSLA", is_cross=False) == {
            "status": "err",
            "response": "Invalid leverage value",
        }
        refused = ex.update_leverage(3, "xyz:TSLA", is_cross=True)  # isolated-only
        assert refused["status"] == "err"
        assert srv.exchange.leverage_for("xyz:TSLA") == ("isolated", 10)


def test_a_10x_isolated_long_is_ring_fenced_and_liquidated_on_its_own_margin():
    with serve(standard_xyz()) as srv:
        ex = sdk(srv.url)
        assert ex.update_leverage(10, "xyz:TSLA", is_cross=False)["status"] == "ok"
        answer = ex.order("xyz:TSLA", True, 2.0, 440.0, {"limit": {"tif": "Ioc"}}, cloid=Cloid.from_int(7))
        fill = answer["response"]["data"]["statuses"][0]["filled"]
        entry, size = float(fill["avgPx"]), float(fill["totalSz"])
        state = xyz_state(ex)
        [item] = state["assetPositions"]
        pos = item["position"]
        margin = size * entry / 10
        assert pos["leverage"]["type"] == "isolated" and pos["leverage"]["value"] == 10
        assert float(pos["leverage"]["rawUsd"]) == pytest.approx(margin - size * entry, abs=1e-3)
        liq = float(pos["liquidationPx"])
        # own margin 10 %, maintenance 1/(2·10) = 5 %: (1 − 0.10) / (1 − 0.05) of the entry, 5.3 % below
        assert liq == pytest.approx(entry * 0.9 / 0.95, rel=1e-6)
        assert 0.04 < 1 - liq / entry < 0.07
        # the cross balance no longer holds the margin: withdrawable = $300 − margin − fee
        fee = size * entry * 0.00045 * 2
        assert float(state["withdrawable"]) == pytest.approx(float(DEX_USDC) - margin - fee, abs=0.01)
        assert float(state["crossMarginSummary"]["accountValue"]) == pytest.approx(
            float(state["marginSummary"]["accountValue"]) - float(pos["marginUsed"]), abs=1e-6
        )
        with srv.exchange.lock:  # the market falls past the liquidation price
            srv.exchange.marks["xyz:TSLA"] = Decimal(str(liq)) * Decimal("0.999")
        after = xyz_state(ex)
        assert after["assetPositions"] == []
        # only the position's own margin was lost: the cross balance is what it was
        assert float(after["marginSummary"]["accountValue"]) == pytest.approx(float(DEX_USDC) - margin - fee, abs=0.01)
        fills = ex.info.user_fills(DEMO_ACCOUNT_ADDRESS)
        assert fills[0]["coin"] == "xyz:TSLA" and "liquidation" in fills[0]


def connect(url: str) -> HyperliquidExchange:
    adapter = HyperliquidExchange(
        url, account_address=DEMO_ACCOUNT_ADDRESS, secret_key=DEMO_SECRET_KEY, timeout=2.0, order_ttl_s=2.0
    )
    adapter.use_dexes(["xyz"])
    return adapter


def tsla_plan(adapter: HyperliquidExchange):
    state = adapter.account_state()
    market = adapter.market(books=["xyz:TSLA"])
    target = {c: round(w, 6) for c, w in state.weights(market).items() if c != "USDC"}
    target["xyz:TSLA"] = 0.02
    plan = PortfolioRebalancer(rebalance_threshold=0.01).create_rebalancing_plan(
        state, TargetAllocation.from_json(target), market
    )
    index = next(i for i, a in enumerate(plan.actions) if a.coin == "xyz:TSLA")
    return plan, index


def test_the_executor_sets_isolated_1x_before_the_first_open_and_journals_it(tmp_path):
    with serve(standard_xyz()) as srv:
        assert srv.exchange.leverage_for("xyz:TSLA") == ("isolated", 10)  # the exchange's default: its max
        adapter = connect(srv.url)
        plan, index = tsla_plan(adapter)
        store = Store(tmp_path / "l.sqlite")
        report = Executor(adapter, store, mode="live").execute(plan)
        assert report.status == "ok", report.errors
        assert report.actions[index].state == "filled"
        record = store.records.get(record_key(plan.plan_id, index))
        assert record == {"coin": "xyz:TSLA", "asset": 110_001, "isCross": False, "leverage": 1, "state": "SET"}
        store.close()
        pos = xyz_state(sdk(srv.url))["assetPositions"][0]["position"]
        assert pos["leverage"] == {"type": "isolated", "value": 1, "rawUsd": pos["leverage"]["rawUsd"]}
        assert pos["liquidationPx"] is None  # fully margined at 1x: no liquidation price above zero


def test_a_refused_update_leverage_skips_the_leg_with_the_reason(tmp_path):
    body = {"status": "err", "response": "Stand-in: leverage refused"}
    faults = Faults(http_4xx_json_next=1, path="/exchange", kind="updateLeverage", body_4xx=body)
    with serve(standard_xyz(), faults=faults) as srv:
        adapter = connect(srv.url)
        plan, index = tsla_plan(adapter)
        store = Store(tmp_path / "l.sqlite")
        report = Executor(adapter, store, mode="live").execute(plan)
        action = report.actions[index]
        assert action.state == "skipped" and "isolated 1x was refused" in action.note
        assert store.records.get(record_key(plan.plan_id, index))["state"] == "REFUSED"
        assert not store.journal.rows(plan_id=plan.plan_id, action_index=index)  # no order was sent
        assert "xyz:TSLA" not in {p.coin for p in srv.exchange.account.positions.values()}
        store.close()

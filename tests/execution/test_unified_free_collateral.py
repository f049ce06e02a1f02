"""A unified account with a losing perp position: free collateral is equity − margin used (equity = spot
USDC + unrealized PnL), lower than spot ``total − hold``. The planner and the executor size buys to the
lower figure, and the stand-in refuses what goes past it, through the real SDK."""

from __future__ import annotations

from typing import Any

import pytest
from eth_account import Account
from hyperliquid.exchange import Exchange
from hyperliquid.utils.types import Cloid

from agent import PortfolioRebalancer, TargetAllocation
from agent.adapters.hyperliquid.client import HyperliquidExchange
from agent.adapters.store.db import Store
from agent.services.trading.executor import Executor
from agent.standin import DEMO_ACCOUNT_ADDRESS, DEMO_SECRET_KEY, load_demo_snapshot, serve

LOSING_ENTRY = "12.0"  # AVAX marks 9.428: 55.66 × (9.428 − 12) ≈ −$143 unrealized


def losing_unified() -> dict[str, Any]:
    """The demo unified account (USDC total $677, hold $262.40 = the AVAX margin) bought AVAX at $12."""
    snap = load_demo_snapshot()
    [pos] = snap["clearinghouseState"]["assetPositions"]
    pos["position"]["entryPx"] = LOSING_ENTRY
    return snap


def connect(url: str) -> HyperliquidExchange:
    return HyperliquidExchange(
        url, account_address=DEMO_ACCOUNT_ADDRESS, secret_key=DEMO_SECRET_KEY, timeout=2.0, order_ttl_s=2.0
    )


def free_collateral(adapter: HyperliquidExchange) -> tuple[float, float]:
    """(equity − margin used, total − hold), straight from the /info answers."""
    spot = adapter.ask({"type": "spotClearinghouseState", "user": adapter.user})
    usdc = next(b for b in spot["balances"] if b["coin"] == "USDC")
    ch = adapter.ask({"type": "clearinghouseState", "user": adapter.user})
    upnl = sum(float(p["position"]["unrealizedPnl"]) for p in ch["assetPositions"])
    used = sum(float(p["position"]["marginUsed"]) for p in ch["assetPositions"])
    return float(usdc["total"]) + upnl - used, float(usdc["total"]) - float(usdc["hold"])


def test_the_plan_buys_no_more_than_equity_minus_margin_used(tmp_path):
    with serve(losing_unified()) as srv:
        adapter = connect(srv.url)
        collateral, spot_free = free_collateral(adapter)
        assert collateral < spot_free - 100  # the loss makes the difference
        state = adapter.account_state()
        assert state.unified_free == pytest.approx(collateral, abs=0.01)
        market = adapter.market(books=sorted({*state.positions, "BTC"}))
        target = {c: round(w, 6) for c, w in state.weights(market).items() if c != "USDC"}
        target["UBTC/USDC"] = round(target["UBTC/USDC"] + 0.09, 6)  # ≈ $490 wanted: past both figures
        target["USDC"] = 0.0  # 1.09x gross: buying power is not the limit, the cash is
        planner = PortfolioRebalancer(rebalance_threshold=0.01, max_gross_leverage=1.5, max_trades=1)
        plan = planner.create_rebalancing_plan(state, TargetAllocation.from_json(target), market)
        [buy] = [a for a in plan.actions if a.coin == "UBTC/USDC"]
        assert buy.side == "buy" and buy.notional_usd <= collateral and "shrunk" in buy.reason
        assert buy.notional_usd > 0.95 * collateral  # it uses the collateral, not far less
        store = Store(tmp_path / "u.sqlite")
        report = Executor(adapter, store, mode="live").execute(plan)
        store.close()
        assert report.status == "ok", report.errors
        assert report.actions[plan.actions.index(buy)].state == "filled"


def test_the_stand_in_refuses_a_spot_buy_past_the_free_collateral():
    with serve(losing_unified()) as srv:
        adapter = connect(srv.url)
        collateral, spot_free = free_collateral(adapter)
        sdk = Exchange(Account.from_key(DEMO_SECRET_KEY), srv.url, account_address=DEMO_ACCOUNT_ADDRESS)
        size = round((collateral + spot_free) / 2 / 77_600, 5)  # between the two figures
        answer = sdk.order("UBTC/USDC", True, size, 77_600.0, {"limit": {"tif": "Ioc"}}, cloid=Cloid.from_int(1))
        [status] = answer["response"]["data"]["statuses"]
        assert status == {"error": "Insufficient spot balance asset=10142"}
        half = round(collateral / 2 / 77_600, 5)
        answer = sdk.order("UBTC/USDC", True, half, 77_600.0, {"limit": {"tif": "Ioc"}}, cloid=Cloid.from_int(2))
        assert "filled" in answer["response"]["data"]["statuses"][0]

"""Account modes through the real SDK against the stand-in: equity follows each mode's formula, and a
unified account's spot USDC funds a perp buy where a standard account's cannot.

Formulas (issue 10, Hyperliquid docs "Account abstraction modes"):
standard E = perp accountValue (every dex) + spot balances at mid (USDC at 1);
unified / portfolio margin E = spot balances at mid + unrealized PnL of every perp position.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from agent import PortfolioRebalancer, TargetAllocation
from agent.adapters.hyperliquid.client import HyperliquidExchange
from agent.adapters.paper import PaperExchange
from agent.core.errors import SnapshotError
from agent.services.trading.executor import Executor
from agent.standin import DEMO_ACCOUNT_ADDRESS, DEMO_SECRET_KEY, StandInServer, load_demo_snapshot, serve
from agent.standin.modes import with_mode

#: seed 002's split: $77.71 spot USDC and $599.29 of perp margin on a standard account.
PERP_USDC = Decimal("599.29")
MODES = ["disabled", "unifiedAccount", "portfolioMargin"]


def snapshot_in(mode: str) -> dict[str, Any]:
    demo = load_demo_snapshot()  # a unified account
    return with_mode(demo, mode, perp_usdc=PERP_USDC if mode == "disabled" else Decimal(0))


@pytest.fixture(params=MODES)
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def serving(mode: str) -> StandInServer:
    return serve(snapshot_in(mode))


def connect(server: StandInServer) -> HyperliquidExchange:
    return HyperliquidExchange(
        server.url, account_address=DEMO_ACCOUNT_ADDRESS, secret_key=DEMO_SECRET_KEY, timeout=2.0, order_ttl_s=2.0
    )


@pytest.fixture
def served(mode: str) -> Iterator[tuple[StandInServer, HyperliquidExchange]]:
    with serving(mode) as srv:
        yield srv, connect(srv)


def raw_equity(adapter: HyperliquidExchange, mode: str) -> float:
    """The formula, computed straight from the /info answers the stand-in serves."""
    info = adapter.info.post
    user = adapter.user
    ch = info({"type": "clearinghouseState", "user": user})
    spot = info({"type": "spotClearinghouseState", "user": user})
    mids = info({"type": "allMids"})
    pair = {"UBTC": "@142", "UETH": "@151", "USOL": "@156"}
    spot_value = sum(
        float(b["total"]) * (1.0 if b["coin"] == "USDC" else float(mids[pair[b["coin"]]])) for b in spot["balances"]
    )
    if mode in ("unifiedAccount", "portfolioMargin"):
        return spot_value + sum(float(p["position"]["unrealizedPnl"]) for p in ch["assetPositions"])
    return float(ch["marginSummary"]["accountValue"]) + spot_value


def test_the_account_mode_is_read_and_equity_follows_its_formula(served, mode):
    _, adapter = served
    state = adapter.account_state()
    market = adapter.market()
    assert state.abstraction == mode
    assert state.equity(market) == pytest.approx(raw_equity(adapter, mode), abs=1e-6)
    # the same account in every mode: the same equity (seed 002's $8,825.70), counted once
    assert state.equity(market) == pytest.approx(8825.6979465, abs=0.01)


def test_a_unified_accounts_perp_dex_value_is_not_added(mode):
    snap = snapshot_in(mode)
    if mode == "disabled":
        pytest.skip("a standard account counts its perp account value")
    value = float(snap["clearinghouseState"]["marginSummary"]["accountValue"])
    usdc = next(float(b["total"]) for b in snap["spotClearinghouseState"]["balances"] if b["coin"] == "USDC")
    assert value > 100 and usdc > 600  # adding both would count the AVAX margin twice


#: sell a tenth of equity of UETH and buy a 0.10 BTC perp with it (no other change).
def rotate_into_perp(adapter: HyperliquidExchange) -> dict[str, float]:
    state, market = adapter.account_state(), adapter.market()
    w = state.weights(market)
    target = {c: round(x, 6) for c, x in w.items() if c != "USDC"}
    target["UETH/USDC"] = round(target["UETH/USDC"] - 0.10, 6)
    target["BTC"] = 0.10
    return target


def plan_for(adapter: HyperliquidExchange, target: dict[str, float]) -> Any:
    state = adapter.account_state()
    market = adapter.market(books=sorted({*state.positions, *target}))
    return PortfolioRebalancer(rebalance_threshold=0.02).create_rebalancing_plan(
        state, TargetAllocation.from_json(target), market
    )


def test_unified_spot_usdc_funds_a_perp_buy_and_standard_spot_usdc_does_not(tmp_path):
    from agent.adapters.store.db import Store

    with serving("unifiedAccount") as srv:
        adapter = connect(srv)
        target = rotate_into_perp(adapter)
        plan = plan_for(adapter, target)
        btc = next(a for a in plan.actions if a.coin == "BTC")
        assert btc.side == "buy" and btc.notional_usd > 0.095 * plan.summary.equity_usd
        assert "shrunk" not in btc.reason
        store = Store(tmp_path / "u.sqlite")
        report = Executor(adapter, store, mode="live").execute(plan)
        store.close()
        assert report.status == "ok", report.errors
        after = adapter.account_state()
        assert after.positions["BTC"].size == pytest.approx(btc.size)
        assert after.positions["BTC"].size * adapter.market().mid("BTC") / after.equity(adapter.market()) > 0.095

    with serving("disabled") as srv:
        adapter = connect(srv)
        plan = plan_for(adapter, rotate_into_perp(adapter))
        btc = next((a for a in plan.actions if a.coin == "BTC"), None)
        wanted = 0.10 * plan.summary.equity_usd
        assert btc is None or btc.notional_usd < 0.5 * wanted
        why = btc.reason if btc else " ".join(s.reason for s in plan.skipped if s.coin == "BTC")
        assert "perp margin (standard account: spot USDC does not fund perps)" in why


def test_paper_mode_keeps_the_unified_pool():
    with serving("unifiedAccount") as srv:
        adapter = connect(srv)
        paper = PaperExchange(adapter)
        state = paper.account_state()
        assert state.abstraction == "unifiedAccount"
        real = adapter.account_state().equity(adapter.market())
        assert state.equity(adapter.market()) == pytest.approx(real, abs=0.5)
        plan = plan_for(paper, rotate_into_perp(paper))
        btc = next(a for a in plan.actions if a.coin == "BTC")
        assert "shrunk" not in btc.reason


def test_an_unknown_mode_is_refused_with_its_name():
    snap = load_demo_snapshot()
    snap["userAbstraction"] = "superMargin"
    from agent.adapters.hyperliquid.parsing import load_snapshot

    with pytest.raises(SnapshotError, match="unknown account mode 'superMargin'"):
        load_snapshot(snap)


def test_no_plan_ever_holds_a_usd_class_transfer():
    with serving("disabled") as srv:
        plan = plan_for(connect(srv), rotate_into_perp(connect(srv)))
    assert all(a.market in ("spot", "perp") for a in plan.actions)
    assert "usdClassTransfer" not in plan.model_dump_json()

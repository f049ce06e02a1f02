"""One contract, both venues: the Hyperliquid stand-in through the SDK and the local Binance through ccxt honour
the read and trade ports the same way (the executor relies on each of these)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from agent.core.orders import OrderIntent, make_cloid
from agent.services.ports import ReadPort, TradePort


@dataclass
class Venue:
    name: str
    exchange: Any
    coin: str  # a spot pair the demo account holds


@pytest.fixture(params=["hyperliquid", "binance"])
def venue(request) -> Iterator[Venue]:
    if request.param == "hyperliquid":
        from agent.adapters.hyperliquid.client import HyperliquidExchange
        from agent.standin import DEMO_ACCOUNT_ADDRESS, DEMO_SECRET_KEY, load_demo_snapshot, serve

        with serve(load_demo_snapshot()) as server:
            yield Venue(
                "hyperliquid",
                HyperliquidExchange(server.url, account_address=DEMO_ACCOUNT_ADDRESS, secret_key=DEMO_SECRET_KEY),
                "USOL/USDC",
            )
    else:
        from agent.adapters.binance.client import BinanceExchange
        from agent.standin.binance.seed import DEMO_KEY, DEMO_SECRET, demo_snapshot, from_snapshot
        from agent.standin.binance.server import BinanceServer

        with BinanceServer(from_snapshot(demo_snapshot())) as server:
            ex = BinanceExchange(server.url, api_key=DEMO_KEY, secret=DEMO_SECRET, paced=False)
            yield Venue("binance", ex, "SOL/USD")


def intent(ex: Any, coin: str, *, is_buy: bool, usd: float, tag: str, slip: float = 0.01) -> OrderIntent:
    info = ex.market(books=[coin]).assets[coin]
    size = round(usd / info.mid, info.sz_decimals)
    px = float(f"{info.mid * (1 + slip if is_buy else 1 - slip):.5g}")
    return OrderIntent(
        cloid=make_cloid(tag, 0, 1),
        asset=info.asset,
        wire_name=info.wire_name,
        coin=coin,
        is_buy=is_buy,
        size=size,
        limit_px=px,
        sz_decimals=info.sz_decimals,
        expires_after_ms=ex.server_time_ms(fresh=True) + 5000,
    )


def test_it_is_a_trade_port(venue):
    assert isinstance(venue.exchange, ReadPort) and isinstance(venue.exchange, TradePort)


def test_the_clock_is_the_exchanges(venue):
    assert abs(venue.exchange.server_time_ms(fresh=True) / 1000 - time.time()) < 5
    assert venue.exchange.clock_offset_s is not None


def test_state_and_market_name_the_same_assets(venue):
    state = venue.exchange.account_state()
    market = venue.exchange.market(books=[venue.coin])
    assert venue.coin in state.positions and venue.coin in market.assets
    info = market.assets[venue.coin]
    assert info.market == "spot" and info.mid > 0 and info.book is not None and info.book.bids and info.book.asks
    assert state.equity(market) > 5_000  # seed 002: about $8,800 on Hyperliquid (its prices), $12,700 on Binance.US


def test_an_ioc_sell_fills_and_is_found_by_its_cloid(venue):
    ex = venue.exchange
    before = ex.account_state().positions[venue.coin].size
    order = intent(ex, venue.coin, is_buy=False, usd=150, tag=f"contract-{venue.name}")
    [r] = ex.place_orders([order])
    assert (r.cloid, r.status) == (order.cloid, "filled") and r.filled_sz == pytest.approx(order.size)
    found = ex.order_status(order.cloid)
    assert found is not None and found.status == "filled" and found.filled_sz == pytest.approx(order.size)
    assert ex.account_state().positions[venue.coin].size == pytest.approx(before - order.size, abs=1e-9)
    assert any(f.sz == pytest.approx(order.size) for f in ex.fills_since(int(time.time() * 1000) - 60_000))


def test_an_unknown_cloid_is_none(venue):
    assert venue.exchange.order_status(make_cloid("never", 0, 1)) is None


def test_a_refused_order_is_rejected_not_raised(venue):
    ex = venue.exchange
    order = intent(ex, venue.coin, is_buy=True, usd=5_000_000, tag=f"too-big-{venue.name}")
    [r] = ex.place_orders([order])
    assert r.status == "rejected" and r.error


def test_the_users_open_orders_are_listed(venue):
    orders = venue.exchange.open_orders()
    assert orders and all(o.sz > 0 and o.limit_px > 0 for o in orders)

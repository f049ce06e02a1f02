"""A third-party client against the stand-in: ccxt's Hyperliquid class (its own signing and parsing, not the
official SDK) loads the markets, reads the balance, a ticker and an order book, and places a spot and a
perp order, all over loopback."""

from __future__ import annotations

from collections.abc import Iterator

import ccxt
import pytest

from agent.standin import DEMO_ACCOUNT_ADDRESS, DEMO_SECRET_KEY, StandInServer, load_demo_snapshot, serve


@pytest.fixture
def server() -> Iterator[StandInServer]:
    with serve(load_demo_snapshot()) as srv:
        yield srv


@pytest.fixture
def client(server: StandInServer):
    # no client-side pacing: ccxt's own courtesy to the real exchange, only waiting against a loopback stand-in
    ex = ccxt.hyperliquid(
        {"walletAddress": DEMO_ACCOUNT_ADDRESS, "privateKey": DEMO_SECRET_KEY, "enableRateLimit": False}
    )
    ex.urls["test"] = {"public": server.url, "private": server.url}
    ex.set_sandbox_mode(True)  # ccxt signs as testnet in sandbox mode, the stand-in's chain
    ex.options["fetchMarkets"]["types"] = ["spot", "swap"]
    return ex


def test_ccxt_reads_markets_balance_ticker_and_book(client):
    markets = client.load_markets()
    spot = sorted(s for s, m in markets.items() if m["spot"])
    assert spot == ["BTC/USDC", "ETH/USDC", "SOL/USDC"]  # UBTC/UETH/USOL, under ccxt's names
    assert markets["BTC/USDC"]["id"] == "@142"
    assert "BTC/USDC:USDC" in markets and markets["BTC/USDC:USDC"]["swap"]
    balance = client.fetch_balance()
    assert balance["total"]["USDC"] == pytest.approx(677.0)
    assert client.fetch_ticker("BTC/USDC:USDC")["close"] == pytest.approx(77_558.5)
    assert client.fetch_ticker("ETH/USDC")["close"] == pytest.approx(2_123.95)
    book = client.fetch_order_book("BTC/USDC:USDC")
    assert book["bids"][0][0] < book["asks"][0][0]


def test_ccxt_places_a_spot_and_a_perp_order(client, server):
    client.load_markets()
    ubtc_before = server.exchange.account.balances[197].total
    spot = client.create_order("BTC/USDC", "limit", "buy", 0.0002, 78_000, {"timeInForce": "Ioc"})
    assert spot["filled"] == pytest.approx(0.0002) and spot["id"]
    assert server.exchange.account.balances[197].total > ubtc_before
    perp = client.create_order("BTC/USDC:USDC", "limit", "buy", 0.001, 78_000, {"timeInForce": "Ioc"})
    assert perp["filled"] == pytest.approx(0.001)
    assert float(server.exchange.account.positions["BTC"].szi) == pytest.approx(0.001)
    fills = server.exchange.account.fills[-2:]
    assert [f["coin"] for f in fills] == ["@142", "BTC"]

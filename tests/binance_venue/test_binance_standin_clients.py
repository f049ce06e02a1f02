"""Clients nobody here wrote talk to the local Binance: python-binance and ccxt (account, exchange info, an order
that fills, a filter failure with Binance's code, lookups by client order id, signatures, the clock, limits)."""

from __future__ import annotations

from decimal import Decimal

import ccxt
import pytest
import requests
from binance.client import Client
from binance.exceptions import BinanceAPIException

from agent.standin.binance.seed import DEMO_KEY, DEMO_SECRET


def python_binance(url: str, key: str = DEMO_KEY, secret: str = DEMO_SECRET) -> Client:
    c = Client(key, secret, ping=False)
    c.API_URL = f"{url}/api"
    c.MARGIN_API_URL = f"{url}/sapi"
    return c


def ccxt_binanceus(url: str) -> ccxt.binanceus:
    ex = ccxt.binanceus(
        {"apiKey": DEMO_KEY, "secret": DEMO_SECRET, "options": {"fetchMarkets": ["spot"], "fetchCurrencies": False}}
    )

    def point(v):
        if isinstance(v, dict):
            return {k: point(x) for k, x in v.items()}
        if isinstance(v, str) and v.startswith("https://"):
            return url + "/" + v.split("/", 3)[3] if v.count("/") >= 3 else url
        return v

    ex.urls["api"] = point(ex.urls["api"])
    return ex


def balances(account):
    return {b["asset"]: (Decimal(b["free"]), Decimal(b["locked"])) for b in account["balances"]}


def test_python_binance_reads_the_account_and_the_filters(binance):
    c = python_binance(binance.url)
    assert c.ping() == {}
    b = balances(c.get_account())
    assert b["ETH"] == (Decimal("1.39858"), Decimal("0.143"))
    assert b["USD"] == (Decimal("28.21"), Decimal("599.29"))
    assert b["BTC"][0] == Decimal("0.03482")
    info = c.get_symbol_info("BTCUSD")
    filters = {f["filterType"]: f for f in info["filters"]}
    assert filters["LOT_SIZE"]["stepSize"] == "0.00001000"
    assert filters["NOTIONAL"]["minNotional"] == "10.00000000"
    assert {o["clientOrderId"] for o in c.get_open_orders()} == {"user-eth-sell", "user-btc-bid"}


def test_python_binance_order_that_fills_and_its_fee(binance):
    c = python_binance(binance.url)
    ask = Decimal(c.get_order_book(symbol="SOLUSDT", limit=5)["asks"][0][0])
    r = c.create_order(
        symbol="SOLUSDT",
        side="BUY",
        type="LIMIT",
        timeInForce="IOC",
        quantity="0.300",
        price=str(ask),
        newClientOrderId="rb-test-1",
    )
    assert (r["status"], r["executedQty"], r["clientOrderId"]) == ("FILLED", "0.30000000", "rb-test-1")
    fee = sum(Decimal(f["commission"]) for f in r["fills"])
    assert fee == Decimal("0.0003")  # 0.1 % taker, in the base asset on a buy
    b = balances(c.get_account())
    assert b["SOL"][0] == Decimal("25.111") + Decimal("0.3") - fee
    assert b["USDT"][0] == Decimal("49.5") - Decimal("0.3") * ask
    found = c.get_order(symbol="SOLUSDT", origClientOrderId="rb-test-1")
    assert found["status"] == "FILLED"
    assert [t["qty"] for t in c.get_my_trades(symbol="SOLUSDT")] == ["0.30000000"]


@pytest.mark.parametrize(
    ("params", "code", "msg"),
    [
        ({"quantity": "0.300001", "price": "137.00"}, -1013, "Filter failure: LOT_SIZE"),
        ({"quantity": "0.030", "price": "137.00"}, -1013, "Filter failure: NOTIONAL"),
        ({"quantity": "0.300", "price": "137.005"}, -1013, "Filter failure: PRICE_FILTER"),
        ({"quantity": "900", "price": "137.00"}, -2010, "Account has insufficient balance for requested action."),
    ],
    ids=["lot-size", "notional", "price-filter", "balance"],
)
def test_python_binance_sees_binances_error_codes(binance, params, code, msg):
    c = python_binance(binance.url)
    with pytest.raises(BinanceAPIException) as e:
        c.create_order(symbol="SOLUSDT", side="BUY", type="LIMIT", timeInForce="GTC", **params)
    assert (e.value.code, e.value.message) == (code, msg)
    assert balances(c.get_account())["USDT"] == (Decimal("49.5"), Decimal(0))  # nothing changed


def test_unknown_order_and_cancel_answer_2013_and_2011(binance):
    c = python_binance(binance.url)
    with pytest.raises(BinanceAPIException) as e:
        c.get_order(symbol="BTCUSD", origClientOrderId="never-sent")
    assert e.value.code == -2013
    with pytest.raises(BinanceAPIException) as e:
        c.cancel_order(symbol="BTCUSD", origClientOrderId="never-sent")
    assert e.value.code == -2011


def test_signature_key_and_clock_are_checked(binance):
    bad = python_binance(binance.url, secret="wrong")
    with pytest.raises(BinanceAPIException) as e:
        bad.get_account()
    assert e.value.code == -1022
    unknown = python_binance(binance.url, key="nobody")
    with pytest.raises(BinanceAPIException) as e:
        unknown.get_account()
    assert e.value.code == -2015
    binance.clock_offset_ms = 120_000  # the server's clock runs 2 min ahead of ours (past any recvWindow)
    with pytest.raises(BinanceAPIException) as e:
        python_binance(binance.url).get_account()
    assert (e.value.code, e.value.message) == (-1021, "Timestamp for this request is outside of the recvWindow.")


def test_weight_is_counted_then_429_then_418(binance):
    r = requests.get(f"{binance.url}/api/v3/exchangeInfo", timeout=5)
    assert r.headers["X-MBX-USED-WEIGHT-1M"] == "20"
    binance._server.weight_limit = 45
    assert requests.get(f"{binance.url}/api/v3/exchangeInfo", timeout=5).status_code == 200
    limited = requests.get(f"{binance.url}/api/v3/exchangeInfo", timeout=5)
    assert (limited.status_code, limited.json()["code"]) == (429, -1003)
    banned = requests.get(f"{binance.url}/api/v3/exchangeInfo", timeout=5)
    assert banned.status_code == 418


def test_a_lost_answer_is_found_by_client_order_id(binance):
    c = python_binance(binance.url)
    binance.faults.lose_response_next = 1
    with pytest.raises(requests.exceptions.ConnectionError):
        c.create_order(
            symbol="BTCUSDT",
            side="SELL",
            type="LIMIT",
            timeInForce="IOC",
            quantity="0.001",
            price="90000.00",
            newClientOrderId="rb-lost-1",
        )
    found = c.get_order(symbol="BTCUSDT", origClientOrderId="rb-lost-1")
    assert (found["status"], found["executedQty"]) == ("FILLED", "0.00100000")


def test_ccxt_binanceus_loads_markets_balances_and_trades(binance):
    ex = ccxt_binanceus(binance.url)
    markets = ex.load_markets()
    btc = markets["BTC/USD"]
    assert (btc["precision"]["amount"], btc["limits"]["cost"]["min"]) == (1e-05, 10.0)
    bal = ex.fetch_balance()
    assert bal["ETH"]["used"] == pytest.approx(0.143)
    assert bal["USD"]["free"] == pytest.approx(28.21)
    book = ex.fetch_order_book("ETH/USD", 5)
    assert book["bids"][0][0] < book["asks"][0][0]
    order = ex.create_order(
        "ETH/USDT",
        "limit",
        "sell",
        0.01,
        book["bids"][0][0] * 0.99,
        {"timeInForce": "IOC", "newClientOrderId": "rb-ccxt-1"},
    )
    assert order["status"] == "closed" and order["filled"] == pytest.approx(0.01)
    again = ex.fetch_order(None, "ETH/USDT", {"origClientOrderId": "rb-ccxt-1"})
    assert again["clientOrderId"] == "rb-ccxt-1" and again["filled"] == pytest.approx(0.01)
    with pytest.raises(ccxt.ExchangeError, match="-1013"):
        ex.create_order("ETH/USDT", "limit", "sell", 0.001, 3000, {"timeInForce": "GTC"})
    with pytest.raises(ccxt.OrderNotFound):
        ex.fetch_order(None, "ETH/USDT", {"origClientOrderId": "never-sent"})
    assert {o["clientOrderId"] for o in ex.fetch_open_orders("ETH/USD")} == {"user-eth-sell"}

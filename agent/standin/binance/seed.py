"""Seeding the local Binance: from a Binance snapshot, and the demo account.

A **Binance snapshot** is one JSON object of Binance's own answers, keyed by endpoint:
``{"venue": "binance" | "binanceus", "exchangeInfo": <GET /api/v3/exchangeInfo>, "account": <GET
/api/v3/account>, "depth": {"BTCUSD": <GET /api/v3/depth>, …}, "openOrders": <GET /api/v3/openOrders>}``.
Balances locked by the listed open orders are those orders' (they rest on the stand-in as the user's own).

The demo (:func:`demo_snapshot`) is the demo account on Binance.US (its source: agent/data/README.md), at the
source's own prices (BTC $91,182, ETH $2,988.50, SOL $137.87, AVAX $13.654: its values divided by its
quantities): BTC 0.03482, ETH 1.54158 of which 0.143 is locked in a resting sell, SOL 25.111, AVAX 55.662, USD
$28.21 free and $599.29 locked in a resting BTC buy, USDT $49.50. The filters follow the shape of Binance's for
these symbols (tick, step, minimum notional); the books are synthetic (20 levels a side, 1 bp apart, about
$5,000 each), labelled so.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from decimal import ROUND_DOWN, Decimal
from typing import Any

from agent.standin.binance.exchange import BinanceStandIn
from agent.standin.binance.records import Balance, Key, Order, Symbol, fmt

DEMO_KEY = "standin-demo-api-key"
DEMO_SECRET = "standin-demo-secret"  # noqa: S105 - the local stand-in's own demo credential, not a secret
#: a key that may withdraw (the doctor refuses it for autonomy "auto")
WITHDRAW_KEY = "standin-withdraw-api-key"
WITHDRAW_SECRET = "standin-withdraw-secret"  # noqa: S105 - as above

#: the demo account's prices (value / quantity) and the step and tick of each base
PRICES = {"BTC": Decimal("91182"), "ETH": Decimal("2988.5"), "SOL": Decimal("137.87"), "AVAX": Decimal("13.654")}
STEPS = {"BTC": ("0.00001", "0.01"), "ETH": ("0.0001", "0.01"), "SOL": ("0.001", "0.01"), "AVAX": ("0.01", "0.001")}


def _book(mid: Decimal, step: Decimal, tick: Decimal) -> dict[str, list[list[str]]]:
    bids, asks = [], []
    for i in range(20):
        off = mid * Decimal("0.0001") * (Decimal(i) + Decimal("0.5"))
        qty = (Decimal(5000) / mid).quantize(step, rounding=ROUND_DOWN)
        bids.append([fmt((mid - off).quantize(tick, rounding=ROUND_DOWN)), fmt(qty)])
        asks.append([fmt((mid + off).quantize(tick, rounding=ROUND_DOWN) + tick), fmt(qty)])
    return {"lastUpdateId": 1, "bids": bids, "asks": asks}  # type: ignore[dict-item]


def demo_snapshot(venue: str = "binanceus") -> dict[str, Any]:
    """The demo account as a Binance snapshot (USD pairs on Binance.US, and USDT pairs beside them)."""
    symbols: list[Symbol] = []
    depth: dict[str, Any] = {}
    for base, px in PRICES.items():
        step, tick = (Decimal(x) for x in STEPS[base])
        for quote, min_notional in (("USD", Decimal(10)), ("USDT", Decimal(5))):
            s = Symbol(f"{base}{quote}", base, quote, tick=tick, step=step, min_qty=step, min_notional=min_notional)
            symbols.append(s)
            depth[s.name] = _book(px, step, tick)
    info = {
        "timezone": "UTC",
        "serverTime": 0,
        "rateLimits": [],
        "exchangeFilters": [],
        "symbols": [s.info() for s in symbols],
    }
    balances = {
        "BTC": ("0.03482", "0"),
        "ETH": ("1.39858", "0.143"),
        "SOL": ("25.111", "0"),
        "AVAX": ("55.662", "0"),
        "USD": ("28.21", "599.29"),
        "USDT": ("49.5", "0"),
    }
    account = {
        "accountType": "SPOT",
        "canTrade": True,
        "canWithdraw": False,
        "canDeposit": True,
        "balances": [{"asset": a, "free": f, "locked": lk} for a, (f, lk) in balances.items()],
    }
    open_orders = [
        _resting("ETHUSD", 9001, "user-eth-sell", "SELL", "3500.00", "0.143"),
        _resting("BTCUSD", 9002, "user-btc-bid", "BUY", "59929.00", "0.01"),
    ]
    return {
        "venue": venue,
        "exchangeInfo": info,
        "account": account,
        "depth": depth,
        "openOrders": open_orders,
        "note": "seed 002's holdings at the seed's prices; synthetic books (20 levels, 1 bp apart)",
    }


def _resting(symbol: str, oid: int, client: str, side: str, price: str, qty: str) -> dict[str, Any]:
    return {
        "symbol": symbol,
        "orderId": oid,
        "orderListId": -1,
        "clientOrderId": client,
        "price": price,
        "origQty": qty,
        "executedQty": "0",
        "cummulativeQuoteQty": "0",
        "status": "NEW",
        "timeInForce": "GTC",
        "type": "LIMIT",
        "side": side,
        "time": 0,
        "updateTime": 0,
        "isWorking": True,
    }


def _filters(info: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["filterType"]: f for f in info.get("filters", [])}


def from_snapshot(
    snapshot: Mapping[str, Any], *, clock: Callable[[], int] | None = None, keys: dict[str, Key] | None = None
) -> BinanceStandIn:
    """The stand-in's state from a Binance snapshot (answers as Binance gives them)."""
    symbols = {}
    for s in snapshot["exchangeInfo"]["symbols"]:
        f = _filters(s)
        pf, lot = f.get("PRICE_FILTER", {}), f.get("LOT_SIZE", {})
        notional = f.get("NOTIONAL") or f.get("MIN_NOTIONAL") or {}
        symbols[s["symbol"]] = Symbol(
            s["symbol"],
            s["baseAsset"],
            s["quoteAsset"],
            tick=Decimal(pf.get("tickSize", "0.01")),
            step=Decimal(lot.get("stepSize", "0.00001")),
            min_qty=Decimal(lot.get("minQty", "0.00001")),
            max_qty=Decimal(lot.get("maxQty", "9000")),
            min_price=Decimal(pf.get("minPrice", "0.01")),
            max_price=Decimal(pf.get("maxPrice", "1000000")),
            min_notional=Decimal(notional.get("minNotional", "10")),
            base_precision=int(s.get("baseAssetPrecision", 8)),
            quote_precision=int(s.get("quoteAssetPrecision", 8)),
        )
    balances = {b["asset"]: Balance(Decimal(b["free"]), Decimal(b["locked"])) for b in snapshot["account"]["balances"]}
    books = {
        name: {side: [[Decimal(p), Decimal(q)] for p, q in d.get(side, [])] for side in ("bids", "asks")}
        for name, d in snapshot.get("depth", {}).items()
    }
    for name in symbols:
        books.setdefault(name, {"bids": [], "asks": []})
    now = int(time.time() * 1000)
    ex = BinanceStandIn(
        symbols=symbols,
        balances=balances,
        books=books,
        keys=keys
        or {
            DEMO_KEY: Key(DEMO_SECRET, ip_restrict=True, created_ms=now),
            WITHDRAW_KEY: Key(WITHDRAW_SECRET, can_withdraw=True, created_ms=now),
        },
    )
    if clock is not None:
        ex.clock = clock
    for o in snapshot.get("openOrders") or []:
        s = symbols[o["symbol"]]
        px, left = Decimal(o["price"]), Decimal(o["origQty"]) - Decimal(o.get("executedQty") or 0)
        order = Order(
            s.name,
            int(o["orderId"]),
            o["clientOrderId"],
            o["side"],
            o["type"],
            o["timeInForce"],
            px,
            Decimal(o["origQty"]),
            int(o.get("time") or now),
            executed=Decimal(o.get("executedQty") or 0),
        )
        order.locked = left * px if o["side"] == "BUY" else left
        ex.orders[order.order_id] = order
        ex.next_order_id = max(ex.next_order_id, order.order_id + 1)
    return ex

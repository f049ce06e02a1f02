"""The local Binance spot exchange: symbols with their filters, balances free and locked, books, orders and
trades. An independent implementation of the behaviour Binance's spot API documents; the HTTP surface is
:mod:`.server`.

Modelled (sources: Binance spot API docs, "Filters", "Error codes", "Endpoint security type", "Trading
endpoints"; ccxt's and python-binance's request shapes):

- filters per symbol: ``PRICE_FILTER`` (tickSize, min/max price), ``LOT_SIZE`` (stepSize, minQty, maxQty),
  ``NOTIONAL`` (minNotional, applied to market orders at the average price); a failing order answers
  ``-1013 Filter failure: <FILTER>``; more decimals than the asset's precision ``-1111``;
- orders ``LIMIT`` (``GTC``, ``IOC``, ``FOK``) and ``MARKET`` (``quantity`` or ``quoteOrderQty``), with
  ``newClientOrderId`` unique among open orders (``-2010 Duplicate order sent.``); IOC and market orders match
  against the book and expire the rest; a GTC order rests and locks its balance; insufficient balance
  ``-2010 Account has insufficient balance for requested action.``; lookups by ``orderId`` or
  ``origClientOrderId`` (``-2013 Order does not exist.``), cancels (``-2011 Unknown order sent.``);
- commission: the taker rate on the asset received (base on a buy, quote on a sell), as Binance charges when
  BNB is not used;
- ``/api/v3/account`` balances ``free``/``locked``; ``apiRestrictions`` per key.

Simplified: the book is the seeded liquidity, consumed by fills and not replenished (a ``refill`` call
restores it); resting orders never match later orders (no self-trade); no BNB fee discount, no STP modes,
no OCO/OTO lists.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal, InvalidOperation
from typing import Any

from agent.standin.binance.records import ZERO, Balance, BinanceError, Key, Order, Symbol, fmt


@dataclass
class BinanceStandIn:
    """One account on a local Binance. ``clock`` gives the server time in ms (tests move it)."""

    symbols: dict[str, Symbol]
    balances: dict[str, Balance]
    books: dict[str, dict[str, list[list[Decimal]]]]  # symbol → {"bids": [[px, qty]…], "asks": …}
    keys: dict[str, Key]
    taker: Decimal = Decimal("0.001")
    maker: Decimal = Decimal("0.001")
    clock: Callable[[], int] = field(default=lambda: int(time.time() * 1000))
    orders: dict[int, Order] = field(default_factory=dict)
    trades: list[dict[str, Any]] = field(default_factory=list)
    next_order_id: int = 1000
    next_trade_id: int = 5000
    book_seed: dict[str, dict[str, list[list[Decimal]]]] = field(default_factory=dict)
    lock: threading.RLock = field(default_factory=threading.RLock)

    def __post_init__(self) -> None:
        self.book_seed = {
            s: {side: [list(lv) for lv in lvls] for side, lvls in b.items()} for s, b in self.books.items()
        }

    # -- reads -------------------------------------------------------------------------------------

    def symbol(self, name: str | None) -> Symbol:
        if not name:
            raise BinanceError(-1102, "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed.")
        s = self.symbols.get(name.upper())
        if s is None:
            raise BinanceError(-1121, "Invalid symbol.")
        return s

    def mid(self, symbol: str) -> Decimal:
        b = self.books[symbol]
        bid = b["bids"][0][0] if b["bids"] else None
        ask = b["asks"][0][0] if b["asks"] else None
        if bid is not None and ask is not None:
            return (bid + ask) / 2
        return bid or ask or ZERO

    def depth(self, symbol: str, limit: int) -> dict[str, Any]:
        s = self.symbol(symbol)
        b = self.books[s.name]
        return {
            "lastUpdateId": self.next_trade_id,
            "bids": [[fmt(p), fmt(q)] for p, q in b["bids"][:limit]],
            "asks": [[fmt(p), fmt(q)] for p, q in b["asks"][:limit]],
        }

    def account(self, key: Key) -> dict[str, Any]:
        rate = fmt(self.taker)
        return {
            "makerCommission": int(self.maker * 10000),
            "takerCommission": int(self.taker * 10000),
            "buyerCommission": 0,
            "sellerCommission": 0,
            "commissionRates": {"maker": fmt(self.maker), "taker": rate, "buyer": "0.00000000", "seller": "0.00000000"},
            "canTrade": key.can_trade,
            "canWithdraw": key.can_withdraw,
            "canDeposit": True,
            "brokered": False,
            "requireSelfTradePrevention": False,
            "preventSor": False,
            "updateTime": self.clock(),
            "accountType": "SPOT",
            "balances": [
                {"asset": a, "free": fmt(b.free), "locked": fmt(b.locked)} for a, b in sorted(self.balances.items())
            ],
            "permissions": ["SPOT"],
            "uid": 354937868,
        }

    def find(self, symbol: str, order_id: Any, client_id: Any) -> Order:
        s = self.symbol(symbol)
        if order_id is None and not client_id:
            raise BinanceError(-1102, "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!")
        for o in self.orders.values():
            if o.symbol != s.name:
                continue
            if order_id is not None and str(o.order_id) == str(order_id):
                return o
            if order_id is None and o.client_id == client_id:
                return o
        raise BinanceError(-2013, "Order does not exist.")

    def open_orders(self, symbol: str | None) -> list[dict[str, Any]]:
        s = self.symbol(symbol).name if symbol else None
        return [
            o.view()
            for o in self.orders.values()
            if o.status in ("NEW", "PARTIALLY_FILLED") and (s is None or o.symbol == s)
        ]

    def my_trades(self, symbol: str, start: int | None, order_id: Any, limit: int) -> list[dict[str, Any]]:
        s = self.symbol(symbol)
        out = [
            t
            for t in self.trades
            if t["symbol"] == s.name
            and (start is None or t["time"] >= start)
            and (order_id is None or str(t["orderId"]) == str(order_id))
        ]
        return out[:limit]

    # -- orders ------------------------------------------------------------------------------------

    def _dec(self, params: Mapping[str, str], name: str, required: bool = True) -> Decimal | None:
        raw = params.get(name)
        if raw is None or raw == "":
            if required:
                raise BinanceError(-1102, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed.")
            return None
        try:
            d = Decimal(raw)
        except InvalidOperation:
            raise BinanceError(
                -1100,
                f"Illegal characters found in parameter '{name}'; legal range is "
                "'^([0-9]{1,20})(\\.[0-9]{1,20})?$'.",
            ) from None
        if not d.is_finite() or d < 0:
            raise BinanceError(-1100, f"Illegal characters found in parameter '{name}'.")
        return d

    def place(self, params: Mapping[str, str]) -> dict[str, Any]:
        with self.lock:
            return self._place(params)

    def _place(self, params: Mapping[str, str]) -> dict[str, Any]:
        s = self.symbol(params.get("symbol"))
        side = (params.get("side") or "").upper()
        if side not in ("BUY", "SELL"):
            raise BinanceError(-1102, "Mandatory parameter 'side' was not sent, was empty/null, or malformed.")
        typ = (params.get("type") or "").upper()
        if typ not in ("LIMIT", "MARKET"):
            raise BinanceError(-1116, "Invalid orderType.")
        client = params.get("newClientOrderId") or f"standin{self.next_order_id}"
        if len(client) > 36:
            raise BinanceError(-1100, "Illegal characters found in parameter 'newClientOrderId'.")
        if any(o.client_id == client and o.status in ("NEW", "PARTIALLY_FILLED") for o in self.orders.values()):
            raise BinanceError(-2010, "Duplicate order sent.")
        book = self.books[s.name]
        if typ == "LIMIT":
            tif = (params.get("timeInForce") or "").upper()
            if tif not in ("GTC", "IOC", "FOK"):
                raise BinanceError(
                    -1102, "Mandatory parameter 'timeInForce' was not sent, was empty/null, or malformed."
                )
            price = self._dec(params, "price")
            qty = self._dec(params, "quantity")
            assert price is not None and qty is not None
            self._check_price(s, price)
            self._check_lot(s, qty)
            if price * qty < s.min_notional:
                raise BinanceError(-1013, "Filter failure: NOTIONAL")
        else:
            tif, price = "GTC", ZERO
            qty = self._dec(params, "quantity", required=False)
            quote = self._dec(params, "quoteOrderQty", required=False)
            if qty is None and quote is None:
                raise BinanceError(-1102, "Param 'quantity' or 'quoteOrderQty' must be sent, but both were empty/null!")
            if qty is None:
                assert quote is not None
                ref = self.mid(s.name)
                qty = (quote / ref).quantize(s.step, rounding=ROUND_DOWN) if ref > 0 else ZERO
            self._check_lot(s, qty)
            if self.mid(s.name) * qty < s.min_notional:
                raise BinanceError(-1013, "Filter failure: NOTIONAL")
        # balance: a buy needs quote at its limit (market: at the walk of the book), a sell needs base
        levels = book["asks"] if side == "BUY" else book["bids"]
        if side == "BUY":
            need = qty * price if typ == "LIMIT" else self._walk_cost(levels, qty)
            have = self.balances.get(s.quote, Balance()).free
        else:
            need = qty
            have = self.balances.get(s.base, Balance()).free
        if need > have:
            raise BinanceError(-2010, "Account has insufficient balance for requested action.")
        now = self.clock()
        order = Order(s.name, self.next_order_id, client, side, typ, tif, price, qty, now, update_ms=now)
        self.next_order_id += 1
        if tif == "FOK" and self._fillable(levels, qty, price, side) < qty:
            order.status = "EXPIRED"
            self.orders[order.order_id] = order
            return self._answer(order, [], params)
        fills = self._match(s, order, levels)
        if order.executed >= qty:
            order.status = "FILLED"
        elif typ == "MARKET" or tif in ("IOC", "FOK"):
            order.status = "EXPIRED"  # what did not fill at once expires (Binance: EXPIRED, with executedQty)
        else:
            order.status = "PARTIALLY_FILLED" if order.executed > 0 else "NEW"
            rest = qty - order.executed
            lock_asset, amount = (s.quote, rest * price) if side == "BUY" else (s.base, rest)
            bal = self.balances.setdefault(lock_asset, Balance())
            bal.free -= amount
            bal.locked += amount
            order.locked = amount
        self.orders[order.order_id] = order
        return self._answer(order, fills, params)

    def _check_price(self, s: Symbol, price: Decimal) -> None:
        if price < s.min_price or price > s.max_price or (price - s.min_price) % s.tick != 0:
            raise BinanceError(-1013, "Filter failure: PRICE_FILTER")

    def _check_lot(self, s: Symbol, qty: Decimal) -> None:
        if qty.as_tuple().exponent < -s.base_precision:  # type: ignore[operator]
            raise BinanceError(-1111, "Parameter 'quantity' has too much precision.")
        if qty < s.min_qty or qty > s.max_qty or (qty - s.min_qty) % s.step != 0:
            raise BinanceError(-1013, "Filter failure: LOT_SIZE")

    @staticmethod
    def _walk_cost(levels: list[list[Decimal]], qty: Decimal) -> Decimal:
        cost, left = ZERO, qty
        for px, sz in levels:
            take = min(sz, left)
            cost += take * px
            left -= take
            if left <= 0:
                break
        return cost

    @staticmethod
    def _fillable(levels: list[list[Decimal]], qty: Decimal, limit: Decimal, side: str) -> Decimal:
        got = ZERO
        for px, sz in levels:
            if limit and ((side == "BUY" and px > limit) or (side == "SELL" and px < limit)):
                break
            got += sz
        return got

    def _match(self, s: Symbol, order: Order, levels: list[list[Decimal]]) -> list[dict[str, Any]]:
        fills = []
        base, quote = self.balances.setdefault(s.base, Balance()), self.balances.setdefault(s.quote, Balance())
        while levels and order.executed < order.orig_qty:
            px, sz = levels[0]
            if order.type == "LIMIT" and (
                (order.side == "BUY" and px > order.price) or (order.side == "SELL" and px < order.price)
            ):
                break
            take = min(sz, order.orig_qty - order.executed)
            value = take * px
            if order.side == "BUY":
                fee = (take * self.taker).quantize(Decimal("1e-8"), rounding=ROUND_DOWN)
                quote.free -= value
                base.free += take - fee
                fee_asset = s.base
            else:
                fee = (value * self.taker).quantize(Decimal("1e-8"), rounding=ROUND_DOWN)
                base.free -= take
                quote.free += value - fee
                fee_asset = s.quote
            order.executed += take
            order.quote_done += value
            levels[0][1] -= take
            if levels[0][1] <= 0:
                levels.pop(0)
            trade_id = self.next_trade_id
            self.next_trade_id += 1
            fills.append(
                {
                    "price": fmt(px),
                    "qty": fmt(take),
                    "commission": fmt(fee),
                    "commissionAsset": fee_asset,
                    "tradeId": trade_id,
                }
            )
            self.trades.append(
                {
                    "symbol": s.name,
                    "id": trade_id,
                    "orderId": order.order_id,
                    "orderListId": -1,
                    "price": fmt(px),
                    "qty": fmt(take),
                    "quoteQty": fmt(value),
                    "commission": fmt(fee),
                    "commissionAsset": fee_asset,
                    "time": order.time_ms,
                    "isBuyer": order.side == "BUY",
                    "isMaker": False,
                    "isBestMatch": True,
                }
            )
        return fills

    def _answer(self, order: Order, fills: list[dict[str, Any]], params: Mapping[str, str]) -> dict[str, Any]:
        kind = (params.get("newOrderRespType") or ("FULL" if order.type in ("MARKET", "LIMIT") else "ACK")).upper()
        ack = {
            "symbol": order.symbol,
            "orderId": order.order_id,
            "orderListId": -1,
            "clientOrderId": order.client_id,
            "transactTime": order.time_ms,
        }
        if kind == "ACK":
            return ack
        result = {
            **ack,
            **{
                k: v
                for k, v in order.view().items()
                if k
                in (
                    "price",
                    "origQty",
                    "executedQty",
                    "cummulativeQuoteQty",
                    "status",
                    "timeInForce",
                    "type",
                    "side",
                    "workingTime",
                    "origQuoteOrderQty",
                    "selfTradePreventionMode",
                )
            },
        }
        return result if kind == "RESULT" else {**result, "fills": fills}

    def cancel(self, symbol: str, order_id: Any, client_id: Any) -> dict[str, Any]:
        with self.lock:
            try:
                o = self.find(symbol, order_id, client_id)
            except BinanceError as e:
                if e.code == -2013:
                    raise BinanceError(-2011, "Unknown order sent.") from None
                raise
            if o.status not in ("NEW", "PARTIALLY_FILLED"):
                raise BinanceError(-2011, "Unknown order sent.")
            s = self.symbols[o.symbol]
            asset = s.quote if o.side == "BUY" else s.base
            bal = self.balances.setdefault(asset, Balance())
            bal.locked -= o.locked
            bal.free += o.locked
            o.locked = ZERO
            o.status = "CANCELED"
            o.update_ms = self.clock()
            return {**o.view(), "origClientOrderId": o.client_id}

    def refill(self) -> None:
        with self.lock:
            self.books = {
                s: {side: [list(lv) for lv in lvls] for side, lvls in b.items()} for s, b in self.book_seed.items()
            }

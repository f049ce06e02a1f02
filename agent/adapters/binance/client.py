"""Binance spot as a venue, through ccxt (``binance`` or ``binanceus``): the read and trade ports.

What a weight means here: the venue's cash is its stable quote assets (USD, USDT, USDC, FDUSD where held),
counted together as one cash; ``USDC`` in a target names that cash. Each
other asset is a spot position named as ccxt names its pair in the **trading quote** (``BTC/USD`` on Binance.US,
``BTC/USDT`` on Binance): buys spend that quote, sells fill it. Locked balances (in open orders) are ``hold``
and are never sold. The exchange's rules come from its filters (``LOT_SIZE`` step, ``PRICE_FILTER`` tick,
``NOTIONAL`` minimum).

Orders: an IOC limit per intent with ``newClientOrderId`` = the journal's cloid (the idempotency key); the
request's ``timestamp`` is the intent's ``expires_after_ms − recvWindow`` on Binance's clock, so once
Binance's clock passes ``expires_after_ms`` the request can never be accepted: an order not found by its
client id then is known never to exist. No answer (timeout, connection lost, 5xx, 429) raises
:class:`OrderOutcomeUnknown`; Binance's refusals (``-1013`` filters, ``-2010`` balance) are ``rejected``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Collection
from datetime import UTC, datetime
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any

import ccxt

from agent.core.domain import BookLevel, L2Book, Market, MarketInfo, PortfolioState, Position
from agent.core.errors import ExchangeError, OrderOutcomeUnknown, SnapshotError, TemporaryExchangeError
from agent.core.orders import SPOT_ASSET_OFFSET, Fill, OpenOrder, OrderIntent, OrderResult

#: stable assets counted as cash
CASH_ASSETS = ("USD", "USDT", "USDC", "FDUSD")
RECV_WINDOW_MS = 5000
#: the cost model's spot taker rate (``agent.core.costs``); a venue's own rate is expressed as a multiple of it
SPOT_TAKER_REFERENCE = 0.0007


def _decimals(step: float) -> int:
    return max(0, round(-math.log10(step))) if 0 < step < 1 else 0


class BinanceExchange:
    """``BinanceExchange(url, api_key=..., secret=..., venue="binanceus", quote="USD")``: ccxt pointed at
    ``url`` (the local stand-in, Binance's spot testnet, or None for the venue's own address)."""

    supports_schedule_cancel = False
    order_ttl_s: float | None = RECV_WINDOW_MS / 1000

    def __init__(
        self,
        url: str | None,
        *,
        api_key: str | None,
        secret: str | None,
        venue: str = "binanceus",
        quote: str | None = None,
        timeout_s: float = 10.0,
        testnet: bool = False,
        paced: bool = True,
    ) -> None:
        """``paced``: ccxt spaces requests by the venue's rate (about 130 ms each); off only for the local Binance
        this process serves, which counts request weight itself and answers 429/418 as Binance does."""
        if venue not in ("binance", "binanceus"):
            raise ExchangeError(f"unknown Binance venue {venue!r}")
        cls = getattr(ccxt, venue)
        self.ex: Any = cls(
            {
                "apiKey": api_key,
                "secret": secret,
                "enableRateLimit": paced,
                "timeout": int(timeout_s * 1000),
                "options": {
                    "fetchMarkets": ["spot"],
                    "fetchCurrencies": False,
                    "fetchMargins": False,
                    "defaultType": "spot",
                    "recvWindow": RECV_WINDOW_MS,
                },
            }
        )
        if testnet:
            self.ex.set_sandbox_mode(True)
        if url:
            self.ex.urls["api"] = _point(self.ex.urls["api"], url.rstrip("/"))
        self.venue = venue
        self.quote = quote or ("USD" if venue == "binanceus" else "USDT")
        self.user = f"{venue}:{(api_key or 'read-only')[:6]}…"
        self.base_url = url
        self._markets: dict[str, Any] | None = None
        self._offset_ms: int | None = None
        self._symbols_of: dict[str, str] = {}  # cloid → ccxt symbol of orders sent by this process
        #: the account's taker rate (``commissionRates.taker``), read with the account; Binance's base rate until then
        self.taker_rate = 0.001

    # -- clock -------------------------------------------------------------------------------------

    def server_time_ms(self, *, fresh: bool = False) -> int:
        if fresh or self._offset_ms is None:
            before = time.time()
            server = int(self._call(self.ex.fetch_time))
            self._offset_ms = server - int((before + time.time()) / 2 * 1000)
            return server
        return int(time.time() * 1000) + self._offset_ms

    @property
    def clock_offset_s(self) -> float | None:
        return None if self._offset_ms is None else self._offset_ms / 1000

    # -- reads -------------------------------------------------------------------------------------

    def _call(self, fn: Any, *args: Any, **kw: Any) -> Any:
        try:
            return fn(*args, **kw)
        except (ccxt.RateLimitExceeded, ccxt.DDoSProtection, ccxt.RequestTimeout, ccxt.NetworkError) as e:
            raise TemporaryExchangeError(f"{self.venue}: {type(e).__name__}: {str(e)[:200]}") from None
        except ccxt.AuthenticationError as e:
            raise ExchangeError(f"{self.venue}: the API key was refused ({str(e)[:160]})") from None
        except ccxt.BaseError as e:
            raise ExchangeError(f"{self.venue}: {type(e).__name__}: {str(e)[:200]}") from None

    def markets(self) -> dict[str, Any]:
        if self._markets is None:
            self._markets = self._call(self.ex.load_markets)
        return self._markets

    def _trading_markets(self) -> dict[str, Any]:
        return {
            s: m
            for s, m in self.markets().items()
            if m.get("spot") and m["quote"] == self.quote and m.get("active", True) is not False
        }

    def account_raw(self) -> dict[str, Any]:
        raw = dict(self._call(self.ex.private_get_account))
        try:
            self.taker_rate = float((raw.get("commissionRates") or {}).get("taker", self.taker_rate))
        except (TypeError, ValueError):
            raise SnapshotError(f"{self.venue} account: commissionRates.taker is not a number") from None
        return raw

    def account_state(self) -> PortfolioState:
        raw = self.account_raw()
        try:
            balances = {b["asset"]: (float(b["free"]), float(b["locked"])) for b in raw["balances"]}
        except (KeyError, TypeError, ValueError) as e:
            raise SnapshotError(f"{self.venue} account: balances: {e}") from None
        for asset, (free, locked) in balances.items():
            if not (math.isfinite(free) and math.isfinite(locked)) or free < 0 or locked < 0:
                raise SnapshotError(f"{self.venue} account: balance of {asset} is negative or not a number")
        markets = self._trading_markets()
        by_base = {m["base"]: s for s, m in markets.items()}
        positions: dict[str, Position] = {}
        cash_total = cash_hold = 0.0
        for asset, (free, locked) in balances.items():
            if free + locked <= 0:
                continue
            if asset in CASH_ASSETS:
                cash_total += free + locked
                cash_hold += locked
            elif asset in by_base:
                positions[by_base[asset]] = Position(
                    coin=by_base[asset], market="spot", size=free + locked, hold=locked
                )
        return PortfolioState(
            user=self.user,
            abstraction="disabled",
            usdc_spot_total=cash_total,
            usdc_spot_hold=cash_hold,
            positions=positions,
            timestamp=datetime.now(UTC),
        )

    def market(self, books: Collection[str] | None = None, *, with_ctxs: bool = False) -> Market:
        markets = self._trading_markets()
        tickers = self._call(self.ex.public_get_ticker_bookticker)
        quotes = {t["symbol"]: (float(t["bidPrice"]), float(t["askPrice"])) for t in tickers}
        assets: dict[str, MarketInfo] = {}
        for i, (sym, m) in enumerate(sorted(markets.items())):
            bid, ask = quotes.get(m["id"], (0.0, 0.0))
            mid = (bid + ask) / 2 if bid > 0 and ask > 0 else bid or ask
            if not (mid > 0 and math.isfinite(mid)):
                continue  # no price: not tradable now
            book = None
            if books and sym in books:
                ob = self._call(self.ex.fetch_order_book, sym, 100)
                book = L2Book(
                    bids=tuple(BookLevel(px=p, sz=q) for p, q, *_ in ob["bids"]),
                    asks=tuple(BookLevel(px=p, sz=q) for p, q, *_ in ob["asks"]),
                )
            step = float(m["precision"]["amount"] or 1e-8)
            assets[sym] = MarketInfo(
                coin=sym,
                market="spot",
                asset=SPOT_ASSET_OFFSET + i,
                wire_name=m["id"],
                sz_decimals=_decimals(step),
                mid=mid,
                book=book,
                base_token=m["base"],
                fee_scale=self.taker_rate / SPOT_TAKER_REFERENCE,
            )
        return Market(assets=assets, timestamp=datetime.now(UTC))

    def _symbol_of(self, cloid: str, coin: str | None = None) -> list[str]:
        if coin:
            return [coin]
        if cloid in self._symbols_of:
            return [self._symbols_of[cloid]]
        return sorted(self._trading_markets())

    def order_status(self, cloid: str) -> OrderResult | None:
        for sym in self._symbol_of(cloid.lower()):
            try:
                o = self.ex.fetch_order(None, sym, {"origClientOrderId": cloid.lower()})
            except ccxt.OrderNotFound:
                continue
            except (ccxt.NetworkError, ccxt.RateLimitExceeded, ccxt.DDoSProtection) as e:
                raise TemporaryExchangeError(f"{self.venue} order lookup: {str(e)[:160]}") from None
            except ccxt.BaseError as e:
                raise ExchangeError(f"{self.venue} order lookup: {str(e)[:160]}") from None
            return self._result(cloid.lower(), o)
        return None

    @staticmethod
    def _result(cloid: str, o: dict[str, Any]) -> OrderResult:
        filled, amount = float(o.get("filled") or 0.0), float(o.get("amount") or 0.0)
        raw = (o.get("info") or {}).get("status") or o.get("status")
        if raw in ("NEW", "PARTIALLY_FILLED"):
            status = "resting"
        elif filled >= amount > 0:
            status = "filled"
        elif filled > 0:
            status = "partial"
        elif raw in ("CANCELED", "EXPIRED", "EXPIRED_IN_MATCH"):
            status = "canceled"
        else:
            status = "rejected"
        avg = o.get("average")
        return OrderResult(
            cloid=cloid,
            status=status,
            oid=int(o["id"]) if o.get("id") else None,
            filled_sz=filled,
            avg_px=float(avg) if avg else None,
            requested_sz=amount or None,
            raw_status=str(raw),
        )

    def fills_since(self, ms: int, end_ms: int | None = None) -> list[Fill]:
        out: list[Fill] = []
        for sym, m in self._trading_markets().items():
            for t in self._call(self.ex.fetch_my_trades, sym, ms, 1000):
                if end_ms is not None and t["timestamp"] > end_ms:
                    continue
                fee = t.get("fee") or {}
                out.append(
                    Fill(
                        coin=m["id"],
                        px=float(t["price"]),
                        sz=float(t["amount"]),
                        side="B" if t["side"] == "buy" else "A",
                        time=int(t["timestamp"]),
                        fee=float(fee.get("cost") or 0.0),
                        fee_token=str(fee.get("currency") or self.quote),
                        oid=int(t["order"]) if t.get("order") else None,
                        tid=str(t["id"]),
                        raw=t.get("info"),
                    )
                )
        return sorted(out, key=lambda f: f.time)

    def open_orders(self) -> list[OpenOrder]:
        raw = self._call(self.ex.private_get_openorders)
        return [
            OpenOrder(
                coin=self._ccxt_symbol(o["symbol"]),
                oid=int(o["orderId"]),
                cloid=o.get("clientOrderId"),
                side="B" if o["side"] == "BUY" else "A",
                limit_px=float(o["price"]),
                sz=float(o["origQty"]) - float(o["executedQty"]),
                orig_sz=float(o["origQty"]),
                timestamp=int(o.get("time") or 0),
            )
            for o in raw
        ]

    def _ccxt_symbol(self, market_id: str) -> str:
        for sym, m in self.markets().items():
            if m["id"] == market_id:
                return sym
        return market_id

    # -- trading -----------------------------------------------------------------------------------

    def _grid(self, sym: str, size: float, px: float, is_buy: bool) -> tuple[str, str]:
        m = self.markets()[sym]
        info = {f["filterType"]: f for f in m["info"].get("filters", [])}
        tick = Decimal(info.get("PRICE_FILTER", {}).get("tickSize", "0.00000001"))
        step = Decimal(info.get("LOT_SIZE", {}).get("stepSize", "0.00000001"))
        q = (Decimal(repr(size)) / step).to_integral_value(rounding=ROUND_FLOOR) * step
        # toward the mid: a buy's limit rounds down, a sell's up (never past the planned slippage)
        p = (Decimal(repr(px)) / tick).to_integral_value(rounding=ROUND_FLOOR if is_buy else ROUND_CEILING) * tick
        return f"{q.normalize():f}", f"{p.normalize():f}"

    def place_orders(self, orders: list[OrderIntent]) -> list[OrderResult]:
        results = []
        for intent in orders:
            sym = intent.coin
            if sym not in self.markets():
                results.append(OrderResult(cloid=intent.cloid, status="rejected", error=f"unknown market {sym}"))
                continue
            qty, px = self._grid(sym, intent.size, intent.limit_px, intent.is_buy)
            params: dict[str, Any] = {
                "timeInForce": "IOC" if intent.tif == "Ioc" else "GTC",
                "newClientOrderId": intent.cloid,
                "newOrderRespType": "FULL",
            }
            if intent.expires_after_ms is not None:
                params["timestamp"] = intent.expires_after_ms - RECV_WINDOW_MS
                params["recvWindow"] = RECV_WINDOW_MS
            self._symbols_of[intent.cloid] = sym
            try:
                o = self.ex.create_order(sym, "limit", intent.side, float(qty), float(px), params)
            except ccxt.InvalidNonce as e:  # -1021: past its recvWindow on Binance's clock, refused for good
                results.append(OrderResult(cloid=intent.cloid, status="rejected", error=f"-1021 {str(e)[:180]}"))
                continue
            except ccxt.InsufficientFunds as e:
                results.append(OrderResult(cloid=intent.cloid, status="rejected", error=f"-2010 {str(e)[:180]}"))
                continue
            except (ccxt.InvalidOrder, ccxt.BadRequest, ccxt.PermissionDenied, ccxt.AuthenticationError) as e:
                results.append(OrderResult(cloid=intent.cloid, status="rejected", error=str(e)[:200]))
                continue
            except (ccxt.NetworkError, ccxt.RateLimitExceeded, ccxt.DDoSProtection, ccxt.ExchangeNotAvailable) as e:
                raise OrderOutcomeUnknown(
                    f"{self.venue} order {intent.cloid}: no answer ({type(e).__name__})"
                ) from None
            except ccxt.BaseError as e:
                raise OrderOutcomeUnknown(f"{self.venue} order {intent.cloid}: {str(e)[:160]}") from None
            results.append(self._result(intent.cloid, o))
        return results

    def cancel(self, coin: str, oid: int) -> bool:
        try:
            self.ex.cancel_order(str(oid), coin)
            return True
        except ccxt.OrderNotFound:
            return False
        except ccxt.BaseError as e:
            raise ExchangeError(f"{self.venue} cancel: {str(e)[:160]}") from None

    def cancel_by_cloid(self, coin: str, cloid: str) -> bool:
        try:
            self.ex.cancel_order(None, coin, {"origClientOrderId": cloid})
            return True
        except ccxt.OrderNotFound:
            return False
        except ccxt.BaseError as e:
            raise ExchangeError(f"{self.venue} cancel: {str(e)[:160]}") from None

    def schedule_cancel(self, at_ms: int | None) -> bool:
        return False  # Binance spot has no dead-man switch endpoint in this adapter

    def api_restrictions(self) -> dict[str, Any]:
        return dict(self._call(self.ex.sapi_get_account_apirestrictions))


def _point(api: Any, url: str) -> Any:
    """ccxt's API address table with every https address moved onto ``url`` (same paths)."""
    if isinstance(api, dict):
        return {k: _point(v, url) for k, v in api.items()}
    if isinstance(api, str) and api.startswith("https://"):
        parts = api.split("/", 3)
        return f"{url}/{parts[3]}" if len(parts) > 3 else url
    return api

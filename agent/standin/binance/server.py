"""The local Binance as a real HTTP server on loopback: the spot REST endpoints ccxt and python-binance use.

Public: ``/api/v3/ping``, ``time``, ``exchangeInfo``, ``depth``, ``ticker/price``, ``ticker/bookTicker``,
``ticker/24hr``, ``avgPrice``. Signed (``X-MBX-APIKEY`` header, HMAC-SHA256 ``signature`` of the parameters,
``timestamp`` within ``recvWindow`` of the server's clock): ``account``, ``order`` (POST, GET, DELETE),
``order/test``, ``openOrders`` (GET, DELETE), ``allOrders``, ``myTrades``, ``/sapi/v1/account/apiRestrictions``.

Request weight per IP per minute is counted and reported in ``X-MBX-USED-WEIGHT-1M``; orders in
``X-MBX-ORDER-COUNT-10S`` and ``-1D``. Past ``weight_limit`` the answer is 429 (``-1003``); a client that keeps
going after a 429 within the same minute is banned with 418. Fault knobs (:class:`Faults`) mirror the
Hyperliquid stand-in's: latency, 5xx, a lost answer (applied, then the connection closed), a timeout.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl

from agent.standin.binance.exchange import BinanceStandIn
from agent.standin.binance.records import BinanceError, Key, fmt

WEIGHT_LIMIT = 6000


@dataclass
class Faults:
    """Each ``*_next`` counter answers that many upcoming requests (to ``path``, if set) with the fault."""

    latency_s: float = 0.0
    http_5xx_next: int = 0
    lose_response_next: int = 0
    timeout_next: int = 0
    hang_s: float = 15.0
    path: str | None = "/api/v3/order"
    method: str | None = "POST"

    def take(self, path: str, method: str) -> str | None:
        if (self.path and path != self.path) or (self.method and method != self.method):
            return None
        for name in ("timeout", "http_5xx", "lose_response"):
            left = getattr(self, f"{name}_next")
            if left > 0:
                setattr(self, f"{name}_next", left - 1)
                return name
        return None


def _weight(path: str, method: str, params: dict[str, str]) -> int:
    if path == "/api/v3/depth":
        limit = int(params.get("limit") or 100)
        return 5 if limit <= 100 else 25 if limit <= 500 else 50 if limit <= 1000 else 250
    if path in ("/api/v3/ticker/price", "/api/v3/ticker/bookTicker"):
        return 2 if params.get("symbol") else 4
    if path == "/api/v3/ticker/24hr":
        return 2 if params.get("symbol") else 80
    if path == "/api/v3/openOrders" and method == "GET":
        return 6 if params.get("symbol") else 80
    return {
        "/api/v3/exchangeInfo": 20,
        "/api/v3/account": 20,
        "/api/v3/myTrades": 20,
        "/api/v3/allOrders": 20,
        "/api/v3/order": 4 if method == "GET" else 1,
        "/api/v3/avgPrice": 2,
    }.get(path, 1)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    exchange: BinanceStandIn
    faults: Faults
    stopping: threading.Event
    weights: deque[tuple[float, int]]
    orders_log: deque[float]
    banned_until: float
    limited_at: float
    weight_limit: int
    clock_offset_ms: int


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.0"

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def do_PUT(self) -> None:
        self._handle("PUT")

    # -------------------------------------------------------------------------------------------

    def _handle(self, method: str) -> None:
        path, _, query = str(self.path).partition("?")
        path = path.rstrip("/")
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        srv = self.server
        if srv.faults.latency_s and srv.stopping.wait(srv.faults.latency_s):
            return
        params = dict(parse_qsl(query, keep_blank_values=True))
        params.update(dict(parse_qsl(body, keep_blank_values=True)))
        now = time.monotonic()
        headers: dict[str, str] = {}
        try:
            with srv.exchange.lock:
                self._rate(now, _weight(path, method, params), headers, path, method)
            fault = srv.faults.take(path, method)
            if fault == "timeout":
                srv.stopping.wait(srv.faults.hang_s)
                self.close_connection = True
                return
            if fault == "http_5xx":
                self._send(
                    503,
                    {"code": -1001, "msg": "Internal error; unable to process your request. Please try again."},
                    headers,
                )
                return
            answer = self._route(path, method, params, query, body)
            if fault == "lose_response":
                self.close_connection = True
                return
            self._send(200, answer, headers)
        except BinanceError as e:
            self._send(e.status, e.body(), headers)

    def _rate(self, now: float, weight: int, headers: dict[str, str], path: str, method: str) -> None:
        srv = self.server
        if now < srv.banned_until:
            raise BinanceError(
                -1003,
                f"Way too many requests; IP(127.0.0.1) banned until "
                f"{int((time.time() + srv.banned_until - now) * 1000)}.",
                418,
            )
        while srv.weights and now - srv.weights[0][0] >= 60:
            srv.weights.popleft()
        used = sum(w for _, w in srv.weights) + weight
        if used > srv.weight_limit:
            if now - srv.limited_at < 60:  # kept going after a 429: banned
                srv.banned_until = now + 120
                raise BinanceError(-1003, "Way too many requests; IP(127.0.0.1) banned for 120 s.", 418)
            srv.limited_at = now
            headers["Retry-After"] = "60"
            raise BinanceError(
                -1003,
                f"Too many requests; current limit of IP(127.0.0.1) request weight is {srv.weight_limit} per 1 MINUTE.",
                429,
            )
        srv.weights.append((now, weight))
        headers["X-MBX-USED-WEIGHT-1M"] = str(used)
        if path == "/api/v3/order" and method == "POST":
            srv.orders_log.append(now)
            while srv.orders_log and now - srv.orders_log[0] >= 86400:
                srv.orders_log.popleft()
            headers["X-MBX-ORDER-COUNT-10S"] = str(sum(1 for t in srv.orders_log if now - t < 10))
            headers["X-MBX-ORDER-COUNT-1D"] = str(len(srv.orders_log))

    def _server_ms(self) -> int:
        return self.server.exchange.clock() + self.server.clock_offset_ms

    def _signed(self, params: dict[str, str], query: str, body: str) -> Key:
        ex = self.server.exchange
        api_key = self.headers.get("X-MBX-APIKEY")
        if not api_key:
            raise BinanceError(-2014, "API-key format invalid.", 401)
        key = ex.keys.get(api_key)
        if key is None:
            raise BinanceError(-2015, "Invalid API-key, IP, or permissions for action.", 401)
        if "timestamp" not in params:
            raise BinanceError(-1102, "Mandatory parameter 'timestamp' was not sent, was empty/null, or malformed.")
        sig = params.get("signature")
        if not sig:
            raise BinanceError(-1102, "Mandatory parameter 'signature' was not sent, was empty/null, or malformed.")

        def strip(text: str) -> str:
            return "&".join(p for p in text.split("&") if p and not p.startswith("signature="))

        total = strip(query) + strip(body) if query and body else strip(query or body)
        want = hmac.new(key.secret.encode(), total.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(want, sig.lower()):
            raise BinanceError(-1022, "Signature for this request is not valid.")
        try:
            ts, window = int(params["timestamp"]), int(params.get("recvWindow") or 5000)
        except ValueError:
            raise BinanceError(-1100, "Illegal characters found in parameter 'timestamp'.") from None
        if window > 60000:
            raise BinanceError(-1131, "recvWindow must be less than 60000")
        now = self._server_ms()
        if ts > now + 1000:
            raise BinanceError(-1021, "Timestamp for this request was 1000ms ahead of the server's time.")
        if now - ts > window:
            raise BinanceError(-1021, "Timestamp for this request is outside of the recvWindow.")
        return key

    def _route(self, path: str, method: str, p: dict[str, str], query: str, body: str) -> Any:
        ex = self.server.exchange
        if path == "/api/v3/ping":
            return {}
        if path == "/api/v3/time":
            return {"serverTime": self._server_ms()}
        if path == "/api/v3/exchangeInfo":
            names = [p["symbol"]] if p.get("symbol") else (json.loads(p["symbols"]) if p.get("symbols") else None)
            syms = [ex.symbol(n) for n in names] if names else list(ex.symbols.values())
            return {
                "timezone": "UTC",
                "serverTime": self._server_ms(),
                "rateLimits": [
                    {
                        "rateLimitType": "REQUEST_WEIGHT",
                        "interval": "MINUTE",
                        "intervalNum": 1,
                        "limit": self.server.weight_limit,
                    },
                    {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 100},
                    {"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1, "limit": 200000},
                    {"rateLimitType": "RAW_REQUESTS", "interval": "MINUTE", "intervalNum": 5, "limit": 61000},
                ],
                "exchangeFilters": [],
                "symbols": [s.info() for s in syms],
            }
        if path == "/api/v3/depth":
            return ex.depth(p.get("symbol", ""), min(int(p.get("limit") or 100), 5000))
        if path in ("/api/v3/ticker/price", "/api/v3/ticker/bookTicker", "/api/v3/ticker/24hr", "/api/v3/avgPrice"):
            return self._ticker(path, p)
        key = self._signed(p, query, body)
        if path == "/sapi/v1/account/apiRestrictions":
            return {
                "ipRestrict": key.ip_restrict,
                "createTime": key.created_ms,
                "enableReading": True,
                "enableWithdrawals": key.can_withdraw,
                "enableInternalTransfer": False,
                "enableMargin": False,
                "enableFutures": False,
                "permitsUniversalTransfer": False,
                "enableVanillaOptions": False,
                "enableFixApiTrade": False,
                "enableFixReadOnly": False,
                "enablePortfolioMarginTrading": False,
                "enableSpotAndMarginTrading": key.can_trade,
            }
        if path == "/api/v3/account":
            return ex.account(key)
        if path in ("/api/v3/order", "/api/v3/order/test") and method == "POST":
            if not key.can_trade:
                raise BinanceError(-2015, "Invalid API-key, IP, or permissions for action.", 401)
            if path.endswith("/test"):
                return {}
            return ex.place(p)
        if path == "/api/v3/order" and method == "GET":
            return ex.find(p.get("symbol", ""), p.get("orderId"), p.get("origClientOrderId")).view()
        if path == "/api/v3/order" and method == "DELETE":
            return ex.cancel(p.get("symbol", ""), p.get("orderId"), p.get("origClientOrderId"))
        if path == "/api/v3/openOrders" and method == "GET":
            return ex.open_orders(p.get("symbol"))
        if path == "/api/v3/openOrders" and method == "DELETE":
            return [ex.cancel(o["symbol"], o["orderId"], None) for o in ex.open_orders(p.get("symbol"))]
        if path == "/api/v3/allOrders":
            s = ex.symbol(p.get("symbol")).name
            return [o.view() for o in ex.orders.values() if o.symbol == s]
        if path == "/api/v3/myTrades":
            start = int(p["startTime"]) if p.get("startTime") else None
            return ex.my_trades(p.get("symbol", ""), start, p.get("orderId"), min(int(p.get("limit") or 500), 1000))
        raise BinanceError(-1000, f"Unknown endpoint {method} {path}", 404)

    def _ticker(self, path: str, p: dict[str, str]) -> Any:
        ex = self.server.exchange
        names = [p["symbol"]] if p.get("symbol") else list(ex.symbols)

        def one(name: str) -> dict[str, Any]:
            s = ex.symbol(name)
            b = ex.books[s.name]
            mid = ex.mid(s.name)
            bid, ask = (b["bids"][0] if b["bids"] else None), (b["asks"][0] if b["asks"] else None)
            if path.endswith("price"):
                return {"symbol": s.name, "price": fmt(mid)}
            if path.endswith("avgPrice"):
                return {"mins": 5, "price": fmt(mid), "closeTime": self._server_ms()}
            book = {
                "symbol": s.name,
                "bidPrice": fmt(bid[0]) if bid else "0.00000000",
                "bidQty": fmt(bid[1]) if bid else "0.00000000",
                "askPrice": fmt(ask[0]) if ask else "0.00000000",
                "askQty": fmt(ask[1]) if ask else "0.00000000",
            }
            if path.endswith("bookTicker"):
                return book
            now = self._server_ms()
            return {
                **book,
                "priceChange": "0.00000000",
                "priceChangePercent": "0.000",
                "weightedAvgPrice": fmt(mid),
                "prevClosePrice": fmt(mid),
                "lastPrice": fmt(mid),
                "lastQty": "0.00000000",
                "openPrice": fmt(mid),
                "highPrice": fmt(mid),
                "lowPrice": fmt(mid),
                "volume": "0.00000000",
                "quoteVolume": "0.00000000",
                "openTime": now - 86_400_000,
                "closeTime": now,
                "firstId": -1,
                "lastId": -1,
                "count": 0,
            }

        return one(names[0]) if p.get("symbol") else [one(n) for n in names]

    def _send(self, status: int, payload: Any, headers: dict[str, str]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json;charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        for k, v in headers.items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)


class BinanceServer:
    """A running local Binance (a context manager): ``url``, ``exchange`` (the state) and ``faults``."""

    def __init__(
        self, exchange: BinanceStandIn, *, host: str = "127.0.0.1", port: int = 0, weight_limit: int = WEIGHT_LIMIT
    ) -> None:
        self._server = _Server((host, port), _Handler)
        self._server.exchange = exchange
        self._server.faults = Faults()
        self._server.stopping = threading.Event()
        self._server.weights = deque()
        self._server.orders_log = deque()
        self._server.banned_until = 0.0
        self._server.limited_at = -1e9
        self._server.weight_limit = weight_limit
        self._server.clock_offset_ms = 0
        self._thread = threading.Thread(  # a short poll: stop() returns within 50 ms, not half a second
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="binance-standin", daemon=True
        )

    @property
    def url(self) -> str:
        port = self._server.server_address[1]
        return f"http://127.0.0.1:{port}"

    @property
    def exchange(self) -> BinanceStandIn:
        return self._server.exchange

    @property
    def faults(self) -> Faults:
        return self._server.faults

    @property
    def clock_offset_ms(self) -> int:
        return self._server.clock_offset_ms

    @clock_offset_ms.setter
    def clock_offset_ms(self, value: int) -> None:
        self._server.clock_offset_ms = value

    def used_weight(self) -> int:
        now = time.monotonic()
        return sum(w for t, w in self._server.weights if now - t < 60)

    def start(self) -> BinanceServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.stopping.set()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> BinanceServer:
        return self.start()

    def __exit__(self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

"""The stand-in as a real HTTP server on loopback: POST /info and POST /exchange.

``serve(snapshot)`` starts a ``ThreadingHTTPServer`` in a background thread and returns a
:class:`StandInServer` (a context manager); ``run_server(path, host, port)`` blocks until SIGINT or
SIGTERM for ``rebalancer exchange serve``. Unknown /info types and malformed bodies get HTTP 422
with a plain-text body, as Hyperliquid's server does.
"""

from __future__ import annotations

import json
import signal
import sys
import threading
from collections.abc import Iterable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any

from agent.standin.actions import BadRequest, handle_exchange
from agent.standin.engine import StandIn
from agent.standin.faults import Faults, request_kind
from agent.standin.subaccounts import INFO_KINDS
from agent.standin.views import REQUIRED as _VIEWS_REQUIRED
from agent.standin.weights import RequestLog

REQUIRED = {**_VIEWS_REQUIRED, **INFO_KINDS}

_DESERIALIZE = "Failed to deserialize the JSON body into the target type: "


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    exchange: StandIn
    faults: Faults
    stopping: threading.Event
    requests: RequestLog


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.0"

    def log_message(self, format: str, *args: Any) -> None:
        return  # quiet: the stand-in logs nothing per request

    def do_GET(self) -> None:
        """``/standin/requests?since=N``: the request log (weights, kinds, bodies) from entry N on."""
        path, _, query = self.path.partition("?")
        if path.rstrip("/") != "/standin/requests":
            self._send(404, "text/plain", b"Not Found")
            return
        params = dict(p.partition("=")[::2] for p in query.split("&") if p)
        try:
            since = int(params.get("since", "0"))
        except ValueError:
            self._send(400, "text/plain", b"since: not an integer")
            return
        self._send(200, "application/json", json.dumps(self.server.requests.to_public(since)).encode())

    def do_POST(self) -> None:
        path = self.path.split("?", 1)[0].rstrip("/")
        if path not in ("/info", "/exchange"):
            self._send(404, "text/plain", b"Not Found")
            return
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        faults = self.server.faults
        if faults.delays(path) and self.server.stopping.wait(faults.latency_s):
            return
        try:
            parsed = json.loads(raw or b"null")
        except ValueError:
            parsed = None
        fault = faults.take(path, request_kind(path, parsed))
        if fault in ("timeout_next", "http_429_next", "http_5xx_next", "http_4xx_json_next"):
            self.server.requests.record(path, parsed)  # it arrived: the exchange counts it
        if fault == "timeout_next":
            self.server.stopping.wait(faults.hang_s)
            self.close_connection = True
            return
        if fault == "http_429_next":
            self._send(429, "text/plain", b"Too Many Requests")
            return
        if fault == "http_5xx_next":
            self._send(faults.status_5xx, "text/plain", b"Internal Server Error")
            return
        if fault == "http_4xx_json_next":
            self._send(faults.status_4xx, "application/json", json.dumps(faults.body_4xx).encode())
            return
        if fault == "late_next":  # the client gives up first; the request still arrives and is applied
            if self.server.stopping.wait(faults.late_s):
                return
            self._answer(path, raw)
            faults.landed()
            self.close_connection = True
            return
        status, body = self._answer(path, raw)
        rewrite = faults.rewrite.get(request_kind(path, parsed) or "") if path == "/info" else None
        if rewrite is not None and status == 200:
            body = json.dumps(rewrite(json.loads(body))).encode()
        if fault == "malformed_next":
            self._send(200, "application/json", body[: max(1, len(body) // 2)])
            return
        if fault == "lose_response_next":
            if faults.lose_mode == "502":
                self._send(502, "text/html", b"<html><body>502 Bad Gateway</body></html>")
            self.close_connection = True
            return
        self._send(status, "application/json" if status == 200 else "text/plain", body)

    def _answer(self, path: str, raw: bytes) -> tuple[int, bytes]:
        try:
            request = json.loads(raw or b"null")
        except ValueError:
            return 400, b"Failed to parse the request body as JSON"
        if not isinstance(request, dict):
            return 422, (_DESERIALIZE + "invalid type: expected a map").encode()
        if path == "/info":
            kind = request.get("type")
            if kind not in REQUIRED:
                expected = ", ".join(f"`{k}`" for k in REQUIRED)
                return 422, (_DESERIALIZE + f"unknown variant `{kind}`, expected one of {expected}").encode()
            missing = [f for f in REQUIRED[kind] if f not in request]
            if missing:
                return 422, (_DESERIALIZE + f"missing field `{missing[0]}`").encode()
            try:
                result = self.server.exchange.info(request)
            except (KeyError, TypeError, ValueError) as exc:
                self.server.requests.record(path, request)
                return 422, (_DESERIALIZE + str(exc)).encode()
            self.server.requests.record(path, request, result)
        else:
            self.server.requests.record(path, request)
            try:
                result = handle_exchange(self.server.exchange, request)
            except BadRequest as exc:
                return 422, (_DESERIALIZE + str(exc)).encode()
        return 200, json.dumps(result).encode()

    def _send(self, status: int, content_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class StandInServer:
    """A running stand-in: ``.url``, ``.port``, ``.exchange``, ``.faults``, ``.stop()``."""

    def __init__(self, exchange: StandIn, host: str, port: int, faults: Faults) -> None:
        self._httpd = _Server((host, port), _Handler)
        self._httpd.exchange = exchange
        self._httpd.faults = faults
        self._httpd.stopping = threading.Event()
        self._httpd.requests = RequestLog()
        #: every request received, with its Hyperliquid weight (also ``GET /standin/requests``)
        self.requests = self._httpd.requests
        self.exchange = exchange
        self.faults = faults
        self.host = host
        self.port = int(self._httpd.server_address[1])
        self.url = f"http://{host}:{self.port}"
        self._thread: threading.Thread | None = None

    def start(self) -> StandInServer:
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="standin-http", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, release hung connections and close the socket."""
        self._httpd.stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> StandInServer:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def _exchange(snapshot: Mapping[str, Any] | StandIn, approved_agents: Iterable[str]) -> StandIn:
    if isinstance(snapshot, StandIn):
        for agent in approved_agents:
            snapshot.approve_agent(agent)
        return snapshot
    return StandIn.from_snapshot(snapshot, approved_agents=approved_agents)


def serve(
    snapshot: Mapping[str, Any] | StandIn,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    faults: Faults | None = None,
    approved_agents: Iterable[str] = (),
    time_scale: float = 1.0,
    replay: bool = False,
    funding: bool = False,
    mainnet: bool = False,
) -> StandInServer:
    """Start a stand-in in a background thread (port 0 picks a free port). Its market clock (TWAP suborders,
    hourly funding, replayed prices with ``replay``) runs ``time_scale`` × the wall clock. Signatures are
    checked for testnet, or for mainnet with ``mainnet``."""
    exchange = _exchange(snapshot, approved_agents)
    exchange.mainnet = mainnet
    exchange.time_scale = time_scale
    exchange.charges_funding = funding
    if replay:
        exchange.start_replay()
    return StandInServer(exchange, host, port, faults or Faults()).start()


def serve_forever(
    snapshot: Mapping[str, Any] | StandIn,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    faults: Faults | None = None,
    approved_agents: Iterable[str] = (),
    time_scale: float = 1.0,
    replay: bool = False,
    mainnet: bool = False,
) -> None:
    """Serve in the calling thread until SIGINT/SIGTERM (or ``KeyboardInterrupt``)."""
    exchange = _exchange(snapshot, approved_agents)
    exchange.mainnet = mainnet
    exchange.time_scale = time_scale
    exchange.charges_funding = True  # `rebalancer exchange serve`: funding every hour of its market clock
    if replay:
        exchange.start_replay()
    server = StandInServer(exchange, host, port, faults or Faults())
    run_until_signal(server)


def run_until_signal(server: StandInServer) -> None:
    done = threading.Event()

    def _stop(_signum: int, _frame: object) -> None:
        done.set()

    # The handlers are in place before the address is printed: a caller that stops us as soon as it
    # reads the address gets a clean exit, not a death by SIGTERM.
    previous = {sig: signal.signal(sig, _stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    server.start()
    print(f"Hyperliquid stand-in listening on {server.url}", file=sys.stderr, flush=True)
    try:
        while not done.wait(0.5):
            pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        server.stop()


def run_server(
    snapshot_path: str, host: str, port: int, time_scale: float = 1.0, replay: bool = False, mainnet: bool = False
) -> None:
    """For ``rebalancer exchange serve``: load a snapshot file and serve it until SIGINT/SIGTERM."""
    snapshot = json.loads(Path(snapshot_path).read_text(encoding="utf-8"))
    serve_forever(snapshot, host=host, port=port, time_scale=time_scale, replay=replay, mainnet=mainnet)

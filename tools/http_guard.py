"""The guard in front of MCP over HTTP: Host and Origin checked (DNS rebinding), a bearer token on every
request, and a read-only token held to the read-only tools.

As the MCP transport specification asks of a streamable HTTP server: it validates the ``Origin`` header
of every request (a browser page's request carries one; an allowed one is the server's own address or one
listed in ``[mcp] allowed_origins``; a missing one is a non-browser client), and answers 403 otherwise.
The ``Host`` header must name the address the server was started on (for loopback: 127.0.0.1, localhost
or [::1] at its port) or one in ``[mcp] allowed_hosts``: a DNS-rebinding page's requests name the
attacker's host, so they are refused even though they reach the loopback socket. Then every request needs
``Authorization: Bearer <token>`` (401 without a valid one). A ``read`` token may call only the tools a
read-only server publishes (reads and previews); any other ``tools/call`` gets 403, and its ``tools/list``
shows only those tools (:class:`ScopedToolList`: the guard puts the token's scope in the request's
``state.mcp_scope``, the server's middleware reads it), so a client never offers a model a tool it cannot use.

A pure ASGI middleware: it buffers a POST's body to read the JSON-RPC method, then replays it unchanged.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Collection, MutableMapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from fastmcp.server.middleware import Middleware

from agent.services.mcp_tokens import Scope, TokenCheck

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[MutableMapping[str, Any], Receive, Send], Awaitable[None]]

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
#: where the guard leaves the request's token scope (``request.state.mcp_scope``) for the server
SCOPE_KEY = "mcp_scope"
MAX_BODY = 4 * 1024 * 1024


def allowed_hosts(host: str, port: int, extra: Collection[str] = ()) -> frozenset[str]:
    """``host:port`` values a request's Host header may carry."""
    names = LOOPBACK_NAMES if host in ("127.0.0.1", "localhost", "::1") else (f"[{host}]" if ":" in host else host,)
    return frozenset({f"{n}:{port}" for n in names} | {h.lower() for h in extra})


def allowed_origins(hosts: Collection[str], extra: Collection[str] = ()) -> frozenset[str]:
    """Origins (``scheme://host:port``) a browser request may come from: the server's own, and ``extra``."""
    own = {f"{scheme}://{h}" for h in hosts for scheme in ("http", "https")}
    return frozenset(own | {o.rstrip("/").lower() for o in extra})


class McpGuard:
    """ASGI middleware: ``McpGuard(app, tokens=..., hosts=..., origins=..., read_tools=...)``."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        tokens: TokenCheck,
        hosts: frozenset[str],
        origins: frozenset[str],
        read_tools: frozenset[str],
    ) -> None:
        self.app, self.tokens, self.hosts, self.origins, self.read_tools = app, tokens, hosts, origins, read_tools

    async def __call__(self, scope: MutableMapping[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        host = headers.get("host", "").lower()
        if host not in self.hosts:
            await _refuse(send, 403, f"Host {host!r} is not this server's address")
            return
        origin = headers.get("origin")
        if origin is not None and _origin(origin) not in self.origins:
            await _refuse(send, 403, f"Origin {origin!r} is not allowed")
            return
        kind, _, token = headers.get("authorization", "").partition(" ")
        granted = self.tokens.scope(token.strip()) if kind.lower() == "bearer" else None
        if granted is None:
            await _refuse(send, 401, "a bearer token is needed (Authorization: Bearer <token>)", bearer=True)
            return
        scope.setdefault("state", {})[SCOPE_KEY] = granted
        if granted == "read" and scope.get("method") == "POST":
            body = await _body(receive)
            if body is None:
                await _refuse(send, 413, "request body too large")
                return
            refused = self._refused_tool(body, granted)
            if refused is not None:
                await _refuse(send, 403, f"this token is read-only: {refused} is refused")
                return
            receive = _replay(body, receive)
        await self.app(scope, receive, send)

    def _refused_tool(self, body: bytes, granted: Scope) -> str | None:
        """The first tool a ``read`` token may not call in this JSON-RPC message (or batch), else None."""
        try:
            message = json.loads(body or b"null")
        except ValueError:
            return None  # not ours to judge: the transport answers a parse error
        for m in message if isinstance(message, list) else [message]:
            if isinstance(m, dict) and m.get("method") == "tools/call":
                params = m.get("params")
                name = params.get("name") if isinstance(params, dict) else None
                if name not in self.read_tools:
                    return str(name)
        return None


class ScopedToolList(Middleware):
    """fastmcp middleware: a ``tools/list`` on a request the guard marked ``read`` lists only ``read_tools``."""

    def __init__(self, read_tools: frozenset[str]) -> None:
        self.read_tools = read_tools

    async def on_list_tools(self, context: Any, call_next: Any) -> Sequence[Any]:
        tools = await call_next(context)
        if request_scope() == "read":
            return [t for t in tools if t.name in self.read_tools]
        return list(tools)


def request_scope() -> str | None:
    """The scope the guard granted the current HTTP request (None over stdio or in process)."""
    from fastmcp.server.dependencies import get_http_request

    try:
        state = get_http_request().scope.get("state") or {}
    except RuntimeError:
        return None
    value = state.get(SCOPE_KEY)
    return str(value) if value is not None else None


def _origin(value: str) -> str:
    parts = urlsplit(value.strip().lower())
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else value


async def _body(receive: Receive) -> bytes | None:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY:
            return None
        chunks.append(chunk)
        if not message.get("more_body"):
            break
    return b"".join(chunks)


def _replay(body: bytes, then: Receive) -> Receive:
    """The buffered body once, then the connection's own messages (a disconnect when the client leaves)."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await then()

    return receive


async def _refuse(send: Send, status: int, why: str, *, bearer: bool = False) -> None:
    body = json.dumps({"jsonrpc": "2.0", "id": None, "error": {"code": -32001, "message": why}}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if bearer:
        headers.append((b"www-authenticate", b'Bearer realm="rebalancer"'))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})

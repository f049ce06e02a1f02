"""MCP over HTTP is a guarded endpoint: a bearer token on every request, Host and Origin checked (DNS
rebinding), a read-only token held to the read-only tools, loopback unless ``[mcp] allow_remote``.

The console script's server, driven by raw httpx (the attacks) and the official ``mcp`` client (users). The tests
that change nothing another reads share one server (module scope).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import anyio
import httpx
import pytest
from clirun import invoke
from http_support import REBALANCER, HttpServer, serve_http

pytestmark = pytest.mark.skipif(not REBALANCER.exists(), reason="the rebalancer console script is not installed")

INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "raw", "version": "0"}},
}
SET_TARGET = {
    "jsonrpc": "2.0",
    "id": 2,
    "method": "tools/call",
    "params": {"name": "set_target_allocation", "arguments": {"weights": {"UBTC/USDC": 0.5, "USDC": 0.5}}},
}
ACCEPT = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[HttpServer, Path]]:
    """One server for the tests that change nothing a later test reads (a read-only token added is not read)."""
    folder = tmp_path_factory.mktemp("mcp-http")
    with serve_http(folder) as s:
        yield s, folder


@pytest.fixture
def server(shared: tuple[HttpServer, Path]) -> HttpServer:
    return shared[0]


@pytest.fixture
def folder(shared: tuple[HttpServer, Path]) -> Path:
    """The shared server's folder (its database ``h.db``)."""
    return shared[1]


def _post(server: HttpServer, body: dict, **headers: str) -> httpx.Response:
    return httpx.post(server.url, json=body, headers=ACCEPT | headers, timeout=30)


def _bearer(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_the_first_start_shows_a_token_once_and_stores_only_its_hash(server, folder):
    assert server.token and len(server.token) >= 40
    assert server.token.encode() not in (folder / "h.db").read_bytes()
    assert _post(server, INITIALIZE, **_bearer(server.token)).status_code == 200


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="no-token"),
        pytest.param({"Authorization": "Bearer not-the-token"}, id="wrong-token"),
        pytest.param({"Authorization": "Basic dXNlcjpwYXNz"}, id="not-bearer"),
    ],
)
def test_a_request_without_a_valid_token_gets_401(server, headers):
    r = _post(server, INITIALIZE, **headers)
    assert r.status_code == 401
    assert r.headers["www-authenticate"].startswith("Bearer")


def test_a_foreign_host_gets_403_even_with_the_token(server):
    r = _post(server, INITIALIZE, Host=f"rebind.example:{server.port}", **_bearer(server.token))
    assert r.status_code == 403 and "Host" in r.json()["error"]["message"]


def test_a_foreign_origin_gets_403_even_with_the_token(server):
    r = _post(server, INITIALIZE, Origin="http://rebind.example", **_bearer(server.token))
    assert r.status_code == 403 and "Origin" in r.json()["error"]["message"]


def test_the_servers_own_origin_is_allowed(server):
    r = _post(server, INITIALIZE, Origin=f"http://localhost:{server.port}", **_bearer(server.token))
    assert r.status_code == 200


def _targets(db: Path) -> tuple[object, object]:
    from agent.adapters.store.db import Store

    store = Store(db)
    try:
        return store.records.get("target"), store.records.get("stored_target")
    finally:
        store.close()


def test_the_reported_attack_a_foreign_host_and_origin_setting_a_target_changes_nothing(server, folder):
    before = _targets(folder / "h.db")
    r = _post(server, SET_TARGET, Host="attacker.example", Origin="http://attacker.example")
    assert r.status_code == 403
    code = invoke("status", "--json", env={"REBALANCER_DB": str(folder / "h.db")}, cwd=folder)
    assert code.returncode == 0
    assert _targets(folder / "h.db") == before  # the shared server's state, whatever an earlier test stored


def test_a_read_only_token_reads_but_cannot_change_anything(server, folder):
    made = invoke("mcp-token", "--read-only", env={"REBALANCER_DB": str(folder / "h.db")}, cwd=folder)
    assert made.returncode == 0
    read_token = made.stdout.strip()

    async def go():
        with anyio.fail_after(60):
            async with server.client(read_token) as client:
                portfolio = await client.call_tool("get_portfolio", {})
                try:
                    refused = await client.call_tool("set_target_allocation", {"weights": {"USDC": 1.0}})
                except Exception as e:  # the client may surface the 403 as an exception
                    refused = e
                return portfolio, refused

    portfolio, refused = anyio.run(go)
    assert not portfolio.is_error and portfolio.structured_content["equity_usd"] > 0
    assert isinstance(refused, Exception) or refused.is_error
    raw = _post(server, SET_TARGET, **_bearer(read_token))
    assert raw.status_code == 403 and "read-only" in raw.json()["error"]["message"]
    execute = {
        **SET_TARGET,
        "params": {"name": "execute_rebalance", "arguments": {"plan_id": "x", "confirm_token": "y"}},
    }
    assert _post(server, execute, **_bearer(read_token)).status_code == 403


def test_a_read_only_token_lists_only_the_tools_it_may_call(server, folder):
    made = invoke("mcp-token", "--read-only", env={"REBALANCER_DB": str(folder / "h.db")}, cwd=folder)
    read_token = made.stdout.strip()

    async def go():
        with anyio.fail_after(60):
            async with server.client(read_token) as reader, server.client() as full:
                return (await reader.list_tools()).tools, (await full.list_tools()).tools

    seen, everything = anyio.run(go)
    names, all_names = {t.name for t in seen}, {t.name for t in everything}
    writes = {"execute_rebalance", "set_target_allocation", "pause_trading", "resume_trading", "cancel_open_orders"}
    assert writes <= all_names  # the full token sees every tool
    assert names and not names & writes, names & writes  # the read-only token sees none that change state
    assert {"get_portfolio", "preview_rebalance"} <= names
    assert all(t.annotations.read_only_hint or t.name == "preview_rebalance" for t in seen)


def test_the_full_token_may_change_state_through_the_official_client(server, folder):
    async def go():
        with anyio.fail_after(60):
            async with server.client() as client:
                return await client.call_tool("set_target_allocation", {"weights": {"UBTC/USDC": 0.5, "USDC": 0.5}})

    result = anyio.run(go)
    assert not result.is_error, result
    assert _targets(folder / "h.db")[0] is not None  # it was stored


def test_a_non_loopback_host_is_refused_without_allow_remote(tmp_path):
    p = invoke("mcp", "--http", "--host", "0.0.0.0", "--port", "1", cwd=tmp_path)
    assert p.returncode == 2
    assert p.stderr.strip() == (
        "error: --host 0.0.0.0: not a loopback address; set [mcp] allow_remote = true to serve MCP there"
    )

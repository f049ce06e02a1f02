"""MCP over HTTP is a guarded endpoint: a bearer token on every request, Host and Origin checked (DNS
rebinding), a read-only token held to the read-only tools, loopback unless ``[mcp] allow_remote``.

The console script's server, driven by raw httpx (the attacks) and the official ``mcp`` client (users).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import anyio
import httpx
import pytest
from clirun import run
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


@pytest.fixture
def server(tmp_path: Path) -> Iterator[HttpServer]:
    with serve_http(tmp_path) as s:
        yield s


def _post(server: HttpServer, body: dict, **headers: str) -> httpx.Response:
    return httpx.post(server.url, json=body, headers=ACCEPT | headers, timeout=30)


def _bearer(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_the_first_start_shows_a_token_once_and_stores_only_its_hash(server, tmp_path):
    assert server.token and len(server.token) >= 40
    assert server.token.encode() not in (tmp_path / "h.db").read_bytes()
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


def test_the_reported_attack_a_foreign_host_and_origin_setting_a_target_changes_nothing(server, tmp_path):
    r = _post(server, SET_TARGET, Host="attacker.example", Origin="http://attacker.example")
    assert r.status_code == 403
    code = run("status", "--json", env={"REBALANCER_DB": str(tmp_path / "h.db")}, cwd=tmp_path)
    assert code.returncode == 0
    from agent.adapters.store.db import Store

    store = Store(tmp_path / "h.db")
    try:
        assert store.records.get("target") is None and store.records.get("stored_target") is None
    finally:
        store.close()


def test_a_read_only_token_reads_but_cannot_change_anything(server, tmp_path):
    made = run("mcp-token", "--read-only", env={"REBALANCER_DB": str(tmp_path / "h.db")}, cwd=tmp_path)
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


def test_a_read_only_token_lists_only_the_tools_it_may_call(server, tmp_path):
    made = run("mcp-token", "--read-only", env={"REBALANCER_DB": str(tmp_path / "h.db")}, cwd=tmp_path)
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


def test_the_full_token_may_change_state_through_the_official_client(server):
    async def go():
        with anyio.fail_after(60):
            async with server.client() as client:
                return await client.call_tool("set_target_allocation", {"weights": {"UBTC/USDC": 0.5, "USDC": 0.5}})

    result = anyio.run(go)
    assert not result.is_error, result


def test_a_token_from_the_environment_is_accepted_and_none_is_generated(tmp_path):
    given = "a-token-from-the-environment-0123456789"
    with serve_http(tmp_path, env={"REBALANCER_MCP_TOKEN": given}) as server:
        assert server.token is None
        assert _post(server, INITIALIZE, **_bearer(given)).status_code == 200
        assert _post(server, INITIALIZE, **_bearer("other")).status_code == 401


def test_a_non_loopback_host_is_refused_without_allow_remote(tmp_path):
    p = run("mcp", "--http", "--host", "0.0.0.0", "--port", "1", cwd=tmp_path)
    assert p.returncode == 2
    assert p.stderr.strip() == (
        "error: --host 0.0.0.0: not a loopback address; set [mcp] allow_remote = true to serve MCP there"
    )

"""Bearer tokens for MCP over HTTP: issued once, stored only as a hash, each with a scope.

A token is 32 random bytes (URL-safe text); the database keeps its SHA-256 and its scope (``full``: every
tool the server publishes; ``read``: the tools a read-only server publishes, reads and previews), never the
token. ``REBALANCER_MCP_TOKEN`` (full) and ``REBALANCER_MCP_READ_TOKEN`` (read) give tokens from the
environment instead (secrets are never read from the config file). On the first HTTP start with neither a
stored nor a given token, one full token is issued and shown once.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from agent.adapters.store.db import Store

Scope = Literal["full", "read"]

#: The database record holding ``[{"sha256": ..., "scope": ..., "created_at": ...}, ...]``.
RECORD = "mcp_tokens"
ENV = {"REBALANCER_MCP_TOKEN": "full", "REBALANCER_MCP_READ_TOKEN": "read"}


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _stored(store: Store) -> list[dict[str, str]]:
    rows = store.records.get(RECORD, [])
    return [r for r in rows if isinstance(r, dict)] if isinstance(rows, list) else []


def issue(store: Store, scope: Scope = "full") -> str:
    """A new token of ``scope``: its hash is stored, the token itself is returned once and kept nowhere."""
    token = secrets.token_urlsafe(32)
    row = {"sha256": _digest(token), "scope": scope, "created_at": datetime.now(UTC).isoformat()}
    store.records.set(RECORD, [*_stored(store), row])
    return token


def first_start(store: Store, env: Mapping[str, str]) -> str | None:
    """A full token to show once when none is stored or given; None when one already exists."""
    if _stored(store) or any(env.get(k) for k in ENV):
        return None
    return issue(store, "full")


class TokenCheck:
    """Which scope a presented token has: the stored hashes and the environment's tokens, compared in
    constant time. Built once per server; the stored hashes are re-read on each check (a token issued while
    the server runs works at once)."""

    def __init__(self, store: Store, env: Mapping[str, str]) -> None:
        self.store = store
        self.given = {_digest(env[k]): scope for k, scope in ENV.items() if env.get(k)}

    def scope(self, token: str | None) -> Scope | None:
        if not token:
            return None
        digest = _digest(token)
        rows = [(r.get("sha256", ""), r.get("scope")) for r in _stored(self.store)]
        for known, scope in [*self.given.items(), *rows]:
            if hmac.compare_digest(digest, str(known)) and scope in ("full", "read"):
                return "read" if scope == "read" else "full"
        return None

"""Reads about an address rather than its balances: its role, its API wallets, its rate budget, its TWAPs.

Answer shapes (recorded real answers in ../shared/hl-recorded and Hyperliquid's info-endpoint docs):

- ``userRole``: ``{"role": "user" | "agent" | "vault" | "subAccount" | "missing", "data"?: {...}}``;
  an agent's ``data`` names its master (``{"user": "0x…"}``), a subaccount's its ``master``.
- ``extraAgents``: ``[{"name", "address", "validUntil"}]`` (the API wallets approved for the account).
- ``userRateLimit``: ``{"cumVlm", "nRequestsUsed", "nRequestsCap"}``.
- ``twapHistory``: ``[{"time", "state": {...}, "status": {"status": "activated" | "finished" | "terminated"
  | "error"}, "twapId"?}]``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from agent.core.errors import SnapshotError

Ask = Callable[[dict[str, Any]], Any]


@dataclass(frozen=True)
class Role:
    role: str
    master: str | None = None  # an agent's or a subaccount's master


def user_role(ask: Ask, address: str) -> Role:
    answer = ask({"type": "userRole", "user": address})
    if not isinstance(answer, Mapping) or not isinstance(answer.get("role"), str):
        raise SnapshotError(f"userRole: unexpected answer {str(answer)[:80]!r}")
    raw = answer.get("data")
    data: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
    master = data.get("user") or data.get("master")
    return Role(answer["role"], str(master).lower() if master else None)


def extra_agents(ask: Ask, user: str) -> list[str]:
    answer = ask({"type": "extraAgents", "user": user})
    if not isinstance(answer, list):
        raise SnapshotError("extraAgents: expected a list")
    return [str(a.get("address", "")).lower() for a in answer if isinstance(a, Mapping)]


def rate_limit(ask: Ask, user: str) -> tuple[int, int]:
    """(requests used, cap) of the address's action budget."""
    answer = ask({"type": "userRateLimit", "user": user})
    try:
        return int(answer["nRequestsUsed"]), int(answer["nRequestsCap"])
    except (KeyError, TypeError, ValueError):
        raise SnapshotError("userRateLimit: expected nRequestsUsed and nRequestsCap") from None


def twap_history(ask: Ask, user: str) -> list[dict[str, Any]]:
    answer = ask({"type": "twapHistory", "user": user})
    if not isinstance(answer, list):
        raise SnapshotError("twapHistory: expected a list")
    return [dict(t) for t in answer if isinstance(t, Mapping)]


def active_twaps(history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The TWAPs still running: the latest entry per id whose status is ``activated``."""
    latest: dict[Any, dict[str, Any]] = {}
    for entry in sorted(history, key=lambda t: t.get("time", 0)):
        latest[entry.get("twapId", id(entry))] = entry
    return [t for t in latest.values() if (t.get("status") or {}).get("status") == "activated"]

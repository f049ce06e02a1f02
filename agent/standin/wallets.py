"""API wallets as the account-info reads answer them: ``userRole`` and ``extraAgents``.

An approved API wallet (``approveAgent``, :mod:`agent.standin.user_actions`, or the snapshot's
``approvedAgents``) signs L1 actions for the account until its ``validUntil``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agent.standin.engine import StandIn


def user_role(ex: StandIn, req: Mapping[str, Any], own: bool) -> dict[str, Any]:
    """``{"role": "user"}`` for the account, ``{"role": "agent", "data": {"user": master}}`` for an
    approved API wallet, ``{"role": "missing"}`` for anything else (recorded: ``{"role": "vault"}``)."""
    if own:
        return {"role": "user"}
    address = str(req["user"]).lower()
    if address in ex.agents and ex.is_authorized(address):
        return {"role": "agent", "data": {"user": ex.account.user}}
    return {"role": "missing"}


def extra_agents(ex: StandIn, _req: Mapping[str, Any], own: bool) -> list[dict[str, Any]]:
    """The account's approved API wallets (those still valid), shaped as recorded: ``{name, address, validUntil}``."""
    if not own:
        return []
    now = ex.now_ms()
    return [
        {"name": name, "address": a, "validUntil": until}
        for a, (name, until) in sorted(ex.agents.items())
        if until > now
    ]

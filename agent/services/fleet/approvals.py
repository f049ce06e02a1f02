"""Plans waiting for a person's approval, whoever made them (``fleet run`` in confirm mode, a Temporal tick).

A Temporal tick's plan is approved with ``rebalancer fleet approve WORKFLOW PLAN --confirm TOKEN``. The token
never enters the workflow's history: the worker prints it once, the CLI sends the Update with its hash
(:func:`proof`), and the account's store keeps only the hash of that hash (:func:`arm`), so execution checks
the token exactly as ``rebalancer execute`` does, and nothing written in the history can execute the plan.
A Temporal allocation plan waiting for its approval is recorded in the fleet's store as ``awaiting-approval``
(a status ``fleet execute`` never accepts) and listed with the rest.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from agent.core.errors import ExchangeError
from agent.services.app import utcnow
from agent.services.trading.planning import hash_token

if TYPE_CHECKING:
    from agent.adapters.store.db import Store
    from agent.services.app import Services

_KEY = "approval:"


def proof(token: str) -> str:
    """What an approval sends instead of the token (and what the execution then presents as its token)."""
    return hash_token(token)


def arm(svc: Services, plan_id: str, token: str, *, workflow_id: str) -> str | None:
    """Make a previewed plan executable only with ``proof(token)``; remember which workflow waits for it.

    Returns the check the workflow holds (``hash_token(proof(token))``, the stored hash), or None when the
    plan is no longer previewed."""
    check = hash_token(proof(token))
    if not svc.store.plans.rekey(plan_id, check):
        return None
    svc.store.records.set(_KEY + plan_id, {"workflow_id": workflow_id})
    return check


#: an allocation plan a Temporal ``Allocation`` workflow waits for (``fleet approve``), in the fleet's store
AWAITING = "awaiting-approval"


def allocations(store: Store, now: datetime) -> list[dict[str, Any]]:
    """The allocation plans a Temporal ``Allocation`` waits for in this (the fleet's) store, unexpired."""
    out = []
    for plan_id in store.fleet_plans.with_status((AWAITING,)):
        stored = store.fleet_plans.get(plan_id)
        if stored is None or stored.expires_at is None or stored.expires_at <= now:
            continue
        moves = stored.plan.get("transfers") or []
        out.append(
            {
                "account": "fleet",
                "plan_id": plan_id,
                "expires_at": stored.expires_at.isoformat(),
                "summary": f"{len(moves)} transfers, ${sum(float(t['usd']) for t in moves):,.2f} between accounts",
                "source": stored.source,
                "workflow_id": stored.plan.get("workflow_id"),
            }
        )
    return out


def _now(svc: Services) -> datetime:
    try:
        return svc.exchange_now()
    except ExchangeError:  # the list is informative: a local clock is good enough to hide expired ones
        return utcnow()


def pending(svc: Services) -> list[dict[str, Any]]:
    """This account's previewed plans whose token has not expired (on the exchange's clock when known), and
    in the fleet's store the allocation plans a Temporal workflow waits for."""
    now = _now(svc)
    out = allocations(svc.store, now)
    for stored in svc.store.plans.with_status(("previewed",), account=svc.account):
        if stored.expires_at is None or stored.expires_at <= now:
            continue
        p = stored.plan
        waiting = svc.store.records.get(_KEY + p.plan_id) or {}
        out.append(
            {
                "plan_id": p.plan_id,
                "expires_at": stored.expires_at.isoformat(),
                "summary": (
                    f"{len(p.actions)} trades, turnover ${p.summary.turnover_usd:,.2f}, "
                    f"est. cost ${p.estimated_cost.total_usd:,.2f}"
                ),
                "source": stored.source,
                "workflow_id": waiting.get("workflow_id"),
            }
        )
    return out


def everywhere(svc: Services) -> list[dict[str, Any]]:
    """The pending plans of the configured account and of every ``[[accounts]]`` entry, each with its ``account``."""
    out = [{"account": None, **row} for row in pending(svc)]  # an allocation's row names "fleet"
    for cfg in svc.settings.accounts:
        out += [{"account": cfg.name, **row} for row in pending(svc.for_account(cfg.name))]
    return out

"""The tools of the MCP server, the strategist and the chat, by name and kind: the one list of them.

The registry (``tools/registry.py``) refuses at import a tool this list does not name with the same kind,
so every other list below is derived from here and stays true:

- ``read``: reads the account, the market or the store; changes nothing.
- ``preview``: stores a plan and issues a single-use confirm token; places no order.
- ``write``: changes what the service keeps (the stored target, a rejected preview).
- ``destructive``: trades, cancels, or switches trading off or on.
"""

from __future__ import annotations

from typing import Literal

Kind = Literal["read", "preview", "write", "destructive"]

KINDS: dict[str, Kind] = {
    "get_portfolio": "read",
    "get_drift": "read",
    "get_market": "read",
    "list_strategies": "read",
    "compute_target": "read",
    "get_history": "read",
    "get_performance": "read",
    "get_risk": "read",
    "get_sensitivity": "read",
    "get_tax_lots": "read",
    "get_tax_report": "read",
    "get_plan": "read",
    "preview_rebalance": "preview",
    "set_target_allocation": "write",
    "reject_plan": "write",
    "execute_rebalance": "destructive",
    "cancel_open_orders": "destructive",
    "pause_trading": "destructive",
    "resume_trading": "destructive",
}

READ_ONLY = frozenset(n for n, k in KINDS.items() if k == "read")
#: tools that change state (the stored target, orders, the kill switch): never offered to a model.
CHANGES_STATE = frozenset(n for n, k in KINDS.items() if k in ("write", "destructive"))
#: the strategist's model is offered only reads (a preview issues a token: that is the caller's step).
NOT_FOR_THE_MODEL = frozenset(KINDS) - READ_ONLY
#: read-only tools the strategist is not offered: their answer is already in its prompt (the state summary
#: holds the weights, targets and drift; the catalogue the strategies), or it is about the account's past
#: (cycles, realised performance) rather than the market. Each would cost ~200 prompt tokens per decision.
IN_THE_PROMPT = frozenset({"get_portfolio", "list_strategies", "get_drift", "get_history", "get_performance"})
#: read-only tools a person's client wants and an allocation decision does not (records for tax returns).
FOR_PEOPLE = frozenset({"get_tax_lots", "get_tax_report"})
#: read-only tools about executions, which a decision never needs.
NOT_FOR_DECIDING = frozenset({"get_plan"})
#: the chat's tools: the everyday reads, a preview (a trade needs the person's ``confirm <token>``) and
#: setting the stored target the person asked for.
CHAT = (
    "get_portfolio",
    "get_drift",
    "get_market",
    "list_strategies",
    "get_history",
    "preview_rebalance",
    "set_target_allocation",
)

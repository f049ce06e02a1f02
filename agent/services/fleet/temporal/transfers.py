"""Transfers on the Temporal path: no journal on this machine, the ledger is the record.

Each planned transfer is looked up in its subaccount's ledger first (a ``subAccountTransfer`` line in its
direction, of exactly its amount, no earlier than the plan's time and not matched to an earlier transfer
of this plan); found, it is done. A retried activity that finds nothing waits until the exchange's clock
is past ``expiresAfter`` (a request its dead predecessor sent can no longer land) and looks again; a
transfer still missing then is reported ``unsent`` and the next allocation plans what is still needed.
The kill switch (the fleet's and each involved account's) is read before every transfer: a pause stops the
next one (``unsent``, with the reason).
"""

from __future__ import annotations

import time
from typing import Any

from agent.adapters.hyperliquid.accounts import LedgerTransfer
from agent.core.errors import OrderOutcomeUnknown
from agent.services.fleet.accounts import Fleet
from agent.services.fleet.allocation import paused_reason

SLACK_MS = 5_000


def _match(fleet: Fleet, t: dict[str, Any], since_ms: int, until_ms: int, used: set[str]) -> LedgerTransfer | None:
    master, sub = fleet.master.address, t["sub_account_user"].lower()
    src, dst = (master, sub) if t["direction"] == "deposit" else (sub, master)
    micro = round(float(t["usd"]) * 1_000_000)
    for line in fleet.master.ledger_transfers(sub, since_ms):
        same = (line.source, line.destination, line.usd_micro) == (src, dst, micro)
        if same and line.hash not in used and line.time_ms <= until_ms + SLACK_MS:
            return line
    return None


def run_transfers(fleet: Fleet, plan: dict[str, Any], expires_after_ms: int, *, retried: bool) -> dict[str, Any]:
    since = int(plan.get("planned_ms") or (expires_after_ms - 600_000)) - SLACK_MS
    used: set[str] = set()
    results = []
    for t in plan["transfers"]:
        line = _match(fleet, t, since, expires_after_ms, used)
        if line is None and retried:
            while fleet.master.exchange.server_time_ms(fresh=True) <= expires_after_ms + SLACK_MS:
                time.sleep(0.5)
            line = _match(fleet, t, since, expires_after_ms, used)
            if line is None:
                results.append({**t, "state": "unsent"})
                break
        if line is None:
            if paused := paused_reason(fleet, plan):  # the kill switch is read before every transfer
                results.append({**t, "state": "unsent", "error": paused})
                break
            if fleet.master.exchange.server_time_ms(fresh=True) >= expires_after_ms:
                results.append({**t, "state": "unsent"})
                break
            try:
                answer = fleet.master.transfer(
                    t["sub_account_user"],
                    is_deposit=t["direction"] == "deposit",
                    usd_micro=round(float(t["usd"]) * 1_000_000),
                    expires_after_ms=expires_after_ms,
                )
            except OrderOutcomeUnknown:
                answer = None
            if answer is not None and not answer.ok:
                results.append({**t, "state": "rejected", "error": answer.error})
                break
            line = _match(fleet, t, since, expires_after_ms, used)
            if line is None and answer is None:
                results.append({**t, "state": "unknown"})
                break
        if line is not None:
            used.add(line.hash)
        results.append({**t, "state": "done", "ledger_hash": line.hash if line else None})
    done = sum(1 for r in results if r["state"] == "done")
    status = "executed" if done == len(plan["transfers"]) else ("incomplete" if done else "failed")
    return {"plan_id": plan["plan_id"], "status": status, "transfers": results}

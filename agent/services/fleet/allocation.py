"""Capital across the fleet's accounts: the target shares, the transfer plan, preview, confirm and execute.

The same rules as a plan of orders (:mod:`agent.services.trading.planning`, :mod:`agent.services.trading.execution`): a
preview stores the plan with a single-use confirm token (kept only as a hash) that expires on the
exchange's clock; execute checks the token, the clock skew, the expiry and the kill switch, spends the
token, re-reads every account (refusing when the total moved beyond ``[mcp] state_tolerance`` or a
withdrawal is now larger than what its account can free), then sends the transfers in the plan's order
(withdrawals first) under the lease of every account involved. Each transfer is journaled before it is
signed and looked up in the ledger before anything is resent (:mod:`agent.adapters.store.transfers`).
A plan a killed writer left ``executing`` is resumed by the same token: its open transfers are resolved
first, the ones already done are never sent again.
"""

from __future__ import annotations

import hmac
import logging
import secrets
import time
from contextlib import ExitStack
from datetime import UTC, datetime
from typing import Any

from agent.adapters.store import transfers as tr
from agent.core import allocation as alloc
from agent.core.errors import ConfirmationError, ExchangeError, OrderOutcomeUnknown, TradingPaused, ValidationError
from agent.core.text import safe
from agent.services.app import Services
from agent.services.fleet import approvals
from agent.services.fleet.accounts import Fleet, day_of
from agent.services.trading.execution import exchange_clock
from agent.services.trading.lease import writer
from agent.services.trading.planning import PAUSED, hash_token

log = logging.getLogger("rebalancer.fleet")
_LEDGER_SLACK_MS = 5_000


def target_shares(fleet: Fleet) -> tuple[dict[str, float], dict[str, list[float]]]:
    """The target share of each account by ``[allocation] method``, bounded by min/max weight."""
    cfg = fleet.settings.allocation
    names = list(fleet.accounts)
    returns = {n: fleet.daily_returns(n) for n in names}
    if cfg.method == "fixed":
        raw = cfg.weights or {n: 1 / len(names) for n in names}
        return alloc.fixed_weights(raw), returns
    raw = alloc.risk_parity_weights(returns) if cfg.method == "risk-parity" else alloc.adaptive_weights(returns)
    return alloc.bounded(raw, cfg.min_weight, cfg.max_weight), returns


def correlation_alerts(fleet: Fleet, returns: dict[str, list[float]]) -> tuple[dict[str, Any], list[str]]:
    matrix = alloc.correlation_matrix(returns)
    limit = fleet.settings.allocation.correlation_limit
    names = list(matrix)
    alerts = [
        f"{a} and {b} correlate {c:.2f} (over {limit:.2f})"
        for i, a in enumerate(names)
        for b in names[i + 1 :]
        if (c := matrix[a][b]) is not None and c > limit
    ]
    return matrix, alerts


def plan(fleet: Fleet) -> dict[str, Any]:
    """The allocation plan (nothing stored): shares, targets, drift, the transfers, correlation alerts."""
    books = fleet.books()
    targets, returns = target_shares(fleet)
    cfg = fleet.settings.allocation
    p = alloc.plan_transfers(books, targets, threshold=cfg.threshold, min_transfer_usd=cfg.min_transfer_usd)
    matrix, alerts = correlation_alerts(fleet, returns)
    by_name = {b.name: b for b in books}
    return {
        "plan_id": None,
        "method": cfg.method,
        "rebalance_needed": p.rebalance_needed,
        "reason": p.reason,
        "total_equity_usd": round(p.total_equity, 2),
        "accounts": [
            {
                "name": n,
                "address": by_name[n].address,
                "equity_usd": round(by_name[n].equity, 2),
                "freeable_usd": round(by_name[n].freeable, 2),
                "share": round(p.shares[n], 6),
                "target_share": round(p.targets[n], 6),
                "drift": round(p.drift[n], 6),
            }
            for n in fleet.accounts
        ],
        "transfers": [
            {
                "index": i,
                "account": t.account,
                "sub_account_user": t.sub_account_user,
                "direction": "deposit" if t.is_deposit else "withdraw",
                "usd": t.usd,
            }
            for i, t in enumerate(p.transfers)
        ],
        "shortfalls_usd": p.shortfalls,
        "correlation": matrix,
        "alerts": alerts,
        "as_of": fleet.clock().isoformat(),
    }


def _master_services(fleet: Fleet) -> Services:
    """The master as a Services (its lease and its clock), whether or not it is one of the accounts."""
    for a in fleet.accounts.values():
        if a.config.role == "master":
            return a.services
    return Services(settings=fleet.settings, store=fleet.store, exchange=fleet.master.exchange, clock=fleet.clock)


def preview(fleet: Fleet, *, source: str = "cli") -> dict[str, Any]:
    """Check each account's role, plan, check the kill switch, store with a single-use token (returned once)
    when there is anything to do."""
    fleet.check_roles()
    recover(fleet)
    p = plan(fleet)
    p["plan_id"] = f"alloc-{fleet.clock().strftime('%Y%m%dT%H%M%S')}-{secrets.token_hex(3)}"
    p["confirm_token"] = None
    p["expires_at"] = None
    if not p["transfers"]:
        fleet.store.fleet_plans.add(p, status="nothing-to-do", source=source, reason=p["reason"])
        return p
    if paused := paused_reason(fleet, p):
        fleet.store.fleet_plans.add(p, status="refused", source=source, reason=paused)
        raise TradingPaused(f"{paused}; no confirm token was issued (plan {p['plan_id']})")
    token = secrets.token_urlsafe(18)
    now = datetime.fromtimestamp(fleet.master.exchange.server_time_ms() / 1000, UTC)
    expires = now + fleet.settings.allocation.confirm_ttl
    p["expires_at"] = expires.isoformat()
    fleet.store.fleet_plans.add(p, status="previewed", source=source, token_hash=hash_token(token), expires_at=expires)
    return {**p, "confirm_token": token}


def paused_reason(fleet: Fleet, p: dict[str, Any]) -> str | None:
    """Why the plan may not move money now (the fleet's or an involved account's kill switch), or None."""
    if fleet.store.records.is_paused():
        return PAUSED
    for t in p["transfers"]:
        account = fleet.accounts.get(t["account"])
        if account is not None and account.services.is_paused():
            return f"account {t['account']}: {PAUSED}"
    return None


def execute(fleet: Fleet, plan_id: str, confirm_token: str, *, source: str = "cli") -> dict[str, Any]:
    """Execute a previewed allocation plan once; resumes a plan a killed writer left executing."""
    if not isinstance(plan_id, str) or not isinstance(confirm_token, str) or not confirm_token:
        raise ConfirmationError("plan_id and confirm_token are required strings")
    stored = fleet.store.fleet_plans.get(plan_id)
    if stored is None:
        raise ConfirmationError(f"unknown allocation plan id {plan_id!r}")
    if stored.token_hash is None or not hmac.compare_digest(stored.token_hash, hash_token(confirm_token)):
        raise ConfirmationError("wrong confirm token for this plan")
    resuming = stored.status in ("confirmed", "executing")
    if stored.status != "previewed" and not resuming:
        raise ConfirmationError(f"this plan's token was already used (plan is {stored.status})")
    master_svc = _master_services(fleet)
    if execution_mode(fleet) not in ("local", "live"):
        raise ConfirmationError(f"transfers are not simulated: execution is {execution_mode(fleet)}; nothing was sent")
    now = exchange_clock(master_svc)
    if not resuming and (stored.expires_at is None or now > stored.expires_at):
        fleet.store.fleet_plans.move(plan_id, "expired", expect="previewed")
        raise ConfirmationError("the confirm token has expired; preview again")
    p = stored.plan
    if paused := paused_reason(fleet, p):
        raise TradingPaused(paused)
    involved = sorted({t["account"] for t in p["transfers"]} & set(fleet.accounts))
    with ExitStack() as leases:
        leases.enter_context(writer(master_svc.context, f"allocation {plan_id}"))
        for name in involved:
            svc = fleet.accounts[name].services
            if svc is not master_svc:
                leases.enter_context(writer(svc.context, f"allocation {plan_id}"))
        if not resuming:
            if not fleet.store.fleet_plans.move(plan_id, "confirmed", expect="previewed"):
                raise ConfirmationError("this plan's token was already used")
            try:
                _check_unmoved(fleet, p)
            except (ConfirmationError, ValidationError) as e:
                fleet.store.fleet_plans.move(plan_id, "refused", reason=f"refused: {e}")
                raise
        fleet.store.fleet_plans.move(plan_id, "executing")
        return _run(fleet, p, source=source)


def execution_mode(fleet: Fleet) -> str:
    return fleet.settings.execution_mode


def _check_unmoved(fleet: Fleet, p: dict[str, Any]) -> None:
    books = {b.name: b for b in fleet.books()}
    tol = fleet.settings.mcp.state_tolerance
    before, after = p["total_equity_usd"], sum(b.equity for b in books.values())
    if before > 0 and abs(after - before) / before > tol:
        raise ConfirmationError(
            f"the fleet moved since the preview: equity ${before:,.2f} → ${after:,.2f} (over {tol:.1%}); preview again"
        )
    for t in p["transfers"]:
        if t["direction"] == "withdraw" and t["account"] in books and books[t["account"]].freeable + 0.01 < t["usd"]:
            raise ValidationError(
                f"transfer of ${t['usd']:,.2f} from {t['account']} is larger than it can free now "
                f"(${books[t['account']].freeable:,.2f} without closing positions); preview again"
            )


def _run(fleet: Fleet, p: dict[str, Any], *, source: str) -> dict[str, Any]:
    plan_id = p["plan_id"]
    results, errors = [], []
    for t in p["transfers"]:
        try:
            row = send_once(fleet, plan_id, t)
        except ExchangeError as e:
            errors.append(f"transfer {t['index']} ({t['direction']} {t['account']}): {safe(str(e))}")
            break
        results.append(row)
        if row.state != tr.DONE:
            errors.append(f"transfer {t['index']} ({t['direction']} {t['account']}) ended {row.state}: {row.error}")
            break  # later deposits may count on this withdrawal
    done = sum(1 for r in results if r.state == tr.DONE)
    unresolved = any(r.state in tr.OPEN for r in fleet.store.transfers.for_plan(plan_id))
    status = "executed" if done == len(p["transfers"]) else ("incomplete" if done or unresolved else "failed")
    fleet.store.fleet_plans.move(plan_id, status, reason="; ".join(errors) or None)
    return {
        "plan_id": plan_id,
        "status": status,
        "source": source,
        "transfers": [
            {
                "index": r.idx,
                "account": r.account,
                "usd": r.usd_micro / 1e6,
                "state": r.state,
                "ledger_hash": r.ledger_hash,
            }
            for r in results
        ],
        "transfers_done": done,
        "errors": errors,
    }


def send_once(fleet: Fleet, plan_id: str, t: dict[str, Any]) -> tr.TransferRow:
    """One planned transfer, at most once: journal, sign and send, or resolve what an earlier writer left."""
    journal = fleet.store.transfers
    now_ms = fleet.master.exchange.server_time_ms(fresh=True)
    ttl_ms = int((fleet.master.exchange.order_ttl_s or 30) * 1000)
    usd_micro = round(float(t["usd"]) * 1_000_000)
    is_deposit = t["direction"] == "deposit"
    existing = journal.get(tr.transfer_key(plan_id, t["index"]))
    row = journal.intend(
        plan_id,
        t["index"],
        account=t["account"],
        sub_account_user=t["sub_account_user"],
        is_deposit=is_deposit,
        usd_micro=usd_micro,
        journaled_ms=now_ms,
        expires_after_ms=now_ms + ttl_ms,
    )
    if existing is not None:
        if row.state in tr.OPEN:
            return resolve(fleet, row)
        return row
    journal.mark(row.key, tr.SENT)
    try:
        answer = fleet.master.transfer(
            row.sub_account_user, is_deposit=is_deposit, usd_micro=usd_micro, expires_after_ms=row.expires_after_ms
        )
    except OrderOutcomeUnknown as e:
        journal.mark(row.key, tr.UNKNOWN, error=safe(str(e)))
        return resolve(fleet, journal.get(row.key) or row)
    if not answer.ok:
        return journal.mark(row.key, tr.REJECTED, error=answer.error)
    found = _in_ledger(fleet, row)
    row = journal.mark(row.key, tr.DONE, ledger_hash=found)
    _record_flow(fleet, row)
    return row


def resolve(fleet: Fleet, row: tr.TransferRow) -> tr.TransferRow:
    """An open transfer: DONE when the ledger has it; once the exchange's clock is past its expiresAfter and the
    ledger still has nothing, it can never land: ABANDONED (a new preview plans what is still needed)."""
    journal = fleet.store.transfers
    while True:
        exchange_ms = fleet.master.exchange.server_time_ms(fresh=True)  # read before the lookup
        found = _in_ledger(fleet, row)
        if found is not None:
            row = journal.mark(row.key, tr.DONE, ledger_hash=found)
            _record_flow(fleet, row)
            return row
        expiry = row.expires_after_ms or 0
        if exchange_ms > expiry + _LEDGER_SLACK_MS:
            return journal.mark(row.key, tr.ABANDONED, error="not in the ledger after its expiresAfter")
        time.sleep(min(2.0, max(0.2, (expiry + _LEDGER_SLACK_MS - exchange_ms) / 1000)))


def _in_ledger(fleet: Fleet, row: tr.TransferRow) -> str | None:
    """The hash of the ledger line that is this transfer (direction, exact amount, time window, unclaimed)."""
    master, sub = fleet.master.address, row.sub_account_user
    src, dst = (master, sub) if row.is_deposit else (sub, master)
    since = (row.journaled_ms or 0) - _LEDGER_SLACK_MS
    claimed = fleet.store.transfers.claimed_hashes()
    for line in fleet.master.ledger_transfers(sub, since):
        if (
            line.source == src
            and line.destination == dst
            and line.usd_micro == row.usd_micro
            and line.time_ms <= (row.expires_after_ms or line.time_ms) + _LEDGER_SLACK_MS
            and line.hash not in claimed
        ):
            return line.hash
    return None


def _record_flow(fleet: Fleet, row: tr.TransferRow) -> None:
    day = day_of(fleet.clock())
    usd = row.usd_micro / 1e6
    sign = 1 if row.is_deposit else -1
    fleet.store.equities.add_flow(row.account, day, sign * usd, 0.0)
    for a in fleet.accounts.values():
        if a.config.role == "master":
            fleet.store.equities.add_flow(a.name, day, -sign * usd, 0.0)


def recover(fleet: Fleet) -> list[str]:
    """Under the master's lease: resolve transfers a killed or failed writer left open (in the ledger: done;
    past their expiry and absent: abandoned), so no new plan is made on balances a landing transfer is about
    to change. The plan ids touched."""
    if not fleet.store.transfers.open():
        return []
    touched = []
    with writer(_master_services(fleet).context, "resolve open transfers"):
        for row in fleet.store.transfers.open():
            resolve(fleet, row)
            touched.append(row.plan_id)
    return touched


def status(fleet: Fleet, schedule: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    """One row per account: equity, share against target, drift, last and next tick, paused, and the plans
    waiting for approval (plan id, expiry, summary, the Temporal workflow waiting for it)."""
    p = plan(fleet)
    rows = []
    for row in p["accounts"]:
        account = fleet.accounts[row["name"]]
        svc = account.services
        last = (svc.history(days=3650) or [{}])[0].get("started_at")
        sched = (schedule or {}).get(row["name"], {})
        waiting = approvals.pending(svc)
        nxt = sched.get("next_tick")
        if nxt is None and last:
            nxt = (datetime.fromisoformat(last) + account.interval).isoformat()
        rows.append(
            {
                "name": row["name"],
                "address": row["address"],
                "equity_usd": row["equity_usd"],
                "share": row["share"],
                "target_share": row["target_share"],
                "drift": row["drift"],
                "last_tick": sched.get("last_tick", last),
                "next_tick": nxt,
                "pending_approvals": len(waiting),
                "approvals": waiting,
                "paused": svc.is_paused() or fleet.store.records.is_paused(),
                "autonomy": account.autonomy,
                "interval": str(account.interval),
            }
        )
    waiting_fleet = approvals.allocations(fleet.store, fleet.clock())
    return {
        "allocation_approvals": waiting_fleet,
        "total_equity_usd": p["total_equity_usd"],
        "method": p["method"],
        "rebalance_needed": p["rebalance_needed"],
        "reason": p["reason"],
        "alerts": p["alerts"],
        "accounts": rows,
    }

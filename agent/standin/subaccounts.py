"""Subaccounts in the stand-in: the master's ``subAccounts``, ``subAccountTransfer`` and ``vaultAddress`` orders.

A snapshot's ``"subAccounts"`` key holds that request's answer (Hyperliquid docs, info endpoint, "Retrieve a
user's subaccounts"): ``[{"name", "subAccountUser", "master", "clearinghouseState", "spotState"}, …]`` or
``null``. Each becomes a child :class:`~agent.standin.engine.StandIn` sharing the master's market, books,
lock, clock and nonces, with its own account. Then:

- ``/info`` requests about a subaccount's address are answered from its own account; ``subAccounts`` for
  the master lists them in the same shape; ``userRole`` says ``user`` / ``subAccount`` / ``agent`` /
  ``missing`` (recorded answer shape ``{"role": …}``); ``userNonFundingLedgerUpdates`` lists the
  transfers (``{"time", "hash", "delta": {"type": "subAccountTransfer", "usdc", "user", "destination"}}``).
  An entry may carry ``"userAbstraction"`` (our extension) to seed a subaccount in unified mode.
- ``/exchange`` with ``vaultAddress`` = a subaccount of the signer's master trades that subaccount
  (signed by the master or an agent it approved); ``subAccountTransfer`` (``subAccountUser``,
  ``isDeposit``, ``usd`` = USD × 1e6 as in the SDK's ``Exchange.sub_account_transfer``) moves perp USDC
  between master and subaccount (the unified balance of a unified account), must be signed by the
  master, and never more than the sender can free (``withdrawable``, or the unified balance's free part).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from agent.standin.rules import fmt

if TYPE_CHECKING:
    from agent.standin.engine import StandIn

INFO_KINDS: dict[str, tuple[str, ...]] = {  # answered here (the others by the engine that owns ``user``)
    "subAccounts": ("user",),
    "userRole": ("user",),
    "userNonFundingLedgerUpdates": ("user", "startTime"),
}
_OID_STRIDE = 100_000_000


def attach(master: StandIn, entries: Any) -> None:
    """Build the snapshot's subaccounts as children of ``master`` (``entries``: the ``subAccounts`` answer)."""
    from agent.standin.engine import StandIn

    if entries is None:
        return
    if not isinstance(entries, list):
        raise ValueError("subAccounts: expected a list or null")
    for k, entry in enumerate(entries, 1):
        if not isinstance(entry, Mapping) or "subAccountUser" not in entry:
            raise ValueError("subAccounts: each entry needs subAccountUser, name, clearinghouseState, spotState")
        user = str(entry["subAccountUser"]).lower()
        if str(entry.get("master", master.account.user)).lower() != master.account.user:
            raise ValueError(f"subAccounts: {user} belongs to another master")
        child_snapshot = {
            "user": user,
            "meta": master.snapshot["meta"],
            "spotMeta": master.snapshot.get("spotMeta"),
            "clearinghouseState": entry.get("clearinghouseState"),
            "spotClearinghouseState": entry.get("spotState"),
        }
        if entry.get("userAbstraction"):  # an extension: a subaccount in unified or portfolio-margin mode
            child_snapshot["userAbstraction"] = entry["userAbstraction"]
        child = StandIn.from_snapshot(child_snapshot, fees=master.fees, clock=master.clock)
        child.lock = master.lock
        child.books, child.mids, child.marks = master.books, master.mids, master.marks
        child.markets_by_asset, child.markets_by_coin = master.markets_by_asset, master.markets_by_coin
        child.used_nonces = master.used_nonces  # one signer, one nonce set, whatever it signs for
        child.agents = master.agents
        child.next_oid = master.next_oid + k * _OID_STRIDE
        child.master = master
        child.name = str(entry.get("name") or f"sub{k}")
        master.subaccounts[user] = child


def engine_for(ex: StandIn, user: object) -> StandIn:
    """The engine whose account is ``user`` (a subaccount's), else ``ex`` itself."""
    if isinstance(user, str):
        return ex.subaccounts.get(user.lower(), ex)
    return ex


def vault_engine(ex: StandIn, vault: object) -> StandIn | None:
    """The engine an action with this ``vaultAddress`` trades, or None when the signer may not trade it."""
    if ex.is_user(vault):
        return ex
    if isinstance(vault, str):
        return ex.subaccounts.get(vault.lower())
    return None


def info(ex: StandIn, request: Mapping[str, Any]) -> Any:
    """Answer the subaccount-aware /info kinds (the caller holds the lock)."""
    kind, user = request["type"], str(request.get("user", "")).lower()
    if kind == "subAccounts":
        if user != ex.account.user or not ex.subaccounts:
            return None
        return [_entry(ex, child) for child in ex.subaccounts.values()]
    if kind == "userRole":  # the master's view, plus its subaccounts
        if user in ex.subaccounts:
            return {"role": "subAccount", "data": {"master": ex.account.user}}
        from agent.standin import wallets

        return wallets.user_role(ex, request, ex.is_user(user))
    start, end = int(request["startTime"]), request.get("endTime")
    engine = engine_for(ex, user)
    if engine is ex and user != ex.account.user:
        return []
    return [e for e in engine.ledger if e["time"] >= start and (end is None or e["time"] <= int(end))]


def _entry(ex: StandIn, child: StandIn) -> dict[str, Any]:
    from agent.standin import views

    return {
        "name": child.name,
        "subAccountUser": child.account.user,
        "master": ex.account.user,
        "clearinghouseState": views.clearinghouse_state(child, {}, True),
        "spotState": views.spot_clearinghouse_state(child, {}, True),
    }


def _free(engine: StandIn) -> Decimal:
    """USDC the account can give: perp ``withdrawable`` (standard), or the unified balance's free part."""
    if engine.account.unified:
        from agent.standin import unified

        return unified.usdc_available(engine)
    return engine.perp_summary().withdrawable


def transfer(ex: StandIn, signer: str, action: Mapping[str, Any], nonce: int) -> str | None:
    """Apply a ``subAccountTransfer``; an error text when refused (nothing changes then)."""
    if signer.lower() != ex.account.user:
        return "Stand-in: subAccountTransfer must be signed by the master account."
    sub = ex.subaccounts.get(str(action["subAccountUser"]).lower())
    if sub is None:
        return "Invalid subaccount."
    usd = action["usd"]
    if not isinstance(usd, int) or isinstance(usd, bool) or usd <= 0:
        return "Stand-in: usd must be a positive integer (USD × 1e6)."
    amount = Decimal(usd) / Decimal(1_000_000)
    source, dest = (ex, sub) if action["isDeposit"] else (sub, ex)
    with ex.lock:
        ex.tick()
        if _free(source) < amount:
            return "Insufficient balance for transfer."
        source.account.raw_usd -= amount
        dest.account.raw_usd += amount
        now = ex.now_ms()
        digest = hashlib.sha256(f"{signer}:{nonce}:{usd}:{sub.account.user}".encode()).hexdigest()
        entry = {
            "time": now,
            "hash": "0x" + digest,
            "delta": {
                "type": "subAccountTransfer",
                "usdc": fmt(amount, 6),
                "user": source.account.user,
                "destination": dest.account.user,
            },
        }
        ex.ledger.append(entry)
        sub.ledger.append(entry)
    return None


#: The demo fleet's subaccounts: (name, address, perp USDC, BTC position size). Made-up addresses, no funds.
DEMO_SUBACCOUNTS = (
    ("trend", "0x" + hashlib.sha256(b"rebalancer demo subaccount trend").hexdigest()[:40], 6_000.0, 0.03),
    ("carry", "0x" + hashlib.sha256(b"rebalancer demo subaccount carry").hexdigest()[:40], 1_500.0, 0.0),
)


def perp_state(
    usdc: float, positions: Mapping[str, tuple[float, float]] | None = None, *, time_ms: int = 0
) -> dict[str, Any]:
    """A ``clearinghouseState`` answer: ``usdc`` of raw USDC plus ``{coin: (szi, entry_px)}`` positions at 2x
    (account value at the entry prices, as a fresh snapshot would show)."""
    positions = positions or {}
    raw = Decimal(str(usdc))
    ntl = sum((abs(Decimal(str(s))) * Decimal(str(p)) for s, p in dict(positions).values()), Decimal(0))
    signed = sum((Decimal(str(s)) * Decimal(str(p)) for s, p in dict(positions).values()), Decimal(0))
    value = raw + signed
    margin = ntl / 2
    summary = {
        "accountValue": fmt(value, 6),
        "totalNtlPos": fmt(ntl, 6),
        "totalRawUsd": fmt(raw, 6),
        "totalMarginUsed": fmt(margin, 6),
    }
    return {
        "marginSummary": summary,
        "crossMarginSummary": dict(summary),
        "crossMaintenanceMarginUsed": fmt(margin / 10, 6),
        "withdrawable": fmt(max(value - margin, Decimal(0)), 6),
        "assetPositions": [
            {
                "type": "oneWay",
                "position": {
                    "coin": coin,
                    "szi": str(szi),
                    "leverage": {"type": "cross", "value": 2},
                    "entryPx": str(px),
                    "positionValue": fmt(abs(Decimal(str(szi))) * Decimal(str(px)), 6),
                    "unrealizedPnl": "0.0",
                },
            }
            for coin, (szi, px) in dict(positions).items()
        ],
        "time": time_ms,
    }


def with_subaccounts(snapshot: Mapping[str, Any], subs: Any = DEMO_SUBACCOUNTS) -> dict[str, Any]:
    """``snapshot`` plus a ``subAccounts`` answer: one entry per (name, address, perp USDC, BTC size);
    a BTC position is bought at the snapshot's BTC mid with the USDC it cost taken from the balance."""
    btc = float(snapshot.get("allMids", {}).get("BTC", 0) or 0)
    entries = []
    for name, address, usdc, btc_size in subs:
        positions = {"BTC": (btc_size, btc)} if btc_size and btc else {}
        raw = usdc - (btc_size * btc if positions else 0.0)
        entries.append(
            {
                "name": name,
                "subAccountUser": address,
                "master": str(snapshot["user"]).lower(),
                "clearinghouseState": perp_state(raw, positions, time_ms=int(snapshot.get("time", 0) or 0)),
                "spotState": {"balances": []},
            }
        )
    return {**snapshot, "subAccounts": entries}


def demo_fleet_snapshot() -> dict[str, Any]:
    """The demo account as a master with the demo subaccounts (``rebalancer fleet`` on ``network = "local"``)."""
    from agent.standin.demo import load_demo_snapshot

    return with_subaccounts(load_demo_snapshot())

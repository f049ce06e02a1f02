"""User-signed actions on the stand-in: ``approveAgent``, ``usdClassTransfer``, ``usdSend``, ``withdraw3``.

Each is an EIP-712 message signed by the account's own key (:mod:`agent.standin.signing`), never by an
API wallet: Hyperliquid answers a user-signed action from an address with no funds "Must deposit before
performing actions. User: <address>" (the answer peers got when they signed a transfer with an API
wallet: ccxt issues 24815 and 26215). The message names the chain (``hyperliquidChain``, "Testnet" here
unless the stand-in checks mainnet signing) and carries the request's nonce (``nonce`` or ``time``).

Applied as Hyperliquid applies them (docs, "Exchange endpoint"):

- ``approveAgent``: the API wallet may trade for the account from now on (``extraAgents`` lists it,
  ``userRole`` of its address answers ``agent``); one unnamed wallet and named ones, a new one under the
  same name replacing the old; ``agentName`` may end in ``valid_until <ms>``.
- ``usdClassTransfer``: USDC between spot and the main perp dex of a standard account (``toPerp``);
  ``amount`` may end in ``subaccount:<address>`` to move a subaccount's. A unified or portfolio-margin
  account has one balance: refused ("Stand-in:" text; the real answer was not recorded).
- ``usdSend``: USDC from the perp balance (the unified balance) to another address; to one of the
  account's subaccounts it arrives there, anywhere else it leaves the stand-in.
- ``withdraw3``: USDC out to the bridge, from the withdrawable perp balance; the $1 withdrawal fee is
  taken from the amount.

Each applied transfer is listed in ``userNonFundingLedgerUpdates`` (``accountClassTransfer``, ``send``,
``withdraw``). Answers: ``{"status": "ok", "response": {"type": "default"}}`` or ``{"status": "err",
"response": text}``; nothing changes on a refusal.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from agent.standin import unified
from agent.standin.rules import ZERO, fmt
from agent.standin.signing import USER_SIGNED, recover_user_signer

if TYPE_CHECKING:
    from agent.standin.engine import StandIn

KINDS = frozenset(USER_SIGNED)
WITHDRAW_FEE = Decimal(1)
_NONCE_FIELD = {"approveAgent": "nonce", "usdClassTransfer": "nonce", "usdSend": "time", "withdraw3": "time"}


class Malformed(ValueError):
    """The action lacks a field or holds one of the wrong type (the server answers HTTP 422)."""


def handle(ex: StandIn, action: Mapping[str, Any], nonce: int, signature: Mapping[str, Any]) -> str | None:
    """Authenticate and apply one user-signed action; None when applied, else Hyperliquid's error text."""
    kind = str(action["type"])
    chain = "Mainnet" if ex.mainnet else "Testnet"
    try:
        int(str(action["signatureChainId"]), 16)
        signer = recover_user_signer(action, signature).lower()
        if int(action[_NONCE_FIELD[kind]]) != nonce:
            return f"Stand-in: the action's {_NONCE_FIELD[kind]} must equal the request nonce {nonce}."
    except (KeyError, TypeError, ValueError) as exc:
        raise Malformed(f"malformed {kind} action: {exc}") from exc
    if action.get("hyperliquidChain") != chain:
        return f"Stand-in: hyperliquidChain {action.get('hyperliquidChain')!r} is not this chain ({chain})."
    if signer != ex.account.user:
        return f"Must deposit before performing actions. User: {signer}"
    error = ex.check_nonce(signer, nonce)
    if error:
        return error
    with ex.lock:
        ex.tick()
        try:
            return _APPLY[kind](ex, action, nonce)
        except (KeyError, TypeError, ValueError, InvalidOperation) as exc:
            raise Malformed(f"malformed {kind} action: {exc}") from exc


def _amount(text: Any) -> Decimal:
    amount = Decimal(str(text).strip())
    if not amount.is_finite() or amount <= ZERO:
        raise ValueError(f"amount {text!r} is not a positive number")
    return amount


def _address(value: Any) -> str:
    text = str(value).lower()
    if not (text.startswith("0x") and len(text) == 42):
        raise ValueError(f"{value!r} is not an address")
    return text


def _free(ex: StandIn) -> Decimal:
    """USDC the account may move out: perp ``withdrawable``, or the unified balance's free part."""
    return unified.usdc_available(ex) if ex.account.unified else ex.perp_summary().withdrawable


def _ledger(ex: StandIn, nonce: int, delta: dict[str, Any]) -> None:
    digest = hashlib.sha256(f"{ex.account.user}:{nonce}:{sorted(delta.items())}".encode()).hexdigest()
    ex.ledger.append({"time": ex.now_ms(), "hash": "0x" + digest, "delta": delta})


def _approve_agent(ex: StandIn, action: Mapping[str, Any], _nonce: int) -> str | None:
    address = _address(action["agentAddress"])
    name = str(action.get("agentName") or "")
    until: int | None = None
    if " valid_until " in f" {name}":
        name, _, stamp = f" {name}".rpartition(" valid_until ")
        name, until = name.strip(), int(stamp)
    if address == ex.account.user:
        return "Stand-in: an account cannot approve itself as its API wallet."
    ex.approve_agent(address, name, until)
    return None


def _usd_class_transfer(ex: StandIn, action: Mapping[str, Any], nonce: int) -> str | None:
    text = str(action["amount"])
    target = ex
    if " subaccount:" in text:
        text, _, sub = text.partition(" subaccount:")
        child = ex.subaccounts.get(sub.strip().lower())
        if child is None:
            return "Invalid subaccount."
        target = child
    amount, to_perp = _amount(text), bool(action["toPerp"])
    if target.account.unified:
        return "Stand-in: usdClassTransfer does nothing on a unified or portfolio-margin account (one balance)."
    usdc = target.account.balances.get(0)
    spot_free = usdc.free if usdc is not None else ZERO
    if (spot_free if to_perp else target.perp_summary().withdrawable) < amount:
        return "Insufficient balance for transfer."
    if usdc is None:
        from agent.standin.state import Balance

        usdc = target.account.balances[0] = Balance(token=0, coin="USDC", total=ZERO)
    usdc.total += -amount if to_perp else amount
    target.account.raw_usd += amount if to_perp else -amount
    _ledger(target, nonce, {"type": "accountClassTransfer", "usdc": fmt(amount, 6), "toPerp": to_perp})
    return None


def _take(ex: StandIn, amount: Decimal) -> None:
    """Take USDC out of the perp ledger (a unified account's single balance lives in the same ledgers)."""
    ex.account.raw_usd -= amount


def _usd_send(ex: StandIn, action: Mapping[str, Any], nonce: int) -> str | None:
    amount, destination = _amount(action["amount"]), _address(action["destination"])
    if _free(ex) < amount:
        return "Insufficient balance for transfer."
    _take(ex, amount)
    child = ex.subaccounts.get(destination)
    if child is not None:
        child.account.raw_usd += amount
    delta = {"type": "send", "user": ex.account.user, "destination": destination, "usdc": fmt(amount, 6)}
    _ledger(ex, nonce, {**delta, "fee": "0.0"})
    if child is not None:
        _ledger(child, nonce, {**delta, "fee": "0.0"})
    return None


def _withdraw(ex: StandIn, action: Mapping[str, Any], nonce: int) -> str | None:
    amount = _amount(action["amount"])
    _address(action["destination"])
    if amount <= WITHDRAW_FEE:
        return f"Stand-in: a withdrawal must be more than the ${WITHDRAW_FEE} fee."
    if _free(ex) < amount:
        return "Insufficient balance for withdrawal"
    _take(ex, amount)
    _ledger(ex, nonce, {"type": "withdraw", "usdc": fmt(amount - WITHDRAW_FEE, 6), "nonce": nonce, "fee": "1.0"})
    return None


_APPLY = {
    "approveAgent": _approve_agent,
    "usdClassTransfer": _usd_class_transfer,
    "usdSend": _usd_send,
    "withdraw3": _withdraw,
}
assert set(_APPLY) == KINDS

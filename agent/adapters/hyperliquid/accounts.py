"""The master's view of its accounts: ``subAccounts``, ``userRole``, ``subAccountTransfer`` and the ledger.

Built on the master's :class:`~agent.adapters.hyperliquid.client.HyperliquidExchange` (no ``vaultAddress``:
the master signs transfers for itself). Hyperliquid facts used (API docs, info endpoint and exchange
endpoint; the SDK's ``Exchange.sub_account_transfer``):

- ``subAccounts`` (weight 20) answers ``[{"name", "subAccountUser", "master", "clearinghouseState",
  "spotState"}]`` or ``null``.
- ``subAccountTransfer`` ``{"subAccountUser", "isDeposit", "usd"}`` moves perp USDC master ↔ subaccount;
  ``usd`` is USD × 1e6. It is an L1 action signed by the master; it carries **no client id**.
- ``userNonFundingLedgerUpdates`` lists ``{"time", "hash", "delta": {"type": "subAccountTransfer", "usdc",
  "user", "destination"}}``: the only way to learn whether a transfer whose answer was lost happened.
- ``userRole`` (weight 60) answers ``{"role": "user" | "agent" | "vault" | "subAccount" | "missing", …}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from agent.adapters.hyperliquid import account_info
from agent.adapters.hyperliquid.answers import _unparseable
from agent.adapters.hyperliquid.client import HyperliquidExchange
from agent.core.errors import ExchangeError, OrderOutcomeUnknown, SnapshotError


@dataclass(frozen=True)
class SubAccount:
    name: str
    address: str
    master: str


@dataclass(frozen=True)
class LedgerTransfer:
    """One ``subAccountTransfer`` line of a ledger."""

    time_ms: int
    hash: str
    usd_micro: int
    source: str
    destination: str


@dataclass(frozen=True)
class TransferAnswer:
    ok: bool
    error: str | None = None


class MasterAccount:
    """``MasterAccount(master_exchange)``: the reads and the one write the allocation needs."""

    def __init__(self, exchange: HyperliquidExchange) -> None:
        if exchange.vault_address:
            raise ExchangeError("transfers are signed by the master: its client must have no vault address")
        self.exchange = exchange
        self.address = exchange.user

    def sub_accounts(self) -> list[SubAccount]:
        answer = self.exchange.info.post({"type": "subAccounts", "user": self.address})
        if answer is None:
            return []
        if not isinstance(answer, list):
            raise SnapshotError("subAccounts: expected a list or null")
        return [
            SubAccount(str(e.get("name", "")), str(e["subAccountUser"]).lower(), str(e.get("master", "")).lower())
            for e in answer
            if isinstance(e, Mapping) and "subAccountUser" in e
        ]

    def user_role(self, address: str) -> str:
        """``userRole`` of ``address`` (read by :func:`~agent.adapters.hyperliquid.account_info.user_role`)."""
        return account_info.user_role(self.exchange.info.post, address.lower()).role

    def ledger_transfers(self, address: str, since_ms: int) -> list[LedgerTransfer]:
        body = {"type": "userNonFundingLedgerUpdates", "user": address.lower(), "startTime": int(since_ms)}
        answer = self.exchange.info.post(body)
        if not isinstance(answer, list):
            raise SnapshotError("userNonFundingLedgerUpdates: expected a list")
        out = []
        for e in answer:
            delta = e.get("delta") if isinstance(e, Mapping) else None
            if not isinstance(delta, Mapping) or delta.get("type") != "subAccountTransfer":
                continue
            out.append(
                LedgerTransfer(
                    time_ms=int(e["time"]),
                    hash=str(e.get("hash", "")),
                    usd_micro=round(float(delta["usdc"]) * 1_000_000),
                    source=str(delta.get("user", "")).lower(),
                    destination=str(delta.get("destination", "")).lower(),
                )
            )
        return out

    def transfer(
        self, sub_account: str, *, is_deposit: bool, usd_micro: int, expires_after_ms: int | None = None
    ) -> TransferAnswer:
        """Send one ``subAccountTransfer``. A lost answer raises :class:`OrderOutcomeUnknown` (look it up in
        the ledger before anything is resent); an answer ``status: "err"`` is a refusal (nothing moved)."""
        answer: Any = self.exchange.post_signed(
            lambda sdk: sdk.sub_account_transfer(sub_account, is_deposit, int(usd_micro)),
            "subAccountTransfer",
            1,
            expires_after_ms=expires_after_ms,
        )
        if _unparseable(answer) or not isinstance(answer, Mapping):
            raise OrderOutcomeUnknown("/exchange subAccountTransfer: unreadable answer")
        if answer.get("status") == "ok":
            return TransferAnswer(True)
        return TransferAnswer(False, str(answer.get("response"))[:200])

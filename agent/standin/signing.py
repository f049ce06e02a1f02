"""Recovering who signed an /exchange request, with the SDK's own signing code.

L1 actions (order, cancel, scheduleCancel, updateLeverage...) are signed as an EIP-712 "Agent" whose
``connectionId`` is ``keccak(msgpack(action) || nonce || vault || expiresAfter)`` and whose ``source``
is "a" on mainnet and "b" elsewhere. The SDK signs with "b" for any base URL but mainnet's, so a
loopback stand-in sees "b"; we try both and report each candidate signer.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from eth_account import Account
from eth_account.messages import encode_typed_data
from hyperliquid.utils.signing import action_hash, construct_phantom_agent, l1_payload


def recover_l1_signer(
    action: Mapping[str, Any],
    signature: Mapping[str, Any],
    nonce: int,
    vault_address: str | None,
    expires_after: int | None,
    *,
    is_mainnet: bool,
) -> str:
    """The address that signed this L1 action (a wrong payload recovers to some other address)."""
    digest = action_hash(dict(action), vault_address, nonce, expires_after)
    payload = l1_payload(construct_phantom_agent(digest, is_mainnet))
    message = encode_typed_data(full_message=payload)
    vrs = (int(signature["v"]), _to_int(signature["r"]), _to_int(signature["s"]))
    return str(Account.recover_message(message, vrs=vrs))


def candidate_signers(
    action: Mapping[str, Any],
    signature: Mapping[str, Any],
    nonce: int,
    vault_address: str | None,
    expires_after: int | None,
) -> list[str]:
    """Signers recovered as testnet ("b") first, then mainnet ("a")."""
    return [
        recover_l1_signer(action, signature, nonce, vault_address, expires_after, is_mainnet=flag)
        for flag in (False, True)
    ]


def _to_int(value: Any) -> int:
    return int(value, 16) if isinstance(value, str) else int(value)

"""Recovering who signed an /exchange request, with the SDK's own signing code.

L1 actions (order, cancel, scheduleCancel, updateLeverage...) are signed as an EIP-712 "Agent" whose
``connectionId`` is ``keccak(msgpack(action) || nonce || vault || expiresAfter)`` and whose ``source``
is "a" on mainnet and "b" elsewhere. The SDK signs with "b" for any base URL but mainnet's, so a
loopback stand-in sees "b". A node checks the signature for its own chain only: a testnet signature
sent to mainnet recovers to some other address ("User or API Wallet … does not exist").

User-signed actions (approveAgent, usdClassTransfer, usdSend, withdraw3) are EIP-712 messages in the
"HyperliquidSignTransaction" domain, whose chain id is the action's ``signatureChainId`` (the wallet's
chain, any), typed ``HyperliquidTransaction:<Kind>``; the message names ``hyperliquidChain``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from eth_account import Account
from eth_account.messages import encode_typed_data
from hyperliquid.utils.signing import action_hash, construct_phantom_agent, l1_payload, user_signed_payload


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


#: user-signed kinds: (EIP-712 primary type, message fields), as Hyperliquid's docs and the SDK define them
USER_SIGNED: dict[str, tuple[str, list[dict[str, str]]]] = {
    "approveAgent": (
        "HyperliquidTransaction:ApproveAgent",
        [
            {"name": "hyperliquidChain", "type": "string"},
            {"name": "agentAddress", "type": "address"},
            {"name": "agentName", "type": "string"},
            {"name": "nonce", "type": "uint64"},
        ],
    ),
    "usdClassTransfer": (
        "HyperliquidTransaction:UsdClassTransfer",
        [
            {"name": "hyperliquidChain", "type": "string"},
            {"name": "amount", "type": "string"},
            {"name": "toPerp", "type": "bool"},
            {"name": "nonce", "type": "uint64"},
        ],
    ),
    "usdSend": (
        "HyperliquidTransaction:UsdSend",
        [
            {"name": "hyperliquidChain", "type": "string"},
            {"name": "destination", "type": "string"},
            {"name": "amount", "type": "string"},
            {"name": "time", "type": "uint64"},
        ],
    ),
    "withdraw3": (
        "HyperliquidTransaction:Withdraw",
        [
            {"name": "hyperliquidChain", "type": "string"},
            {"name": "destination", "type": "string"},
            {"name": "amount", "type": "string"},
            {"name": "time", "type": "uint64"},
        ],
    ),
}


def recover_user_signer(action: Mapping[str, Any], signature: Mapping[str, Any]) -> str:
    """The address that signed this user-signed action (``action["type"]`` in :data:`USER_SIGNED`)."""
    primary, fields = USER_SIGNED[str(action["type"])]
    message = {f["name"]: action[f["name"]] for f in fields if f["name"] in action}
    if action["type"] == "approveAgent":
        message.setdefault("agentName", "")  # signed as "" when unnamed, then left out of the request
    payload = user_signed_payload(primary, fields, {**message, "signatureChainId": action["signatureChainId"]})
    payload["message"] = message
    vrs = (int(signature["v"]), _to_int(signature["r"]), _to_int(signature["s"]))
    return str(Account.recover_message(encode_typed_data(full_message=payload), vrs=vrs))


def _to_int(value: Any) -> int:
    return int(value, 16) if isinstance(value, str) else int(value)

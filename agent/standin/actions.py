"""/exchange: authenticate a signed action, check its nonce, and run it on the :class:`StandIn`.

L1 actions are checked against the stand-in's chain only (``StandIn.mainnet``); user-signed actions go to
:mod:`agent.standin.user_actions`.

Response shapes are Hyperliquid's: ``{"status": "ok", "response": {"type": ..., "data": ...}}`` or a
whole-request failure ``{"status": "err", "response": "<text>"}``. Texts the real exchange is known
to use are used verbatim; texts prefixed "Stand-in:" mark behaviour the stand-in does not model.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from agent.standin import subaccounts, user_actions
from agent.standin.signing import recover_l1_signer

if TYPE_CHECKING:
    from agent.standin.engine import StandIn


class BadRequest(ValueError):
    """The body is not a well-formed exchange request (the server answers HTTP 422)."""


def _err(text: str) -> dict[str, Any]:
    return {"status": "err", "response": text}


def _ok(kind: str, data: Any = None) -> dict[str, Any]:
    response: dict[str, Any] = {"type": kind}
    if data is not None:
        response["data"] = data
    return {"status": "ok", "response": response}


def handle_exchange(ex: StandIn, body: Mapping[str, Any]) -> dict[str, Any]:
    """Authenticate and apply one /exchange request body."""
    action, nonce, signature = body.get("action"), body.get("nonce"), body.get("signature")
    if not isinstance(action, Mapping) or not isinstance(action.get("type"), str):
        raise BadRequest("missing field `action`")
    if not isinstance(nonce, int) or not isinstance(signature, Mapping):
        raise BadRequest("missing field `nonce` or `signature`")
    vault = body.get("vaultAddress")
    expires = body.get("expiresAfter")
    if action["type"] in user_actions.KINDS:
        try:
            error = user_actions.handle(ex, action, nonce, signature)
        except user_actions.Malformed as exc:
            raise BadRequest(str(exc)) from exc
        return _err(error) if error else _ok("default")
    try:
        signer = recover_l1_signer(action, signature, nonce, vault, expires, is_mainnet=ex.mainnet)
    except Exception as exc:  # malformed signature or unencodable action
        raise BadRequest(f"invalid signature: {exc}") from exc
    if not ex.is_authorized(signer):
        return _err(f"User or API Wallet {signer.lower()} does not exist.")
    target = ex if vault is None else subaccounts.vault_engine(ex, vault)
    if target is None:
        return _err(f"User or API Wallet {signer.lower()} does not exist.")
    if isinstance(expires, int) and expires < ex.now_ms():
        return _err(f"Stand-in: action expired at {expires}.")
    nonce_error = ex.check_nonce(signer, nonce)
    if nonce_error:
        return _err(nonce_error)
    if action["type"] == "subAccountTransfer":
        try:
            error = subaccounts.transfer(ex, signer, action, nonce)
        except (KeyError, TypeError, ValueError) as exc:
            raise BadRequest(f"malformed subAccountTransfer action: {exc}") from exc
        return _err(error) if error else _ok("default")
    return _dispatch(target, action)


def _dispatch(ex: StandIn, action: Mapping[str, Any]) -> dict[str, Any]:
    kind = action["type"]
    try:
        if kind == "order":
            if action.get("grouping", "na") != "na":
                return _err("Stand-in: only grouping 'na' is supported.")
            orders = action["orders"]
            if not orders:
                return _err("Stand-in: empty order list.")
            return _ok("order", {"statuses": ex.place_orders(list(orders))})
        if kind in ("cancel", "cancelByCloid"):
            statuses = ex.cancel(list(action["cancels"]), by_cloid=kind == "cancelByCloid")
            return _ok("cancel", {"statuses": statuses})
        if kind == "scheduleCancel":
            at = action.get("time")
            error = ex.schedule_cancel(int(at) if at is not None else None)
            return _err(error) if error else _ok("default")
        if kind == "twapOrder":
            return _ok("twapOrder", {"status": ex.place_twap(action["twap"])})
        if kind == "twapCancel":
            return _ok("twapCancel", {"status": ex.cancel_twap(int(action["a"]), int(action["t"]))})
        if kind == "updateLeverage":
            error = ex.update_leverage(
                int(action["asset"]), is_cross=bool(action["isCross"]), leverage=int(action["leverage"])
            )
            return _err(error) if error else _ok("default")
    except (KeyError, TypeError, ValueError) as exc:
        raise BadRequest(f"malformed {kind} action: {exc}") from exc
    return _err(f"Stand-in: unsupported action type {kind}.")

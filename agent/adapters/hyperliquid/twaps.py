"""Native TWAP orders through the SDK's signing helpers (the SDK has no TWAP method).

``twapOrder``: ``{"type": "twapOrder", "twap": {"a": asset, "b": is_buy, "s": size, "r": reduce_only,
"m": minutes, "t": randomize}}`` signed as an L1 action (``sign_l1_action``, as the SDK signs
``scheduleCancel``); the answer's ``response.data.status`` is ``{"running": {"twapId": n}}`` or
``{"error": text}``. ``twapCancel``: ``{"type": "twapCancel", "a": asset, "t": twapId}``. Progress is read
from ``twapHistory`` (``state.executedSz`` / ``executedNtl``, ``status.status``) and the suborders' fills
from ``userTwapSliceFills``. A TWAP carries no cloid: after a crash it is found by its id (journaled as
the row's ``oid``), or by coin, side, size and start time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from hyperliquid.utils.constants import MAINNET_API_URL
from hyperliquid.utils.signing import float_to_wire, get_timestamp_ms, sign_l1_action

from agent.adapters.hyperliquid.account_info import twap_history
from agent.core.errors import TemporaryExchangeError
from agent.core.orders import OrderIntent
from agent.core.rules import round_size_down

if TYPE_CHECKING:
    from agent.adapters.hyperliquid.client import HyperliquidExchange

TwapState = Literal["running", "finished", "terminated", "rejected"]


@dataclass(frozen=True)
class TwapStatus:
    twap_id: int | None
    state: TwapState
    executed_sz: float = 0.0
    executed_ntl: float = 0.0
    started_ms: int | None = None
    error: str | None = None

    @property
    def avg_px(self) -> float | None:
        return self.executed_ntl / self.executed_sz if self.executed_sz > 0 else None


def place_twap(ex: HyperliquidExchange, intent: OrderIntent, minutes: int) -> TwapStatus:
    """Send one TWAP; transport faults raise ``OrderOutcomeUnknown`` (look it up with :func:`find_twap`)."""
    size = round_size_down(intent.size, intent.sz_decimals)
    action = {
        "type": "twapOrder",
        "twap": {
            "a": intent.asset,
            "b": intent.is_buy,
            "s": float_to_wire(size),
            "r": intent.reduce_only,
            "m": int(minutes),
            "t": False,
        },
    }

    def send(sdk: Any) -> Any:
        nonce = get_timestamp_ms()
        signature = sign_l1_action(
            sdk.wallet, action, sdk.vault_address, nonce, sdk.expires_after, sdk.base_url == MAINNET_API_URL
        )
        return sdk._post_action(action, signature, nonce)

    answer = ex._post_exchange(send, "twapOrder", 1, expires_after_ms=intent.expires_after_ms)
    if not isinstance(answer, Mapping) or answer.get("status") != "ok":
        text = answer.get("response") if isinstance(answer, Mapping) else answer
        return TwapStatus(None, "rejected", error=str(text)[:200])
    status = ((answer.get("response") or {}).get("data") or {}).get("status")
    if isinstance(status, Mapping) and isinstance(status.get("running"), Mapping):
        return TwapStatus(int(status["running"]["twapId"]), "running", started_ms=None)
    error = status.get("error") if isinstance(status, Mapping) else status
    return TwapStatus(None, "rejected", error=str(error)[:200])


def cancel_twap(ex: HyperliquidExchange, asset: int, twap_id: int) -> bool:
    action = {"type": "twapCancel", "a": asset, "t": int(twap_id)}

    def send(sdk: Any) -> Any:
        nonce = get_timestamp_ms()
        signature = sign_l1_action(
            sdk.wallet, action, sdk.vault_address, nonce, sdk.expires_after, sdk.base_url == MAINNET_API_URL
        )
        return sdk._post_action(action, signature, nonce)

    answer = ex._post_exchange(send, "twapCancel", 1)
    response = answer.get("response") if isinstance(answer, Mapping) else None
    status = (response.get("data") or {}).get("status") if isinstance(response, Mapping) else None
    return status == "success"


def _status(entry: Mapping[str, Any]) -> TwapStatus:
    state = entry.get("state") or {}
    raw = (entry.get("status") or {}).get("status")
    mapped: TwapState = "running" if raw == "activated" else ("finished" if raw == "finished" else "terminated")
    try:
        return TwapStatus(
            int(entry["twapId"]) if entry.get("twapId") is not None else None,
            mapped,
            float(state.get("executedSz", 0)),
            float(state.get("executedNtl", 0)),
            int(state["timestamp"]) if state.get("timestamp") is not None else None,
            error=None if raw in ("activated", "finished", "terminated") else str(raw),
        )
    except (TypeError, ValueError, KeyError):
        raise TemporaryExchangeError(f"twapHistory: unreadable entry {str(entry)[:120]}") from None


def twap_status(ex: HyperliquidExchange, twap_id: int) -> TwapStatus | None:
    """The TWAP's latest state from ``twapHistory``, or None when it is not there."""
    found = [e for e in twap_history(ex.ask, ex.user) if e.get("twapId") == twap_id]
    return _status(max(found, key=lambda e: e.get("time", 0))) if found else None


def find_twap(ex: HyperliquidExchange, coin: str, is_buy: bool, size: float, since_ms: int) -> TwapStatus | None:
    """A TWAP of ours whose id was never read (lost answer, crash): same coin, side, size, started after."""
    side = "B" if is_buy else "A"
    for entry in twap_history(ex.ask, ex.user):
        state = entry.get("state") or {}
        if (
            state.get("coin") == coin
            and state.get("side") == side
            and abs(float(state.get("sz", 0)) - size) < 1e-9
            and int(state.get("timestamp", 0)) >= since_ms
        ):
            return _status(entry)
    return None

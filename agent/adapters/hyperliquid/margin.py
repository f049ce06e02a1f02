"""An asset's margin mode and leverage: ``updateLeverage`` through the SDK's ``update_leverage``.

``{"type": "updateLeverage", "asset", "isCross", "leverage"}``, signed as an L1 action; Hyperliquid answers
``{"status": "ok", "response": {"type": "default"}}`` or ``{"status": "err", "response": text}`` (e.g.
"Invalid leverage value" over the asset's ``maxLeverage``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from agent.core.errors import OrderOutcomeUnknown, TemporaryExchangeError

if TYPE_CHECKING:
    from agent.adapters.hyperliquid.client import HyperliquidExchange


def update_leverage(ex: HyperliquidExchange, coin: str, leverage: int, *, is_cross: bool) -> str | None:
    """Set ``coin``'s margin mode and leverage (``HyperliquidExchange.update_leverage``): None when applied,
    else the exchange's refusal. Raises ``ExchangeError`` when the request itself fails (setting a leverage
    again is harmless)."""
    wire = ex._wire_name(coin)
    try:
        answer = ex._post_exchange(lambda s: s.update_leverage(int(leverage), wire, is_cross), "updateLeverage", 1)
    except OrderOutcomeUnknown as exc:
        raise TemporaryExchangeError(str(exc)) from None
    if isinstance(answer, Mapping) and answer.get("status") == "ok":
        return None
    text = answer.get("response") if isinstance(answer, Mapping) else answer
    return str(text)[:200] or "refused"

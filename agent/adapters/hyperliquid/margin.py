"""An asset's margin mode and leverage: ``updateLeverage`` through the SDK's ``update_leverage``.

``{"type": "updateLeverage", "asset", "isCross", "leverage"}``, signed as an L1 action; Hyperliquid answers
``{"status": "ok", "response": {"type": "default"}}`` or ``{"status": "err", "response": text}`` (e.g.
"Invalid leverage value" over the asset's ``maxLeverage``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from agent.core.errors import OrderOutcomeUnknown, TemporaryExchangeError

if TYPE_CHECKING:
    from agent.adapters.hyperliquid.twaps import PostSigned


class Margin:
    """``Margin(post_signed, wire_name)``: an asset's margin mode and leverage, set through the signing client."""

    def __init__(self, post_signed: PostSigned, wire_name: Callable[[str], str]) -> None:
        self.post_signed, self.wire_name = post_signed, wire_name

    def update_leverage(self, coin: str, leverage: int, *, is_cross: bool) -> str | None:
        """Set ``coin``'s margin mode and leverage: None when applied, else the exchange's refusal. Raises
        ``ExchangeError`` when the request itself fails (setting a leverage again is harmless)."""
        wire = self.wire_name(coin)
        try:
            answer = self.post_signed(lambda s: s.update_leverage(int(leverage), wire, is_cross), "updateLeverage", 1)
        except OrderOutcomeUnknown as exc:
            raise TemporaryExchangeError(str(exc)) from None
        if isinstance(answer, Mapping) and answer.get("status") == "ok":
            return None
        text = answer.get("response") if isinstance(answer, Mapping) else answer
        return str(text)[:200] or "refused"

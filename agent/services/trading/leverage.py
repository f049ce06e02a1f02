"""Isolated-only perps (common on HIP-3 dexes) margined as the planner assumes them.

Hyperliquid opens a position at the asset's current leverage setting (its default, or whatever the user
last set in the app) unless ``updateLeverage`` sets it, while the planner sizes every perp at 1x. So
before the first open of an isolated-only asset (no position in it yet), the executor sets it: isolated,
``leverage``× (1 by default, never above the asset's ``maxLeverage``).

Journaled like an order, before and after it is asked: the store's record ``leverage:<plan id>:<action>``
is ``PENDING`` (what is about to be asked), then ``SET`` or ``REFUSED`` with the exchange's text. A refusal
or a failed request skips the leg with that reason: nothing is opened at a leverage we did not choose.
Setting a leverage twice is harmless, so a run that died in between simply asks again.
"""

from __future__ import annotations

from typing import Any

from agent.core.domain import MarketInfo, PortfolioState, TradeAction
from agent.core.errors import ExchangeError
from agent.services.ports import LeveragePort

PENDING, SET, REFUSED = "PENDING", "SET", "REFUSED"


def record_key(plan_id: str, index: int) -> str:
    return f"leverage:{plan_id}:{index}"


def needs_isolated_leverage(a: TradeAction, info: MarketInfo | None, state: PortfolioState) -> bool:
    """The first open of an isolated-only perp: nothing held in it yet, and not a reduce."""
    if info is None or info.market != "perp" or not info.only_isolated or a.reduce_only:
        return False
    held = state.positions.get(a.coin)
    return held is None or held.size == 0


def isolated_leverage(info: MarketInfo, configured: int) -> int:
    """The configured leverage (≥ 1), within the asset's maximum."""
    top = info.max_leverage or configured
    return max(1, min(int(configured), int(top)))


def set_isolated_leverage(
    exchange: Any, records: Any, plan_id: str, index: int, a: TradeAction, info: MarketInfo, configured: int
) -> str | None:
    """Ask for isolated ``configured``× on ``a.coin`` (journaled); None when set, else why the leg is skipped."""
    if not isinstance(exchange, LeveragePort):
        return None  # paper and dry-run: nothing to set (paper opens at 1x)
    leverage = isolated_leverage(info, configured)
    key = record_key(plan_id, index)
    entry = {"coin": a.coin, "asset": a.asset, "isCross": False, "leverage": leverage}
    records.set(key, {**entry, "state": PENDING})
    try:
        refusal = exchange.update_leverage(a.coin, leverage, is_cross=False)
    except ExchangeError as exc:
        refusal = f"{type(exc).__name__}: {exc}"
    if refusal is not None:
        records.set(key, {**entry, "state": REFUSED, "error": refusal})
        return f"skipped: setting {a.coin} to isolated {leverage}x was refused ({refusal})"
    records.set(key, {**entry, "state": SET})
    return None

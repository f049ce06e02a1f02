"""Domain rules for a target allocation that need the market and the config."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from pydantic import ValidationError as PydanticError

from agent.core import problems
from agent.core.domain import CASH, Market, TargetAllocation
from agent.core.errors import TargetValidationError


def validate_target(
    target: TargetAllocation,
    market: Market,
    *,
    max_gross_leverage: float = 1.0,
    allowed_assets: Iterable[str] | None = None,
    max_weight: float | None = None,
) -> TargetAllocation:
    """Check ``target`` against the market and limits; raise ``TargetValidationError`` listing every problem.

    Rules: every asset is listed on the exchange (and allowed, when a list is configured); spot weights
    are never negative; gross exposure Σ|w| ≤ ``max_gross_leverage``; a perp's weight is within the
    asset's own ``maxLeverage``; no weight above ``max_weight`` when given.
    """
    problems: list[str] = []
    allowed = set(allowed_assets) if allowed_assets is not None else None
    weights, get = target.weights, market.assets.get
    cap = math.inf if max_weight is None else max_weight + 1e-9
    for coin, w in weights.items():
        info = get(coin)
        if info is None:
            if ":" in coin and "/" not in coin:  # a HIP-3 coin: its dex is not read for this account
                problems.append(
                    f"{coin}: HIP-3 dex {coin.split(':', 1)[0]!r} is not one the account can use here "
                    "(not listed by perpDexs, or not among the dexes read)"
                )
            else:
                problems.append(f"{coin}: not listed on the exchange")
            continue
        if allowed is not None and coin not in allowed:
            problems.append(f"{coin}: not in the allowed assets")
        if w < 0 and info.market == "spot":
            problems.append(f"{coin}: spot weight {w:.4f} is negative (spot cannot be short)")
        size, lev = abs(w), info.max_leverage
        if lev is not None and size > lev:
            problems.append(f"{coin}: |weight| {size:.2f} exceeds the asset's max leverage {lev}")
        if size > cap:
            problems.append(f"{coin}: |weight| {size:.4f} exceeds the max weight {max_weight:.4f}")
    gross = sum(map(abs, weights.values()))
    if gross > max_gross_leverage + 1e-9:
        problems.append(f"gross exposure {gross:.4f} exceeds the configured max leverage {max_gross_leverage:g}")
    if CASH in target.allocations and max_gross_leverage <= 1.0:
        total = gross + target.allocations[CASH]
        if total > 1.0 + 0.01 or total < 1.0 - 0.01:
            problems.append(f"weights sum to {total:.4f}; they must sum to 1")
    if problems:
        raise TargetValidationError(problems)
    return target


def parse_target(data: Any, *, reasoning: str = "", strategy_id: str | None = None) -> TargetAllocation:
    """A bare weight map or the strategist's ``{selected_strategy, target_allocation, reasoning}`` → target.

    Context-free checks only (numbers, sum); ``validate_target`` adds the market's and the config's rules.
    """
    if not isinstance(data, dict):
        raise TargetValidationError(["target: expected a JSON object of asset → weight"])
    try:
        if "target_allocation" in data:
            return TargetAllocation.from_json(data)
        return TargetAllocation(allocations=data, reasoning=reasoning, strategy_id=strategy_id)
    except PydanticError as e:
        raise TargetValidationError([f"invalid target: {problems.one_line(e, skip=1, root='target')}"]) from None

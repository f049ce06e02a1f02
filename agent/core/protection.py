"""Drawdown protection: past a fall of X % from the peak, the target holds less risk.

A clamp on the target, not only an alert: every risk weight is scaled by ``exposure`` (0.5 halves the
exposure), the rest goes to USDC, and the plan's clamps say so. Nothing changes below the threshold.
"""

from __future__ import annotations

from agent.core.domain import CASH, TargetAllocation


def drawdown(peak: float, equity: float) -> float:
    return max(0.0, (peak - equity) / peak) if peak > 0 else 0.0


def clamp_for_drawdown(
    target: TargetAllocation, dd: float, limit: float | None, exposure: float
) -> tuple[TargetAllocation, str | None]:
    """``target`` with risk weights × ``exposure`` when the drawdown ``dd`` reaches ``limit`` (None: off)."""
    if limit is None or dd < limit or exposure >= 1.0:
        return target, None
    weights = {c: w * exposure for c, w in target.weights.items()}
    weights[CASH] = 1.0 - sum(abs(w) for w in weights.values())
    note = (
        f"drawdown protection: the account is {dd:.1%} below its peak (limit {limit:.0%}); "
        f"risk weights scaled to {exposure:.0%}, the rest in USDC"
    )
    clamped = TargetAllocation(allocations=weights, strategy_id=target.strategy_id, reasoning=target.reasoning)
    return clamped, note

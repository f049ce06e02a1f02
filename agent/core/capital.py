"""Two cash pools and the pro-rata rule, shared by the planner and the executor.

On a standard Hyperliquid account spot USDC and perp margin are separate pools (an API wallet cannot move
USDC between them): spot sells fund spot buys, perp reduces free margin for perp opens. When the buys of a
pool want more than it holds, every buy of that pool keeps the same fraction of its size.
"""

from __future__ import annotations

from collections.abc import Mapping

POOLS = ("spot", "perp")


def pro_rata(have: float, want: float) -> float:
    """The fraction of ``want`` that ``have`` pays for: 1 when it all fits, never negative."""
    if want <= have or want <= 0:
        return 1.0
    return max(0.0, have) / want * (1 - 1e-9)


def pool_scales(free: Mapping[str, float], need: Mapping[str, float], *, overall: float = 1.0) -> dict[str, float]:
    """Per pool, the fraction of its buys that fits (capped by ``overall``, the buying-power fraction)."""
    return {pool: min(overall, pro_rata(free.get(pool, 0.0), need.get(pool, 0.0))) for pool in POOLS}

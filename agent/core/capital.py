"""Cash pools by account mode and the pro-rata rule, shared by the planner and the executor.

Which cash pays for a buy depends on the account's mode (:mod:`agent.core.accounts`):

- **standard** (``disabled``/``default``): spot USDC funds spot buys; each perp dex has its own margin
  (``perp`` for the main dex, ``perp:xyz`` for a HIP-3 dex). An API wallet cannot move USDC between
  them (``usdClassTransfer`` needs the master key), so the planner never plans a transfer.
- **dexAbstraction**: as standard, except that HIP-3 dexes margined in USDC draw on the main dex's margin.
- **unified** and **portfolio margin**: one pool per collateral token, in spot (``USDC`` funds spot buys
  and USDC-margined perps of every dex alike). Portfolio margin's extra buying power (borrowing against
  HYPE/BTC) is not modelled: its buying power is bounded by the configured leverage, like any plan's.

When the buys of a pool want more than it holds, every buy of that pool keeps the same fraction of its size.
"""

from __future__ import annotations

from collections.abc import Mapping

from agent.core.accounts import is_unified, mode_name
from agent.core.domain import CASH, MarketInfo, PortfolioState


def pro_rata(have: float, want: float) -> float:
    """The fraction of ``want`` that ``have`` pays for: 1 when it all fits, never negative."""
    if want <= have or want <= 0:
        return 1.0
    return max(0.0, have) / want * (1 - 1e-9)


def pool_scales(free: Mapping[str, float], need: Mapping[str, float], *, overall: float = 1.0) -> dict[str, float]:
    """Per pool, the fraction of its buys that fits (capped by ``overall``, the buying-power fraction)."""
    return {pool: min(overall, pro_rata(free.get(pool, 0.0), need.get(pool, 0.0))) for pool in set(free) | set(need)}


def pool_of(info: MarketInfo, abstraction: str) -> str:
    """The pool that pays for a buy of ``info`` (and that a sell of it refills) under this mode."""
    if is_unified(abstraction):
        return CASH if info.market == "spot" else info.collateral
    if info.market == "spot":
        return "spot"
    if not info.dex or (abstraction == "dexAbstraction" and info.collateral == CASH):
        return "perp"
    return f"perp:{info.dex}"


def free_cash(state: PortfolioState) -> dict[str, float]:
    """What each pool can spend now (above holds and used margin; unified: ``PortfolioState.unified_free``)."""
    if state.unified:
        pools = {CASH: state.unified_free}
        for coin, p in state.positions.items():
            if p.market == "spot" and coin.endswith("/" + CASH) and coin != CASH:
                pools.setdefault(coin.split("/")[0], max(0.0, p.free))  # other collateral tokens (USDH, …)
        return pools
    pools = {"spot": state.spot_usdc_free, "perp": state.perp_free}
    for dex, free in state.dex_withdrawable.items():
        pools[f"perp:{dex}"] = max(0.0, free)
    return pools


def pool_label(pool: str, abstraction: str) -> str:
    """How a plan names a pool that limited a trade, naming the account's mode."""
    mode = mode_name(abstraction)
    if pool == "spot":
        return f"spot USDC ({mode}: spot USDC does not fund perps)"
    if pool == "perp":
        return f"perp margin ({mode}: spot USDC does not fund perps)"
    if pool.startswith("perp:"):
        return f"{pool[5:]} dex margin ({mode}: each perp dex has its own margin)"
    return f"{pool} ({mode}: one {pool} balance funds spot and perps)"

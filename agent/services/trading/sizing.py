"""Buys resized to the cash really there, after the capital-freeing orders ran (the pools of ``core.capital``,
which follow the account's mode: spot USDC and perp margin apart on a standard account, one USDC on a unified one)."""

from __future__ import annotations

from collections.abc import Callable

from agent.core.capital import free_cash, pool_of, pool_scales
from agent.core.domain import Market, MarketType, PortfolioState, RebalancingPlan, TradeAction
from agent.core.rules import round_size_down
from agent.services.trading.reports import ActionReport


def resize_to_cash(
    plan: RebalancingPlan,
    using: list[int],
    state: PortfolioState,
    market: Market,
    reports: list[ActionReport],
    *,
    done: Callable[[int], float],
    limit: Callable[[TradeAction], float],
    fee_rate: Callable[[MarketType], float],
    min_order_value: float,
) -> dict[int, float]:
    """Target size per capital-using action, shrunk pro rata to the cash really there.

    ``done(i)`` is what the journal already filled of action ``i``; ``limit(a)`` its limit price now;
    ``fee_rate(market)`` the fee plus a safety buffer. Under the minimum order after resizing: skipped.
    """
    pools = free_cash(state)

    def pool(a: TradeAction) -> str:
        info = market.get(a.coin)
        if info is None:
            return "spot" if a.market == "spot" and not state.unified else ("perp" if not state.unified else "USDC")
        return pool_of(info, state.abstraction)

    need: dict[int, float] = {}
    remaining: dict[int, float] = {}
    for i in using:
        a = plan.actions[i]
        remaining[i] = max(0.0, a.size - done(i))
        need[i] = remaining[i] * limit(a) * (1 + fee_rate(a.market))
    targets: dict[int, float] = {}
    of = {i: pool(plan.actions[i]) for i in using}
    totals: dict[str, float] = {}
    for i in using:
        totals[of[i]] = totals.get(of[i], 0.0) + need[i]
    scales = pool_scales(pools, totals)
    for name in sorted(set(of.values())):
        free = pools.get(name, 0.0)
        members = [i for i in using if of[i] == name]
        scale = scales[name]
        for i in members:
            a = plan.actions[i]
            already = a.size - remaining[i]
            size = round_size_down(remaining[i] * scale, a.sz_decimals)
            if scale < 1.0:
                reports[i].note = f"resized ×{scale:.4f} to the {name} cash available (${free:.2f})"
            mid = market.mid(a.coin) if market.get(a.coin) else a.notional_usd / max(a.size, 1e-12)
            if remaining[i] > 0 and size * mid < min_order_value:
                reports[i].state = "skipped"
                reports[i].note = (
                    f"skipped: ${size * mid:.2f} after resizing to the {name} cash available "
                    f"(${free:.2f}) is under the ${min_order_value:g} minimum"
                )
                targets[i] = 0.0
                reports[i].target_sz = 0.0
                continue
            targets[i] = already + size
            reports[i].target_sz = targets[i]
    return targets

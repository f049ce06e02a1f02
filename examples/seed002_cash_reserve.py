"""Seed 002 on the demo account: cash-reserve bands, position limits 5–30 %, then the plan.

Run: python examples/seed002_cash_reserve.py
"""

from agent import CashReserve, PortfolioRebalancer, TargetAllocation, load_snapshot
from agent.interfaces.render import print_plan
from agent.standin import load_demo_snapshot
from agent.strategist.allocators import cash_reserve

state, market = load_snapshot(load_demo_snapshot())
current = state.weights(market)
# Weakest first: the seed sells the weakest signal; here AVAX (a perp, smallest) then SOL.
scores = {"UBTC/USDC": 3.0, "UETH/USDC": 2.0, "USOL/USDC": 1.0, "AVAX": 0.0}
weights = cash_reserve(current, scores)
print("target from the cash-reserve rules:", {k: round(v, 4) for k, v in weights.items()})
plan = PortfolioRebalancer(
    rebalance_threshold=0.03, portfolio_threshold=0.05, cash_reserve=CashReserve(), max_weight=0.30, min_weight=0.05
).create_rebalancing_plan(state, TargetAllocation.from_json(weights), market)
print_plan(plan)

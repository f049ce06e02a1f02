"""Seed 000's advisor: equal weight over the top percentile by score, max position, dual thresholds.

Run: python examples/seed000_equal_weight.py
"""

from agent import PortfolioRebalancer, TargetAllocation, load_snapshot
from agent.interfaces.render import print_plan
from agent.standin import load_demo_snapshot
from agent.strategist.allocators import equal_weight

state, market = load_snapshot(load_demo_snapshot())
perps = ["BTC", "ETH", "SOL", "AVAX", "BNB", "LTC", "DOGE", "LINK"]
scores = {c: s for c, s in zip(perps, [71, 78, 65, 31, 55, 40, 48, 62], strict=True)}  # illustrative scores
weights = equal_weight(scores, top_percentile=0.5, max_position=0.125)
print("equal-weight target (top 50 %, max 12.5 %):", weights)
plan = PortfolioRebalancer(rebalance_threshold=0.03, portfolio_threshold=0.05).create_rebalancing_plan(
    state, TargetAllocation.from_json(weights), market
)
print_plan(plan)
print("comparison:", plan.comparison)

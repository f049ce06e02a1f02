"""rebalancer: keep a Hyperliquid portfolio at the allocation its owner wants.

The public surface is exactly ``__all__`` (a test asserts it).
"""

from agent.costs import CostModel
from agent.domain import (
    L2Book,
    Market,
    MarketInfo,
    PortfolioState,
    Position,
    RebalancingPlan,
    TargetAllocation,
    TradeAction,
)
from agent.errors import RebalancerError
from agent.hlparse import load_snapshot
from agent.rebalancer import CashReserve, PortfolioRebalancer
from agent.targets import validate_target

__all__ = [
    "CashReserve",
    "CostModel",
    "L2Book",
    "Market",
    "MarketInfo",
    "PortfolioRebalancer",
    "PortfolioState",
    "Position",
    "RebalancerError",
    "RebalancingPlan",
    "TargetAllocation",
    "TradeAction",
    "load_snapshot",
    "validate_target",
]

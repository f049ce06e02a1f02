"""rebalancer: keep a Hyperliquid portfolio at the allocation its owner wants.

The public surface is exactly ``__all__`` (a test asserts it).
"""

from agent.adapters.hyperliquid.parsing import load_snapshot
from agent.core.costs import CostModel
from agent.core.domain import (
    L2Book,
    Market,
    MarketInfo,
    PortfolioState,
    Position,
    RebalancingPlan,
    TargetAllocation,
    TradeAction,
)
from agent.core.errors import RebalancerError
from agent.core.limits import CashReserve
from agent.core.planner import PortfolioRebalancer
from agent.core.targets import validate_target

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

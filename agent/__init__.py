"""rebalancer: keep a Hyperliquid portfolio at the allocation its owner wants.

The public surface is exactly ``__all__`` (a test asserts it). The names are loaded on first use, so that
importing a part of the package (the command line's ``--help``, say) does not load the planner, numpy,
pydantic or the exchange SDK.
"""

import importlib as _importlib
import typing as _typing

if _typing.TYPE_CHECKING:
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

__version__ = "0.1.0"  # the package's version (pyproject.toml reads it from here)

#: each public name and the module that defines it
_WHERE = {
    "CashReserve": "agent.core.limits",
    "CostModel": "agent.core.costs",
    "L2Book": "agent.core.domain",
    "Market": "agent.core.domain",
    "MarketInfo": "agent.core.domain",
    "PortfolioRebalancer": "agent.core.planner",
    "PortfolioState": "agent.core.domain",
    "Position": "agent.core.domain",
    "RebalancerError": "agent.core.errors",
    "RebalancingPlan": "agent.core.domain",
    "TargetAllocation": "agent.core.domain",
    "TradeAction": "agent.core.domain",
    "load_snapshot": "agent.adapters.hyperliquid.parsing",
    "validate_target": "agent.core.targets",
}

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


def __getattr__(name: str) -> object:
    if name not in _WHERE:
        raise AttributeError(f"module 'agent' has no attribute {name!r}")
    value = getattr(_importlib.import_module(_WHERE[name]), name)
    globals()[name] = value  # once loaded, an ordinary attribute
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])

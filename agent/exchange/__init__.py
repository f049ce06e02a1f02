"""Exchange adapters behind one port: Hyperliquid (real API or the local stand-in) and paper."""

from agent.exchange.hyperliquid import HyperliquidExchange, RateBudget, SecretKey
from agent.exchange.port import Exchange, Fill, OpenOrder, OrderIntent, OrderResult, make_cloid

__all__ = [
    "Exchange",
    "Fill",
    "HyperliquidExchange",
    "OpenOrder",
    "OrderIntent",
    "OrderResult",
    "RateBudget",
    "SecretKey",
    "make_cloid",
]

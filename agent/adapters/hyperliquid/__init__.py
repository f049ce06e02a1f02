"""The Hyperliquid venue: client (through hyperliquid-python-sdk), response parsing, constants and settings."""

from agent.adapters.hyperliquid.client import HyperliquidExchange

__all__ = ["HyperliquidExchange"]

"""Hyperliquid's numbers: base URLs and request weights (Hyperliquid API docs, "Rate limits and user limits")."""

from __future__ import annotations

from hyperliquid.utils import constants

from agent.core.errors import ConfigError

NETWORKS = {
    "mainnet": constants.MAINNET_API_URL,
    "testnet": constants.TESTNET_API_URL,
    "local": constants.LOCAL_API_URL,
}

#: info request weights (Hyperliquid docs, "Rate limits and user limits").
INFO_WEIGHTS = {
    "l2Book": 2,
    "allMids": 2,
    "clearinghouseState": 2,
    "spotClearinghouseState": 2,
    "orderStatus": 2,
    "exchangeStatus": 2,
    "userRole": 60,
    "userAbstraction": 20,
}
DEFAULT_INFO_WEIGHT = 20
#: reads that exist to see change (an order's progress, fills, a TWAP's slices): never answered from a question
POLLED = frozenset(
    {"orderStatus", "userFills", "userFillsByTime", "twapHistory", "userTwapSliceFills", "userTwapSliceFillsByTime"}
)
FILLS_WEIGHT = 40  # 20 + 1 per 20 items returned, paid up front for a typical answer


def exchange_weight(batch: int) -> int:
    return 1 + batch // 40


def resolve_base_url(network: str) -> str:
    """``mainnet`` | ``testnet`` | ``local`` | an http(s) base URL → the base URL."""
    if network in NETWORKS:
        return NETWORKS[network]
    if network.startswith(("http://", "https://")):
        return network.rstrip("/")
    raise ConfigError(f"network: {network!r} is not mainnet, testnet, local or an http(s) URL")

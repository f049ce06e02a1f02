"""Hyperliquid's order rules, in one place: size and price grids, minimum order value.

- Sizes are multiples of 10^-szDecimals; we always round *down* (never trade more than asked).
- Prices have at most 5 significant figures (integers are always allowed) and at most
  ``6 - szDecimals`` decimals for perps, ``8 - szDecimals`` for spot. The SDK's ``float_to_wire``
  raises rather than rounds, so every price goes through here first.
- An order must be worth at least $10 (perps) or 10 quote units (spot).
"""

from __future__ import annotations

import math

import numpy as np

from agent.core.domain import MarketType

MIN_ORDER_VALUE = 10.0
MAX_SIG_FIGS = 5
_EPS = 1e-9


def max_price_decimals(market: MarketType, sz_decimals: int) -> int:
    return (6 if market == "perp" else 8) - sz_decimals


def round_size_down(size: float, sz_decimals: int) -> float:
    """Round a non-negative size down to the lot grid (a hair of float noise is forgiven)."""
    scale = 10.0**sz_decimals
    return round(math.floor(size * scale + _EPS) / scale, sz_decimals)


def price_decimals(px: float, market: MarketType, sz_decimals: int) -> int:
    """Decimals allowed for ``px``: min(5 significant figures, the market's decimal cap), never < 0."""
    if px <= 0:
        return 0
    magnitude = math.floor(math.log10(px))
    return max(0, min(MAX_SIG_FIGS - 1 - magnitude, max_price_decimals(market, sz_decimals)))


def round_price(px: float, market: MarketType, sz_decimals: int, *, up: bool) -> float:
    """Round ``px`` onto the price grid, up or down (callers round toward the mid, inside the slippage)."""
    d = price_decimals(px, market, sz_decimals)
    scale = 10.0**d
    v = math.ceil(px * scale - _EPS) if up else math.floor(px * scale + _EPS)
    out = round(v / scale, d)
    # Rounding can carry into a new magnitude (99999.5 → 100000); re-check the sig-fig rule there.
    return out if is_valid_price(out, market, sz_decimals) else round_price(out, market, sz_decimals, up=up)


def is_valid_price(px: float, market: MarketType, sz_decimals: int) -> bool:
    if not (px > 0 and math.isfinite(px)):
        return False
    if abs(px - round(px)) < 1e-12 * max(1.0, px):
        return True  # integer prices are always allowed
    d = price_decimals(px, market, sz_decimals)
    return abs(px * 10.0**d - round(px * 10.0**d)) < 1e-6


def is_valid_size(size: float, sz_decimals: int) -> bool:
    scaled = size * 10.0**sz_decimals
    return size > 0 and abs(scaled - round(scaled)) < 1e-6


def protected_price(mid: float, is_buy: bool, slippage: float, market: MarketType, sz_decimals: int) -> float:
    """The IOC limit for a market-like order: mid × (1 ± slippage), rounded toward the mid."""
    raw = mid * (1 + slippage) if is_buy else mid * (1 - slippage)
    return round_price(raw, market, sz_decimals, up=not is_buy)


# -- vectorised twins for the planner's hot path ------------------------------------------------


def round_sizes_down(sizes: np.ndarray, sz_decimals: np.ndarray) -> np.ndarray:
    scale = np.power(10.0, sz_decimals)
    return np.round(np.floor(sizes * scale + _EPS) / scale, 12)


def protected_prices(
    mids: np.ndarray, is_buy: np.ndarray, slippage: float, is_perp: np.ndarray, sz_decimals: np.ndarray
) -> np.ndarray:
    raw = np.where(is_buy, mids * (1 + slippage), mids * (1 - slippage))
    magnitude = np.floor(np.log10(raw))
    cap = np.where(is_perp, 6, 8) - sz_decimals
    d = np.maximum(0, np.minimum(MAX_SIG_FIGS - 1 - magnitude, cap))
    scale = np.power(10.0, d)
    rounded = np.where(is_buy, np.floor(raw * scale + _EPS), np.ceil(raw * scale - _EPS)) / scale
    return rounded


def rounded(values: np.ndarray, ndigits: int) -> list[float]:
    """``[round(v, ndigits) for v in values]``, exactly as Python rounds (the decimal value of each float,
    ties to even), for a column at once: ``np.round`` scales first, which can tip a near-tie the other way,
    so the few values that sit within a hair of a tie are rounded by Python itself."""
    scale = 10.0**ndigits
    scaled = values * scale
    near_tie = (np.abs(np.abs(scaled - np.trunc(scaled)) - 0.5) < 1e-6) | ~(np.abs(scaled) < 2.0**52)
    out = np.rint(scaled) / scale
    for i in near_tie.nonzero()[0].tolist():
        out[i] = round(float(values[i]), ndigits)
    return out.tolist()

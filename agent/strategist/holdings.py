"""Weights meet the account: the instrument already held, the caps, and the features every strategy reads."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from agent.core.domain import CASH, Market, MarketInfo, PortfolioState
from agent.core.limits import Limits
from agent.strategist.features import load_daily_closes, market_features
from agent.strategist.library import StrategyCaps


def underlying(info: MarketInfo, market: Market) -> str | None:
    """The perp a spot pair tracks: ``UBTC/USDC`` → ``BTC`` (Hyperliquid's Unit tokens), when listed."""
    base = info.base_token
    if info.market != "spot" or not base:
        return None
    for name in (base, base[1:] if base.startswith("U") else None):
        if name and market.get(name) is not None and market.assets[name].market == "perp":
            return name
    return None


def prefer_held_instruments(
    weights: Mapping[str, float], state: PortfolioState, market: Market
) -> tuple[dict[str, float], list[str]]:
    """Keep a long in the instrument the account already holds it in.

    Strategies speak in perps (their history is keyed by coin); an account holding BTC as spot
    ``UBTC/USDC`` and no BTC perp gets its BTC long as ``UBTC/USDC``: selling spot to buy the same
    exposure as a perp would only pay fees twice. Shorts stay perps (spot cannot be short).
    """
    held_spot = {}
    for coin, pos in state.positions.items():
        info = market.get(coin)
        if info is not None and pos.size > 0 and (perp := underlying(info, market)) is not None:
            held_spot[perp] = coin
    out: dict[str, float] = {}
    notes: list[str] = []
    for coin, w in weights.items():
        spot = held_spot.get(coin)
        if spot is not None and w > 0 and coin not in state.positions:
            out[spot] = out.get(spot, 0.0) + w
            notes.append(f"{coin} {w:.4f} held as spot {spot} (the account holds it there)")
        else:
            out[coin] = out.get(coin, 0.0) + w
    return out, notes


def clamp_weights(
    weights: Mapping[str, float], market: Market, caps: StrategyCaps, limits: Limits
) -> tuple[dict[str, float], list[str]]:
    """Apply the strategy's caps and the config limits; return (weights with USDC, clamp notes).

    Caps each |weight| at the smallest of the strategy's
    max_position, the config's max_weight and the asset's own max leverage, then scales gross exposure
    down to min(strategy max_leverage, config max_gross_leverage, 1). Everything removed goes to USDC.
    Unlisted or disallowed assets are *not* dropped: a configured target naming one is an error that
    ``validate_target`` reports (fail closed), not something to fix silently.
    Gross above 1 is not produced: ``TargetAllocation`` cannot express a leveraged target yet.
    """
    clamps: list[str] = []
    out: dict[str, float] = {}
    for c in sorted(weights):
        w = float(weights[c])
        if c == CASH or w == 0:
            continue
        info = market.get(c)  # unlisted / disallowed assets are kept: validation rejects them, loudly
        cap = caps.max_position
        if limits.max_weight is not None:
            cap = min(cap, limits.max_weight)
        if info is not None and info.max_leverage is not None:
            cap = min(cap, float(info.max_leverage))
        if abs(w) > cap + 1e-12:
            clamps.append(f"{c} {w:+.4f} capped at ±{cap:.4f}")
            w = math.copysign(cap, w)
        if w != 0:
            out[c] = w
    max_gross = min(caps.max_leverage, limits.max_gross_leverage, 1.0)
    gross = sum(abs(w) for w in out.values())
    if gross > max_gross + 1e-12:
        factor = max_gross / gross
        clamps.append(f"gross {gross:.4f} scaled to {max_gross:.4f}")
        out = {c: w * factor for c, w in out.items()}
        gross = sum(abs(w) for w in out.values())
    out = {c: round(w, 10) for c, w in out.items() if abs(w) > 1e-10}
    out[CASH] = round(max(0.0, 1.0 - sum(abs(w) for w in out.values())), 10)
    return out, clamps


def build_features(
    market: Market,
    history_dir: str | Path | None = None,
    funding_history: Mapping[str, Sequence[Mapping[str, Any]]] | None = None,
) -> dict[str, dict[str, float]]:
    """Features for every asset of ``market`` from the shipped (or given) daily history and funding.

    Perps match history by name; a spot pair matches by its base token (``UBTC`` -> ``BTC``). Coins
    without history get only funding features (latest rate from ``MarketInfo.funding``, 7-day figures
    when ``funding_history`` has records for them).
    """
    closes = load_daily_closes(history_dir)
    series: dict[str, np.ndarray] = {}
    for name, info in market.assets.items():
        key = name
        if info.market == "spot" and info.base_token:
            base = info.base_token
            key = base if base in closes else (base[1:] if base.startswith("U") else base)
        if key in closes:
            series[name] = closes[key]
    latest = {c: i.funding for c, i in market.assets.items() if i.market == "perp" and i.funding is not None}
    hist = {c: list(v) for c, v in (funding_history or {}).items() if c in market.assets}
    return market_features(series, hist, latest)

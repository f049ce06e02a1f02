"""Shared fixtures: the shipped real price history and a Market/PortfolioState built from it."""

from __future__ import annotations

import numpy as np
import pytest

from agent.core.domain import Market, MarketInfo, PortfolioState, Position
from agent.strategist.features import load_daily_closes


def make_market(
    closes: dict[str, np.ndarray], funding: dict[str, float] | None = None, spot: dict[str, str] | None = None
) -> Market:
    """Perps for every coin in ``closes`` (mid = last close); ``spot`` adds pairs name -> base token."""
    assets: dict[str, MarketInfo] = {}
    for i, (coin, series) in enumerate(sorted(closes.items())):
        assets[coin] = MarketInfo(
            coin=coin,
            market="perp",
            asset=i,
            wire_name=coin,
            sz_decimals=2,
            max_leverage=10,
            mid=float(series[-1]),
            funding=(funding or {}).get(coin, 0.0000125),
        )
    for j, (pair, base) in enumerate(sorted((spot or {}).items())):
        coin = base[1:] if base.startswith("U") else base
        assets[pair] = MarketInfo(
            coin=pair,
            market="spot",
            asset=10_000 + j,
            wire_name=f"@{j}",
            sz_decimals=2,
            mid=float(closes[coin][-1]),
            base_token=base,
        )
    return Market(assets=assets)


def cash_state(usd: float = 10_000.0) -> PortfolioState:
    return PortfolioState(usdc_spot_total=usd)


def holdings_state(market: Market, values: dict[str, float], cash: float) -> PortfolioState:
    """Long perp positions worth ``values`` USD plus ``cash`` in the perp account (margin = notional)."""
    positions = {c: Position(coin=c, market="perp", size=v / market.mid(c)) for c, v in values.items()}
    # Equity = perp account value; setting it to cash + notional makes each weight value / total.
    total = cash + sum(values.values())
    return PortfolioState(perp_account_value=total, positions=positions)


@pytest.fixture(scope="session")
def closes() -> dict[str, np.ndarray]:
    return load_daily_closes()


@pytest.fixture(scope="session")
def market(closes: dict[str, np.ndarray]) -> Market:
    return make_market(closes)

"""Fixtures for the LLM strategist: a tiny market and catalogue, and a network guard.

The guard: every test runs inside ``respx.mock(assert_all_mocked=True)``, so any HTTP request that no route
matches fails the test; loopback is passed through (the opt-in llama.cpp test talks to a local server).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import respx

from agent.core.domain import Market, MarketInfo, PortfolioState, Position
from agent.core.limits import Limits
from agent.strategist.base import DecisionContext
from agent.strategist.providers import RetryPolicy

FAKE_OPENAI_KEY = "sk-test-openai-0123456789abcdef"
FAKE_ANTHROPIC_KEY = "sk-ant-test-0123456789abcdef"


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[respx.MockRouter]:
    """Fail on any non-mocked, non-loopback HTTP; clear provider env vars so nothing real leaks in."""
    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL", "OPENAI_ORG_ID"):
        monkeypatch.delenv(var, raising=False)
    with respx.mock(assert_all_mocked=True, assert_all_called=False) as router:
        router.route(host__in=("127.0.0.1", "localhost", "::1")).pass_through()
        yield router


@dataclass(frozen=True)
class Strat:
    """A stand-in for ``agent.strategist.library.Strategy``: the fields the strategist reads."""

    id: str
    title: str
    max_position: float
    max_leverage: float
    summary: str = ""


@pytest.fixture
def catalogue() -> dict[str, Strat]:
    return {
        "balanced-growth": Strat("balanced-growth", "Balanced growth", 0.5, 1.0, "Core BTC/ETH plus cash."),
        "risk-off": Strat("risk-off", "Risk off", 0.0, 0.0, "All USDC."),
        "tight": Strat("tight", "Tight caps", 0.2, 0.5, "Small positions only."),
    }


def make_market(extra_coin: str | None = None) -> Market:
    assets = {
        "BTC": MarketInfo(
            coin="BTC",
            market="perp",
            asset=0,
            wire_name="BTC",
            sz_decimals=5,
            max_leverage=40,
            mid=100_000.0,
            funding=0.0000125,
        ),
        "ETH": MarketInfo(
            coin="ETH",
            market="perp",
            asset=1,
            wire_name="ETH",
            sz_decimals=4,
            max_leverage=25,
            mid=4_000.0,
            funding=-0.00001,
        ),
        "DOGE": MarketInfo(
            coin="DOGE", market="perp", asset=7, wire_name="DOGE", sz_decimals=0, max_leverage=1, mid=0.2, funding=0.0
        ),
        "PURR/USDC": MarketInfo(
            coin="PURR/USDC", market="spot", asset=10000, wire_name="PURR/USDC", sz_decimals=0, mid=0.25
        ),
    }
    if extra_coin:
        assets[extra_coin] = MarketInfo(
            coin=extra_coin, market="perp", asset=99, wire_name="X", sz_decimals=0, max_leverage=3, mid=1.0
        )
    return Market(assets=assets)


def make_state() -> PortfolioState:
    """E = 30,000 perp + 10,000 USDC + 40,000 PURR × 0.25 = 50,000; BTC 0.2 long = 0.4, PURR 0.2."""
    return PortfolioState(
        perp_account_value=30_000.0,
        usdc_spot_total=10_000.0,
        positions={
            "BTC": Position(coin="BTC", market="perp", size=0.2, entry_px=90_000.0),
            "PURR/USDC": Position(coin="PURR/USDC", market="spot", size=40_000.0),
        },
    )


@pytest.fixture
def ctx() -> DecisionContext:
    return DecisionContext(
        state=make_state(),
        market=make_market(),
        features={"BTC": {"ret7d": 0.031, "vol30d": 0.42}, "ETH": {"ret7d": -0.012, "vol30d": 0.55}},
        limits=Limits(max_gross_leverage=1.0, max_weight=0.6),
        current_targets={"BTC": 0.4, "ETH": 0.3, "USDC": 0.3},
    )


@pytest.fixture
def no_sleep() -> list[float]:
    """Sleeps the retry policy asked for (tests never sleep)."""
    return []


@pytest.fixture
def retry(no_sleep: list[float]) -> RetryPolicy:
    return RetryPolicy(max_retries=3, base_delay_s=0.5, sleep=no_sleep.append, rand=lambda: 0.5)

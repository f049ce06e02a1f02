"""Fixtures for the execution tests: the demo stand-in over loopback, the real SDK through our adapter,
a fresh journal per test, and the seed-002 style targets."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from agent import PortfolioRebalancer, TargetAllocation
from agent.adapters.hyperliquid.client import HyperliquidExchange
from agent.adapters.store.db import Store
from agent.core.domain import RebalancingPlan
from agent.standin import (
    DEMO_ACCOUNT_ADDRESS,
    DEMO_SECRET_KEY,
    Faults,
    StandInServer,
    load_demo_snapshot,
    serve,
)

SPOT = ("UBTC/USDC", "UETH/USDC", "USOL/USDC")
#: seed 002's scenario: trim BTC/ETH, exit the AVAX perp, 20 % cash.
SEED_002 = {"UBTC/USDC": 0.25, "UETH/USDC": 0.30, "USOL/USDC": 0.25, "AVAX": 0.0, "USDC": 0.20}
#: sells first, then a USOL buy that needs the freed cash.
ROTATE = {"UBTC/USDC": 0.20, "UETH/USDC": 0.20, "USOL/USDC": 0.40, "AVAX": 0.0, "USDC": 0.20}


@pytest.fixture
def server() -> Iterator[StandInServer]:
    with serve(load_demo_snapshot(), faults=Faults()) as srv:
        srv.preexisting = set(srv.exchange.account.orders)  # the demo account's resting order
        yield srv


@pytest.fixture
def make_adapter(server: StandInServer) -> Callable[..., HyperliquidExchange]:
    def make(**kw: Any) -> HyperliquidExchange:
        args: dict[str, Any] = {
            "account_address": DEMO_ACCOUNT_ADDRESS,
            "secret_key": DEMO_SECRET_KEY,
            "timeout": 1.0,
            "order_ttl_s": 0.3,
            "backoff_s": 0.01,
        }
        args.update(kw)
        return HyperliquidExchange(server.url, **args)

    return make


@pytest.fixture
def adapter(make_adapter: Callable[..., HyperliquidExchange]) -> HyperliquidExchange:
    return make_adapter()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(tmp_path / "history.sqlite")
    yield s
    s.close()


def make_plan(exchange: Any, target: dict[str, float], **kw: Any) -> RebalancingPlan:
    state = exchange.account_state()
    market = exchange.market(books=sorted({*state.positions, *target} - {"USDC"}))
    return PortfolioRebalancer(**kw).create_rebalancing_plan(state, TargetAllocation.from_json(target), market)


def exchange_orders(server: StandInServer) -> list[Any]:
    """Every order the stand-in recorded since the test began (placed, filled, rejected with an id...)."""
    with server.exchange.lock:
        return [o for oid, o in server.exchange.account.orders.items() if oid not in server.preexisting]


def cloids_at_exchange(server: StandInServer) -> list[str]:
    return [o.cloid for o in exchange_orders(server) if o.cloid]


def exchange_fills(server: StandInServer) -> list[dict[str, Any]]:
    with server.exchange.lock:
        return list(server.exchange.account.fills)

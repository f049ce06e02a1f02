"""A local Binance seeded with the demo account (seed 002's holdings), per test."""

from __future__ import annotations

import pytest

from agent.standin.binance.seed import demo_snapshot, from_snapshot
from agent.standin.binance.server import BinanceServer


@pytest.fixture
def binance():
    with BinanceServer(from_snapshot(demo_snapshot())) as server:
        yield server

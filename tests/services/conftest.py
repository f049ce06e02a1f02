from __future__ import annotations

import pytest
from doubles import FakeClock

from agent.services.config import Settings
from agent.services.runtime import open_runtime

TARGET = {"UBTC/USDC": 0.25, "UETH/USDC": 0.30, "USOL/USDC": 0.25, "AVAX": 0.0, "USDC": 0.20}


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(network="local", db=str(tmp_path / "history.db"), targets=dict(TARGET))


@pytest.fixture
def services(settings, clock):
    with open_runtime(settings, clock=clock) as svc:
        yield svc

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from agent.services.config import Settings
from agent.services.runtime import open_runtime

TARGET = {"UBTC/USDC": 0.25, "UETH/USDC": 0.30, "USOL/USDC": 0.25, "AVAX": 0.0, "USDC": 0.20}


class FakeClock:
    """A settable clock: tests move time instead of sleeping."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 11, 22, 8, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw: float) -> None:
        self.now += timedelta(**kw)


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

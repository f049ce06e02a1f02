"""Fixtures for the chat: a fresh runtime on the local stand-in per test (demo account, configured targets)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from clirun import made_db

from agent.services.app import Services
from agent.services.config import load_settings
from agent.services.runtime import open_runtime

TARGETS = {"UBTC/USDC": 0.25, "UETH/USDC": 0.30, "USOL/USDC": 0.25, "AVAX": 0.0, "USDC": 0.20}


@pytest.fixture
def services(tmp_path: Any) -> Iterator[Services]:
    settings = load_settings(env={"REBALANCER_DB": str(made_db(tmp_path / "h.db"))})
    settings = settings.model_copy(update={"targets": dict(TARGETS)})
    with open_runtime(settings) as svc:
        yield svc

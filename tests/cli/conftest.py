"""A local-stand-in config with seed 002's targets, shared by the CLI tests."""

from __future__ import annotations

import pytest
from clirun import made_db

TARGET = '"UBTC/USDC" = 0.25\n"UETH/USDC" = 0.30\n"USOL/USDC" = 0.25\nAVAX = 0.0\nUSDC = 0.20\n'


@pytest.fixture
def config(tmp_path):
    cfg = tmp_path / "rebalancer.toml"
    cfg.write_text(f'network = "local"\ndb = "{made_db(tmp_path / "h.db")}"\n\n[targets]\n{TARGET}')
    return cfg

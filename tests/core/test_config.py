"""Config: an invalid file names the key and the problem; secrets only from the environment."""

import pytest

from agent.core.errors import ConfigError
from agent.services.config import load_settings


def write(tmp_path, text):
    p = tmp_path / "rebalancer.toml"
    p.write_text(text)
    return p


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('network = "moon"', "network: must be local, testnet, mainnet or an http(s):// base URL"),
        ('[rebalance]\nmode = "yolo"', "rebalance.mode"),
        ("[rebalance]\nmin_trade_value = 5", "rebalance.min_trade_value"),
        ("[limits]\nmax_weight = 1.5", "limits.max_weight"),
        ('[heartbeat]\ninterval = "soon"', "heartbeat.interval"),
        ('[heartbeat]\nautonomy = "yolo"', "heartbeat.autonomy"),
        ("[cash_reserve]\nmin = 0.3\ntarget = 0.2\nmax = 0.4\nfloor = 0.1", "cash_reserve"),
        ("surprise = 1", "surprise: unknown key"),
        ('secret_key = "0xabc"', "secrets are not read from files"),
        ("this is not toml", "not valid TOML"),
        ('account_address = "0x12"', "account_address"),
        ("live_trading = true", "live_trading: needs network"),
        ('[targets]\n"UBTC/USDC" = 0.7\nUSDC = 0.6', "targets: .*sum"),
        ('[targets]\n"UBTC/USDC" = "lots"', "targets"),
        ('[hyperliquid]\norder_ttl = "1h"', "hyperliquid.order_ttl"),
    ],
    ids=[
        "network",
        "mode",
        "min-trade",
        "max-weight",
        "interval",
        "autonomy",
        "cash-order",
        "unknown",
        "secret",
        "toml",
        "address",
        "live-local",
        "targets-sum",
        "targets-string",
        "order-ttl",
    ],
)
def test_invalid_config_names_the_key(tmp_path, toml, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")) as info:
        load_settings(write(tmp_path, toml), env={})
    assert "\n" not in str(info.value)  # one line, never a pydantic dump


def test_the_example_config_holds_exactly_the_defaults():
    from pathlib import Path

    from agent.services.config import Settings

    example = Path(__file__).resolve().parents[2] / "examples" / "rebalancer.toml"
    assert load_settings(example, env={}).model_dump() == Settings().model_dump()


def test_live_trading_needs_a_key():
    with pytest.raises(ConfigError, match="REBALANCER_SECRET_KEY"):
        load_settings(None, env={"REBALANCER_NETWORK": "testnet", "REBALANCER_LIVE_TRADING": "true"})


def test_defaults_are_local_and_never_live(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    s = load_settings(None, env={})
    assert s.network == "local" and not s.live and s.execution_mode == "local"
    remote = load_settings(None, env={"REBALANCER_NETWORK": "mainnet"})
    assert remote.execution_mode == "paper"


def test_secrets_are_redacted_everywhere(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    key = "0x" + "ab" * 32
    s = load_settings(
        None, env={"REBALANCER_SECRET_KEY": key, "REBALANCER_NETWORK": "testnet", "REBALANCER_LIVE_TRADING": "1"}
    )
    assert s.live and s.execution_mode == "live"
    shown = str(s.redacted()) + repr(s) + str(s.model_dump())
    assert key not in shown and "ab" * 32 not in shown
    assert s.redacted()["secret_key"] == "set (hidden)"

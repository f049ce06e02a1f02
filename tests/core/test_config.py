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


def test_the_environment_overrides_the_file_key_by_key(tmp_path):
    cfg = write(tmp_path, '[heartbeat]\ninterval = "2h"\nautonomy = "advise"\n[strategist]\nprovider = "offline"')
    s = load_settings(cfg, env={"REBALANCER_AUTONOMY": "confirm", "REBALANCER_DB": str(tmp_path / "x.db")})
    assert (s.heartbeat.autonomy, s.heartbeat.interval.total_seconds()) == ("confirm", 7200)
    assert s.db == str(tmp_path / "x.db")
    assert s.strategist.provider == "offline"  # the file's, untouched by the variable it did not set
    assert s.source == f"{cfg} + $REBALANCER_DB + $REBALANCER_AUTONOMY"


def test_a_bad_variable_is_one_line_naming_its_key(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match=r"^heartbeat\.autonomy: .* \(in defaults \+ \$REBALANCER_AUTONOMY\)$"):
        load_settings(None, env={"REBALANCER_AUTONOMY": "yolo"})


def test_settings_alone_are_the_defaults_whatever_the_environment(monkeypatch):
    from agent.services.config import Settings

    monkeypatch.setenv("REBALANCER_NETWORK", "mainnet")
    assert Settings().network == "local"  # only load_settings reads the environment


def test_the_key_is_a_secret_string(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    s = load_settings(None, env={"REBALANCER_SECRET_KEY": "0x" + "cd" * 32, "REBALANCER_KEYSTORE_PASSWORD": ""})
    assert s.secret_key is not None and s.secret_key.get_secret_value() == "0x" + "cd" * 32
    assert s.keystore_password is None  # an empty variable is unset


def test_the_readme_lists_every_variable_read():
    from pathlib import Path

    from agent.services.config_sources import ENV_VARS

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    assert [var for var in ENV_VARS if f"`{var}`" not in readme] == []

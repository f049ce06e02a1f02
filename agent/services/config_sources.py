"""Where the settings come from, in order: the defaults, then the TOML file, then ``REBALANCER_*`` variables.

Both are ``pydantic-settings`` sources of :class:`~agent.services.config.Settings`;
:func:`~agent.services.config.load_settings` chooses them for one load (:func:`sources`), so a bare
``Settings()`` is the defaults alone and never reads the process's environment by surprise.

Every variable read is in :data:`ENV_VARS` (the README lists the same ones; a test holds them equal).
Secrets (the signing key, the keystore's password) are read only from the environment: a file naming one
is refused.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic_settings import PydanticBaseSettingsSource, TomlConfigSettingsSource

from agent.core.errors import ConfigError

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

    from pydantic.fields import FieldInfo
    from pydantic_settings import BaseSettings

#: Every environment variable the settings read, and the key it sets (a section's key dotted).
ENV_VARS: dict[str, str] = {
    "REBALANCER_NETWORK": "network",
    "REBALANCER_ACCOUNT_ADDRESS": "account_address",
    "REBALANCER_VAULT_ADDRESS": "vault_address",
    "REBALANCER_DB": "db",
    "REBALANCER_LIVE_TRADING": "live_trading",
    "REBALANCER_EXECUTION": "execution",
    "REBALANCER_KEYSTORE": "keystore",
    "REBALANCER_LOCAL_SNAPSHOT": "local_snapshot",
    "REBALANCER_AUTONOMY": "heartbeat.autonomy",
    "REBALANCER_PROVIDER": "strategist.provider",
    "REBALANCER_VENUE": "exchange.venue",
    "REBALANCER_SECRET_KEY": "secret_key",
    "REBALANCER_KEYSTORE_PASSWORD": "keystore_password",
    "REBALANCER_BINANCE_API_KEY": "binance_api_key",
    "REBALANCER_BINANCE_SECRET": "binance_secret",
}
#: keys read only from the environment (an empty variable counts as unset).
SECRETS = frozenset({"secret_key", "keystore_password", "binance_api_key", "binance_secret"})

_SOURCES: ContextVar[tuple[PydanticBaseSettingsSource, ...]] = ContextVar("settings_sources", default=())


def chosen() -> tuple[PydanticBaseSettingsSource, ...]:
    """The sources of the load under way (none outside :func:`sources`: the defaults alone)."""
    return _SOURCES.get()


@contextmanager
def sources(*chain: PydanticBaseSettingsSource) -> Iterator[None]:
    """Settings built inside this block read ``chain`` (first wins) after their explicit arguments."""
    token = _SOURCES.set(chain)
    try:
        yield
    finally:
        _SOURCES.reset(token)


def env_vars_set(env: Mapping[str, str]) -> list[str]:
    """The variables of :data:`ENV_VARS` that ``env`` sets (a secret only when not empty)."""
    return [var for var, key in ENV_VARS.items() if var in env and (key not in SECRETS or env[var])]


class EnvVars(PydanticBaseSettingsSource):
    """The ``REBALANCER_*`` variables of :data:`ENV_VARS` found in ``env``, as the settings' nested keys."""

    def __init__(self, settings_cls: type[BaseSettings], env: Mapping[str, str]) -> None:
        super().__init__(settings_cls)
        self.env = env

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # values come whole from __call__

    def __call__(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for var in env_vars_set(self.env):
            *sections, name = ENV_VARS[var].split(".")
            node = data
            for section in sections:
                node = node.setdefault(section, {})
            node[name] = self.env[var]
        return data


class TomlFile(TomlConfigSettingsSource):
    """The TOML file: unreadable TOML or a secret in it is a ``ConfigError`` naming the file or the key."""

    def _read_file(self, file_path: Path | Traversable) -> dict[str, Any]:
        try:
            data = super()._read_file(file_path)
        except tomllib.TOMLDecodeError as e:
            raise ConfigError(f"{file_path}: not valid TOML ({e})") from None
        for secret in sorted(SECRETS & data.keys()):
            raise ConfigError(f"{secret}: secrets are not read from files; set REBALANCER_{secret.upper()}")
        return data

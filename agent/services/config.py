"""Configuration: defaults ← one TOML file ← ``REBALANCER_*`` environment variables (secrets only from the
environment), read by ``pydantic-settings`` (the sources are in :mod:`agent.services.config_sources`).

Example ``rebalancer.toml``::

    network = "local"                 # local | testnet | mainnet | http(s)://base-url
    live_trading = false              # must be true (with a key and a non-local network) to trade real money
    db = "rebalancer.db"

    [targets]                         # optional fixed targets; USDC is the remainder
    "UBTC/USDC" = 0.25
    "UETH/USDC" = 0.30

    [rebalance]
    mode = "threshold"                # threshold | band | calendar | cash-flow
    position_threshold = 0.05
    portfolio_threshold = 0.05

    [limits]
    max_weight = 0.30
    max_notional_per_cycle_usd = 50000

    [heartbeat]
    interval = "4h"
    autonomy = "advise"               # advise | confirm | auto

An invalid file raises ``ConfigError`` naming the key and the problem.
"""

from __future__ import annotations

import math
import os
import re
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic import ValidationError as PydanticError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from agent.adapters.hyperliquid.settings import HyperliquidSettings
from agent.core import problems
from agent.core.durations import parse_duration
from agent.core.errors import ConfigError, TargetValidationError
from agent.core.limits import CashReserve, Limits
from agent.core.signals import SignalRules
from agent.core.targets import parse_target
from agent.core.text import without_passwords
from agent.services import config_sources
from agent.services.fleet.config import AccountConfig, AllocationConfig, FleetConfig, check_fleet

DEFAULT_CONFIG = "rebalancer.toml"
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
#: The hard limits when the config names none: caps on what one cycle and one day may trade.
DEFAULT_LIMITS = Limits(max_notional_per_cycle_usd=1_000_000.0, max_notional_per_day_usd=5_000_000.0)


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True)


Fraction = Field(ge=0, le=1)


class RebalanceConfig(_Section):
    mode: Literal["threshold", "band", "calendar", "cash-flow", "cost-aware"] = "threshold"
    position_threshold: float = Field(0.05, ge=0, le=1)
    portfolio_threshold: float = Field(0.05, ge=0, le=1)
    band: float = Field(0.05, ge=0, le=1)
    band_kind: Literal["absolute", "relative"] = "absolute"
    calendar_days: Literal[3, 7, 14] = 3
    min_trade_value: float = Field(10.0, ge=10.0, description="Hyperliquid rejects orders under $10")
    max_slippage: float = Field(0.005, gt=0, le=0.05)
    max_trades: int | None = Field(None, ge=1)
    drift_aversion: float = Field(2e-5, gt=0, le=1, description="cost-aware mode: the one knob")
    twap_over_usd: float = Field(
        10_000.0, ge=0, description="legs above this go out as a native TWAP (0: only where the book is too thin)"
    )
    isolated_leverage: int = Field(
        1, ge=1, le=100, description="isolated-only perps are set to this leverage (within their max) before opening"
    )


class RiskConfig(_Section):
    """Correlation monitor and drawdown protection."""

    max_correlation: float = Field(0.8, gt=0, le=1, description="alert when the holdings' average passes it")
    correlation_window: int = Field(30, ge=5, le=365, description="days of daily returns")
    max_drawdown: float | None = Field(None, gt=0, lt=1, description="protection threshold (None: off)")
    drawdown_exposure: float = Field(0.5, ge=0, le=1, description="risk weights × this past the threshold")


class TaxConfig(_Section):
    """Tax lots: which lots a spot sell consumes and what it realises (``none``: tax logic off)."""

    jurisdiction: Literal["none", "us", "de", "uk"] = "none"
    lot_selection: Literal["fifo", "lifo", "hifo", "spec"] | None = Field(
        None, description="default: fifo (de: fifo per account; uk: matching rules, no choice)"
    )
    long_term_preference: bool = False
    wash_sale_days: int = Field(0, ge=0, le=366, description="no buy of an asset this many days after a loss sale")
    wash_sale_substitute: dict[str, str] = Field(
        default_factory=dict, description="where a blocked buy goes instead, e.g. {'UBTC/USDC' = 'BTC'}"
    )
    harvest: bool = False
    harvest_min_loss_usd: float = Field(100.0, ge=0)
    short_term_rate: float = Field(0.35, ge=0, le=1, description="for the savings estimate (us: short; de: taxable)")
    long_term_rate: float = Field(0.15, ge=0, le=1, description="for the savings estimate (us: long-term)")
    uk_rate: float = Field(0.24, ge=0, le=1, description="for the savings estimate (uk)")
    de_exemption_limit: float = Field(1000.0, ge=0, description="de: the yearly limit for gains held ≤ 1 year")

    @property
    def on(self) -> bool:
        return self.jurisdiction != "none"

    @property
    def method(self) -> Literal["fifo", "lifo", "hifo", "spec"]:
        return self.lot_selection or "fifo"


class ExchangeConfig(_Section):
    """Which venue the account is on. ``binance``/``binanceus``: Binance spot through ccxt; the key and secret come
    only from ``REBALANCER_BINANCE_API_KEY`` and ``REBALANCER_BINANCE_SECRET``."""

    venue: Literal["hyperliquid", "binance", "binanceus"] = "hyperliquid"
    quote: str | None = Field(None, description="Binance: the quote buys spend (default USD on binanceus, else USDT)")
    allow_withdrawal_keys: bool = Field(
        False, description="Binance: trade with autonomy auto on a key that may withdraw (doctor refuses it otherwise)"
    )

    @property
    def is_binance(self) -> bool:
        return self.venue in ("binance", "binanceus")


class SignalsConfig(_Section):
    """Signal rules (a target from the holdings' signals and a cash reserve); used when no target is given,
    configured or stored, instead of the strategist."""

    enabled: bool = False
    min_cash: float = Field(SignalRules.min_cash, ge=0, le=1)
    target_cash: float = Field(SignalRules.target_cash, ge=0, le=1)
    max_cash: float = Field(SignalRules.max_cash, ge=0, le=1)
    cash_floor: float = Field(SignalRules.cash_floor, ge=0, le=1, description="never go below, even for a strong buy")
    min_position: float = Field(SignalRules.min_position, ge=0, le=1)
    max_position: float = Field(SignalRules.max_position, ge=0, le=1)
    sell_on_signal: bool = SignalRules.sell_on_signal
    min_hold_minutes: float = Field(
        SignalRules.min_hold_minutes, ge=0, description="a holding bought less than this ago is not sold"
    )
    stop_loss_protection: float | None = Field(
        SignalRules.stop_loss_protection,
        gt=0,
        lt=1,
        description="no signal sell while a holding is more than this under its entry (None: off)",
    )

    def rules(self) -> SignalRules:
        """The pure rules these settings describe (the same fields, the same defaults)."""
        return SignalRules(**self.model_dump(exclude={"enabled"}))

    @model_validator(mode="after")
    def _order(self) -> SignalsConfig:
        if not self.cash_floor <= self.min_cash <= self.target_cash <= self.max_cash:
            raise ValueError("cash bounds must satisfy cash_floor ≤ min_cash ≤ target_cash ≤ max_cash")
        if self.min_position > self.max_position:
            raise ValueError("min_position must not exceed max_position")
        return self


class HeartbeatConfig(_Section):
    interval: timedelta = timedelta(hours=4)
    autonomy: Literal["advise", "confirm", "auto"] = "advise"
    max_notional_per_tick_usd: float = Field(2_000.0, gt=0)
    max_notional_per_day_usd: float = Field(10_000.0, gt=0)
    max_trades_per_tick: int = Field(4, ge=1)
    drawdown_alert: float = Field(0.15, gt=0, le=1)
    alert_cooldown: timedelta = timedelta(hours=1)
    confirm_ttl: timedelta = Field(
        timedelta(minutes=15), description="life of a confirm-mode tick's token (at most one interval)"
    )
    webhook_url: str | None = None

    @field_validator("interval", "alert_cooldown", "confirm_ttl", mode="before")
    @classmethod
    def _duration(cls, v: Any) -> Any:
        return parse_duration(v) if isinstance(v, str | int | float) else v


class ScoreWeights(_Section):
    """Viability weights: how the offline strategist scores a coin (a weighted sum of ratios).

    ``momentum`` weighs the 90-day return over its 90-day volatility, ``trend`` the 30-day return over its
    30-day volatility; the default (1, 0) is the pure 90-day risk-adjusted momentum.
    """

    momentum: float = Field(1.0, ge=0, le=1)
    trend: float = Field(0.0, ge=0, le=1)

    @model_validator(mode="after")
    def _some_weight(self) -> ScoreWeights:
        if self.momentum + self.trend <= 0:
            raise ValueError("at least one score weight must be above 0")
        return self


class StrategistConfig(_Section):
    provider: Literal["offline", "openai", "anthropic", "openai-compatible"] = "offline"
    model: str | None = None
    base_url: str | None = None
    max_attempts: int = Field(3, ge=1, le=10)
    max_tool_calls: int = Field(6, ge=0, le=50)
    max_model_calls: int = Field(6, ge=1, le=50, description="model requests one decision may make")
    max_data_age: timedelta = Field(
        timedelta(days=2), description="a live decision on market history older than this fails closed"
    )
    timeout_s: float = Field(60.0, gt=0)
    strategy: str = Field("auto", description="auto (chosen by its preconditions) or a library strategy id")
    top_percentile: float = Field(0.5, ge=0.1, le=1, description="keep this fraction of coins, best score first")
    score_weights: ScoreWeights = ScoreWeights()

    @field_validator("max_data_age", mode="before")
    @classmethod
    def _age(cls, v: Any) -> Any:
        return parse_duration(v) if isinstance(v, str | int | float) else v

    @field_validator("strategy")
    @classmethod
    def _strategy(cls, v: str) -> str:
        if v == "auto":
            return v
        from agent.strategist.library import load_strategies

        known = sorted(load_strategies())
        if v not in known:
            raise ValueError(f"must be auto or one of {', '.join(known)}")
        return v


class ChatConfig(_Section):
    """``rebalancer chat``: how many model requests one question may cost."""

    max_model_calls: int = Field(8, ge=1, le=50, description="model requests one chat turn may make")


class WebConfig(_Section):
    """The advisor page (``rebalancer web``): where it listens, and whether it may be reached from elsewhere."""

    host: str = "127.0.0.1"
    port: int = Field(8780, ge=1, le=65535)
    read_only: bool = False
    allow_remote: bool = False
    allow_loosen: bool = False  # settings stored from the page may loosen this file's (else: only tighten)

    def check_host(self, host: str) -> None:
        """A host other than loopback needs ``allow_remote = true``: the page can trade."""
        if host not in LOOPBACK_HOSTS and not self.allow_remote:
            raise ConfigError(
                f"--host {host}: not a loopback address; set [web] allow_remote = true to serve the advisor there"
            )


class McpConfig(_Section):
    read_only: bool = False
    allow_remote: bool = False  # serve HTTP on a non-loopback address (a token is needed either way)
    allowed_hosts: list[str] = Field(default_factory=list, description="extra Host values (host:port) for HTTP")
    allowed_origins: list[str] = Field(default_factory=list, description="browser origins allowed over HTTP")
    confirm_ttl: timedelta = timedelta(minutes=5)
    state_tolerance: float = Field(0.01, gt=0, le=0.5, description="equity move allowed between preview and execute")

    @field_validator("confirm_ttl", mode="before")
    @classmethod
    def _duration(cls, v: Any) -> Any:
        return parse_duration(v) if isinstance(v, str | int | float) else v

    def check_host(self, host: str) -> None:
        """A host other than loopback needs ``allow_remote = true``: the tools can trade."""
        if host not in LOOPBACK_HOSTS and not self.allow_remote:
            raise ConfigError(
                f"--host {host}: not a loopback address; set [mcp] allow_remote = true to serve MCP there"
            )


class LeaseConfig(_Section):
    """One writer per account: how long a lease lives unrenewed, and how long a second writer waits."""

    ttl: timedelta = timedelta(seconds=60)
    wait: timedelta = timedelta(seconds=10)

    @field_validator("ttl", "wait", mode="before")
    @classmethod
    def _duration(cls, v: Any) -> Any:
        return parse_duration(v) if isinstance(v, str | int | float) else v


class Settings(BaseSettings):
    """Everything configurable. Secrets come only from the environment and are ``SecretStr``.

    ``Settings()`` is the defaults (with any keys passed); :func:`load_settings` adds the file and the
    environment as its sources."""

    model_config = SettingsConfigDict(extra="forbid", validate_default=True)

    network: str = "local"
    live_trading: bool = False
    execution: Literal["auto", "paper", "dry-run"] = "auto"
    account_address: str | None = None
    vault_address: str | None = None
    keystore: str | None = None
    local_snapshot: str | None = Field(None, description="snapshot that seeds the in-process stand-in")
    db: str = "rebalancer.db"
    targets: dict[str, float] | None = None
    rebalance: RebalanceConfig = RebalanceConfig()
    cash_reserve: CashReserve | None = None
    limits: Limits = DEFAULT_LIMITS
    heartbeat: HeartbeatConfig = HeartbeatConfig()
    risk: RiskConfig = RiskConfig()
    tax: TaxConfig = TaxConfig()
    strategist: StrategistConfig = StrategistConfig()
    chat: ChatConfig = ChatConfig()
    mcp: McpConfig = McpConfig()
    hyperliquid: HyperliquidSettings = HyperliquidSettings()
    exchange: ExchangeConfig = ExchangeConfig()
    signals: SignalsConfig = SignalsConfig()
    lease: LeaseConfig = LeaseConfig()
    web: WebConfig = WebConfig()
    accounts: list[AccountConfig] = Field(default_factory=list)
    allocation: AllocationConfig = AllocationConfig()
    fleet: FleetConfig = FleetConfig()
    secret_key: SecretStr | None = Field(None, exclude=True)
    keystore_password: SecretStr | None = Field(None, exclude=True)
    binance_api_key: SecretStr | None = Field(None, exclude=True)
    binance_secret: SecretStr | None = Field(None, exclude=True)
    source: str = Field("defaults", exclude=True)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, *config_sources.chosen())

    @field_validator("network")
    @classmethod
    def _network(cls, v: str) -> str:
        if v in ("local", "testnet", "mainnet") or re.match(r"^https?://[^\s]+$", v):
            return v.rstrip("/")
        raise ValueError("must be local, testnet, mainnet or an http(s):// base URL")

    @field_validator("account_address", "vault_address")
    @classmethod
    def _address(cls, v: str | None) -> str | None:
        if v is not None and not re.fullmatch(r"0x[0-9a-fA-F]{40}", v):
            raise ValueError("must be a 0x-prefixed 20-byte hex address")
        return v

    @field_validator("targets")
    @classmethod
    def _targets(cls, v: dict[str, float] | None) -> dict[str, float] | None:
        if v is not None:
            for k, x in v.items():
                if not math.isfinite(x):
                    raise ValueError(f"{k}: not a finite number")
            try:
                parse_target(dict(v))  # the target rules (sum to 1, no NaN, names), as for any target
            except TargetValidationError as e:
                raise ValueError("; ".join(p.removeprefix("invalid target: ") for p in e.problems)) from None
        return v

    @property
    def is_local(self) -> bool:
        return self.network == "local" or bool(re.match(r"^https?://(127\.0\.0\.1|localhost)(:\d+)?$", self.network))

    @property
    def live(self) -> bool:
        """Real orders on a real exchange: explicit config, a non-local network and a key, all three."""
        if self.exchange.is_binance:
            return self.live_trading and not self.is_local and self.binance_secret is not None
        return self.live_trading and not self.is_local and (self.secret_key is not None or self.keystore is not None)

    def redacted(self) -> dict[str, Any]:
        """What ``config show`` prints: secrets replaced by whether they are set, a db URL without its password."""
        data = self.model_dump(mode="json")
        data["secret_key"] = "set (hidden)" if self.secret_key else "not set"
        data["keystore_password"] = "set (hidden)" if self.keystore_password else "not set"
        data["binance_api_key"] = "set (hidden)" if self.binance_api_key else "not set"
        data["binance_secret"] = "set (hidden)" if self.binance_secret else "not set"
        data["db"] = without_passwords(self.db)  # a PostgreSQL URL's password
        data["source"] = self.source
        data["execution_effective"] = self.execution_mode
        return data

    @property
    def execution_mode(self) -> str:
        if self.execution != "auto":
            return self.execution
        if self.is_local:
            return "local"  # the stand-in: real SDK, no real money
        return "live" if self.live else "paper"


#: The variables naming a top-level key (every variable read is in ``config_sources.ENV_VARS``).
ENV_KEYS = {
    var: key for var, key in config_sources.ENV_VARS.items() if "." not in key and key not in config_sources.SECRETS
}


def load_settings(path: str | Path | None = None, env: dict[str, str] | None = None) -> Settings:
    """Defaults ← TOML file (``path``, else ``rebalancer.toml`` if present) ← ``REBALANCER_*`` env vars."""
    env = dict(os.environ if env is None else env)
    if path and not Path(path).exists():
        raise ConfigError(f"{path}: no such config file")
    file = Path(path) if path else (Path(DEFAULT_CONFIG) if Path(DEFAULT_CONFIG).exists() else None)
    if file is not None:  # one line for a file that is not TOML text (binary, or broken), before anything else
        import tomllib

        try:
            tomllib.loads(file.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as e:
            raise ConfigError(f"{file}: not valid TOML ({e})") from None
        except UnicodeDecodeError:
            raise ConfigError(f"{file}: not a text file (TOML is UTF-8 text)") from None
    source = str(file) if file is not None else "defaults"
    public = [v for v in config_sources.env_vars_set(env) if config_sources.ENV_VARS[v] not in config_sources.SECRETS]
    source += "".join(f" + ${var}" for var in public)
    chain: list[PydanticBaseSettingsSource] = [config_sources.EnvVars(Settings, env)]
    try:
        if file is not None:
            chain.append(config_sources.TomlFile(Settings, toml_file=file))
        with config_sources.sources(*chain):
            settings = Settings(source=source)
    except PydanticError as e:
        raise ConfigError(f"{problems.first(e, root='config')} (in {source})") from None
    check_fleet(settings)
    if settings.live_trading and settings.is_local:
        raise ConfigError("live_trading: needs network = testnet, mainnet or a remote URL, not the local stand-in")
    if settings.live_trading and settings.exchange.is_binance and not settings.binance_secret:
        raise ConfigError("live_trading: needs REBALANCER_BINANCE_API_KEY and REBALANCER_BINANCE_SECRET")
    if settings.live_trading and not settings.exchange.is_binance and not (settings.secret_key or settings.keystore):
        raise ConfigError("live_trading: needs REBALANCER_SECRET_KEY or a keystore file")
    return settings

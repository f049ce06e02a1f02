"""The fleet's configuration: ``[[accounts]]``, ``[allocation]`` across them, and ``[fleet]`` (scheduler, Temporal).

Example::

    account_address = "0x…master…"     # one key signs for every account (master, plus vaultAddress)

    [[accounts]]
    name = "core"
    address = "0x…master…"
    role = "master"                    # master | subaccount | vault
    targets = {"UBTC/USDC" = 0.5, USDC = 0.5}

    [[accounts]]
    name = "trend"
    address = "0x…subaccount…"
    autonomy = "confirm"
    interval = "1h"

    [allocation]
    method = "fixed"                   # fixed | risk-parity | adaptive
    weights = {core = 0.5, trend = 0.5}
    min_weight = 0.1                   # risk-parity and adaptive stay within these per account
    max_weight = 0.6

:func:`check_fleet` holds the rules that span sections (names unique, weights naming exactly the accounts
and summing to 1, bounds that can hold the accounts); ``load_settings`` runs it, so a bad file exits 2
with one line.
"""

from __future__ import annotations

import math
import re
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from agent.core.durations import parse_duration
from agent.core.errors import ConfigError
from agent.core.limits import Limits

if TYPE_CHECKING:
    from agent.services.config import Settings

_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")


def _duration(v: Any) -> Any:
    return parse_duration(v) if isinstance(v, str | int | float) else v


class AccountConfig(BaseModel):
    """One account of the fleet: a master, a subaccount or a vault the master leads."""

    model_config = ConfigDict(extra="forbid", validate_default=True)

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,40}$")
    address: str | None = Field(None, description="Hyperliquid: the account's address (required there)")
    role: Literal["master", "subaccount", "vault"] = "subaccount"
    venue: Literal["hyperliquid", "binance", "binanceus"] = Field(
        "hyperliquid", description="another venue's account joins the portfolio view, not the capital transfers"
    )
    targets: dict[str, float] | None = None
    autonomy: Literal["advise", "confirm", "auto"] | None = None
    interval: timedelta | None = None
    limits: Limits | None = None

    @field_validator("interval", mode="before")
    @classmethod
    def _interval(cls, v: Any) -> Any:
        return _duration(v)

    @field_validator("address")
    @classmethod
    def _address(cls, v: str | None) -> str | None:
        if v is not None and not _ADDRESS.fullmatch(v):
            raise ValueError("must be a 0x-prefixed 20-byte hex address")
        return v.lower() if v else None

    @model_validator(mode="after")
    def _venue_needs(self) -> AccountConfig:
        if self.venue == "hyperliquid" and self.address is None:
            raise ValueError("address: a Hyperliquid account needs its address")
        if self.venue != "hyperliquid" and self.role != "subaccount":
            raise ValueError(f"role: a {self.venue} account has no Hyperliquid role; leave role out")
        return self

    @property
    def on_hyperliquid(self) -> bool:
        return self.venue == "hyperliquid"

    @field_validator("targets")
    @classmethod
    def _targets(cls, v: dict[str, float] | None) -> dict[str, float] | None:
        if v is not None:
            from agent.core.errors import TargetValidationError
            from agent.core.targets import parse_target

            try:
                parse_target(dict(v))
            except TargetValidationError as e:
                raise ValueError("; ".join(p.removeprefix("invalid target: ") for p in e.problems)) from None
        return v


class AllocationConfig(BaseModel):
    """How capital is shared between the accounts, and when it is moved."""

    model_config = ConfigDict(extra="forbid", validate_default=True)

    method: Literal["fixed", "risk-parity", "adaptive"] = "fixed"
    weights: dict[str, float] | None = None
    min_weight: float = Field(0.0, ge=0, le=1)
    max_weight: float = Field(1.0, ge=0, le=1)
    threshold: float = Field(0.05, gt=0, le=1, description="an account this far off its target share triggers")
    min_transfer_usd: float = Field(10.0, ge=1)
    lookback_days: int = Field(30, ge=3, le=365, description="daily returns read for risk-parity and adaptive")
    correlation_limit: float = Field(0.8, gt=0, le=1, description="alert when two accounts correlate above this")
    confirm_ttl: timedelta = timedelta(minutes=5)

    @field_validator("confirm_ttl", mode="before")
    @classmethod
    def _ttl(cls, v: Any) -> Any:
        return _duration(v)


class FleetConfig(BaseModel):
    """The embedded scheduler's shared rate budget, and the Temporal path."""

    model_config = ConfigDict(extra="forbid", validate_default=True)

    rate_limit_per_minute: float = Field(
        1000.0, gt=0, lt=1200, description="weight per minute shared by every account (Hyperliquid: 1200 per IP)"
    )
    actions_per_minute_per_address: int = Field(
        60, ge=1, le=10_000, description="our cap on /exchange actions per address (Hyperliquid counts per address)"
    )
    workers: int = Field(4, ge=1, le=64, description="accounts ticking at once in `fleet run`")
    temporal_namespace: str = "default"
    task_queue: str = "rebalancer"


def check_fleet(settings: Settings) -> None:
    """The rules across sections; ``ConfigError`` with one line naming the key."""
    accounts = settings.accounts
    names = [a.name for a in accounts]
    for n in names:
        if names.count(n) > 1:
            raise ConfigError(f"accounts: duplicate account name {n!r}")
    addresses = [a.address for a in accounts if a.address]
    for a in addresses:
        if addresses.count(a) > 1:
            raise ConfigError(f"accounts: address {a} is listed twice")
    masters = [a for a in accounts if a.role == "master"]
    if len(masters) > 1:
        raise ConfigError('accounts: more than one account has role = "master"')
    master = (settings.account_address or "").lower()
    if masters and master and masters[0].address != master:
        raise ConfigError("accounts: the master's address differs from account_address")
    alloc = settings.allocation
    if alloc.min_weight > alloc.max_weight:
        raise ConfigError("allocation.min_weight: greater than max_weight")
    if accounts and (len(accounts) * alloc.min_weight > 1 + 1e-9 or len(accounts) * alloc.max_weight < 1 - 1e-9):
        bounds = f"[{alloc.min_weight}, {alloc.max_weight}]"
        raise ConfigError(f"allocation: bounds {bounds} cannot hold {len(accounts)} accounts summing to 1")
    if alloc.weights is not None:
        for k, w in alloc.weights.items():
            if not math.isfinite(w) or w < 0:
                raise ConfigError(f"allocation.weights.{k}: must be a finite number ≥ 0")
        unknown = sorted(set(alloc.weights) - set(names))
        if unknown:
            raise ConfigError(f"allocation.weights: {', '.join(unknown)} is not a configured account")
        missing = sorted(set(names) - set(alloc.weights))
        if missing:
            raise ConfigError(f"allocation.weights: no weight for {', '.join(missing)}")
        total = sum(alloc.weights.values())
        if not math.isclose(total, 1.0, abs_tol=0.001):
            raise ConfigError(f"allocation.weights: sum to {total:.4f}, not 1")
    elif alloc.method == "fixed" and len(accounts) > 1:
        raise ConfigError('allocation.weights: needed for method = "fixed" (one weight per account, summing to 1)')

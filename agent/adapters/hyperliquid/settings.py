"""The Hyperliquid adapter's own settings (the TOML's ``[hyperliquid]`` section).

``order_ttl`` is the life of a signed order action (``expiresAfter``): once it has passed, an order the
exchange never saw can no longer appear, so a resend is safe. It bounds how long an unknown outcome
blocks a resend; tests shorten it instead of waiting out the default.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator


class HyperliquidSettings(BaseModel):
    """``HyperliquidSettings(order_ttl=timedelta(seconds=30), timeout_s=10)``."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)

    order_ttl: timedelta = Field(timedelta(seconds=30), description="expiresAfter of every signed order action")
    timeout_s: float = Field(10.0, gt=0, le=120, description="HTTP timeout of one request")
    rate_limit_per_minute: float = Field(
        1000.0, gt=0, le=1200, description="client-side weight budget (Hyperliquid allows 1200 per IP)"
    )
    info_retries: int = Field(2, ge=0, le=10, description="retries of a read after a 429, 5xx or timeout")
    backoff_s: float = Field(0.25, ge=0, le=30)
    max_clock_skew: timedelta = Field(
        timedelta(seconds=10), description="execute refuses beyond this local-vs-exchange clock offset"
    )
    dexes: tuple[str, ...] = Field(
        (), description="HIP-3 dexes the account uses (read besides the main dex; a target's dexes are added)"
    )

    @field_validator("dexes")
    @classmethod
    def _dex_names(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for name in v:
            if not (1 <= len(name) <= 6 and name.isalnum()):
                raise ValueError(f"{name!r} is not a perp dex name (1-6 letters or digits; the main dex is implied)")
        return v

    @field_validator("order_ttl", "max_clock_skew", mode="before")
    @classmethod
    def _duration(cls, v: Any) -> Any:
        from agent.core.durations import parse_duration

        return parse_duration(v) if isinstance(v, str | int | float) else v

    @field_validator("order_ttl")
    @classmethod
    def _bounded(cls, v: timedelta) -> timedelta:
        if not timedelta(seconds=1) <= v <= timedelta(minutes=10):
            raise ValueError("must be between 1s and 10m")
        return v

    @field_validator("max_clock_skew")
    @classmethod
    def _skew_bounded(cls, v: timedelta) -> timedelta:
        if not timedelta(seconds=1) <= v <= timedelta(minutes=10):
            raise ValueError("must be between 1s and 10m")
        return v

    def client_kwargs(self) -> dict[str, Any]:
        """Keyword arguments of :class:`~agent.adapters.hyperliquid.client.HyperliquidExchange`."""
        return {
            "timeout": self.timeout_s,
            "rate_limit_per_minute": self.rate_limit_per_minute,
            "info_retries": self.info_retries,
            "backoff_s": self.backoff_s,
            "order_ttl_s": self.order_ttl.total_seconds(),
            "dexes": self.dexes,
        }

"""The two limit types every layer shares: the hard ``Limits`` and the ``CashReserve`` bands.

One definition each: the TOML's ``[limits]`` and ``[cash_reserve]`` sections are these models, the risk
gate checks plans against ``Limits``, the strategist's answer is validated under them, and the planner
and the cash-reserve allocator read the same ``CashReserve``.
"""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from agent.core.domain import Market, TargetAllocation
from agent.core.targets import validate_target


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


class CashReserve(_Frozen):
    """Cash bands, as fractions of equity: e.g. ``CashReserve(min=0.2, target=0.25)``.

    When a target's cash is under ``min``, risk weights shrink pro rata until cash is ``min`` (a
    de-risking target is met by raising cash to its minimum); ``floor`` is the hard
    minimum no plan breaks. ``target`` and ``max`` are where the cash-reserve strategy spends excess cash
    (above ``max``) down to; the planner never adds exposure the target did not ask for.
    """

    min: float = Field(0.20, ge=0, le=1)
    target: float = Field(0.25, ge=0, le=1)
    max: float = Field(0.40, ge=0, le=1)
    floor: float = Field(0.15, ge=0, le=1)

    @model_validator(mode="after")
    def _ordered(self) -> CashReserve:
        if not self.floor <= self.min <= self.target <= self.max:
            raise ValueError("needs floor ≤ min ≤ target ≤ max")
        return self


class Limits(_Frozen):
    """Hard limits that no model answer, tool argument or config mistake can bypass; ``None`` = no limit.

    ``Limits(max_weight=0.3, max_notional_per_cycle_usd=50_000)``. The risk gate
    (:func:`agent.core.risk.violations`) checks every plan against them before a token is issued and again
    before execution; :meth:`check_target` validates a target under them.
    """

    max_weight: float | None = Field(None, gt=0, le=1)
    min_weight: float | None = Field(None, ge=0, le=1)
    max_gross_leverage: float = Field(1.0, gt=0, le=5)
    cash_floor: float = Field(0.0, ge=0, le=1)
    max_turnover_per_cycle: float = Field(1.0, gt=0, le=2, description="fraction of equity traded per cycle")
    max_notional_per_cycle_usd: float | None = Field(None, gt=0)
    max_notional_per_day_usd: float | None = Field(None, gt=0)
    max_trades: int | None = Field(None, ge=1, description="orders per cycle")
    allowed_assets: frozenset[str] | None = None

    @field_validator("allowed_assets", mode="before")
    @classmethod
    def _assets(cls, v: Iterable[str] | None) -> frozenset[str] | None:
        return frozenset(v) if v is not None else None

    def tightened(
        self,
        *,
        max_notional_per_cycle_usd: float | None = None,
        max_notional_per_day_usd: float | None = None,
        max_trades: int | None = None,
        cash_floor: float | None = None,
    ) -> Limits:
        """These limits with some made stricter (never looser): the heartbeat's own caps, a reserve floor."""

        def tighter(mine: float | None, other: float | None) -> float | None:
            if other is None:
                return mine
            return other if mine is None else min(mine, other)

        return self.model_copy(
            update={
                "max_notional_per_cycle_usd": tighter(self.max_notional_per_cycle_usd, max_notional_per_cycle_usd),
                "max_notional_per_day_usd": tighter(self.max_notional_per_day_usd, max_notional_per_day_usd),
                "max_trades": tighter(self.max_trades, max_trades),
                "cash_floor": max(self.cash_floor, cash_floor or 0.0),
            }
        )

    def check_target(self, target: TargetAllocation, market: Market) -> TargetAllocation:
        """``validate_target`` under these caps (raises ``TargetValidationError`` naming every problem)."""
        return validate_target(
            target,
            market,
            max_gross_leverage=self.max_gross_leverage,
            allowed_assets=self.allowed_assets,
            max_weight=self.max_weight,
        )

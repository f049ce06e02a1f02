"""Lots, disposals and matches, and the holding period (more than one year: sold after the anniversary)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Literal

from agent.core.errors import LotError

Method = Literal["fifo", "lifo", "hifo", "spec"]
Jurisdiction = Literal["none", "us", "de", "uk"]
Term = Literal["short", "long", "taxable", "exempt", "same-day", "30-day", "pool"]
METHODS: tuple[str, ...] = ("fifo", "lifo", "hifo", "spec")
JURISDICTIONS: tuple[str, ...] = ("none", "us", "de", "uk")
#: relative tolerance on quantities (float sizes from the exchange)
TOL = 1e-9


@dataclass(frozen=True)
class Acquisition:
    id: str
    asset: str
    time: datetime
    quantity: float
    cost_usd: float
    source: str = "fill"

    def __post_init__(self) -> None:
        if not self.quantity > 0:
            raise LotError(f"acquisition {self.id}: quantity must be positive, got {self.quantity}")
        if self.cost_usd < 0:
            raise LotError(f"acquisition {self.id}: cost must not be negative, got {self.cost_usd}")


@dataclass(frozen=True)
class Disposal:
    id: str
    asset: str
    time: datetime
    quantity: float
    proceeds_usd: float
    #: specific identification: (lot id, quantity) chosen no later than the sale
    picks: tuple[tuple[str, float], ...] | None = None

    def __post_init__(self) -> None:
        if not self.quantity > 0:
            raise LotError(f"disposal {self.id}: quantity must be positive, got {self.quantity}")
        if self.proceeds_usd < 0:
            raise LotError(f"disposal {self.id}: proceeds must not be negative, got {self.proceeds_usd}")


Event = Acquisition | Disposal


@dataclass
class Lot:
    """An acquisition and what is left of it."""

    id: str
    asset: str
    acquired: datetime
    quantity: float
    cost_usd: float
    remaining: float
    source: str = "fill"

    @property
    def unit_cost(self) -> float:
        return self.cost_usd / self.quantity

    @property
    def remaining_cost(self) -> float:
        return self.unit_cost * self.remaining


@dataclass(frozen=True)
class Match:
    """One disposal (or part of it) matched to one lot: the unit a tax report lists."""

    disposal_id: str
    lot_id: str
    asset: str
    acquired: datetime
    sold: datetime
    quantity: float
    proceeds_usd: float
    cost_usd: float
    term: Term

    @property
    def gain_usd(self) -> float:
        return self.proceeds_usd - self.cost_usd


@dataclass
class Book:
    """Open lots and every match, after a run of events."""

    lots: dict[str, list[Lot]] = field(default_factory=lambda: defaultdict(list))
    matches: list[Match] = field(default_factory=list)

    def open_lots(self, asset: str | None = None) -> list[Lot]:
        assets = [asset] if asset is not None else sorted(self.lots)
        return [lot for a in assets for lot in self.lots.get(a, []) if lot.remaining > 0]

    def held(self, asset: str) -> float:
        return sum(lot.remaining for lot in self.lots.get(asset, []))


# -- holding period ---------------------------------------------------------------------------------


def anniversary(d: date) -> date:
    try:
        return d.replace(year=d.year + 1)
    except ValueError:  # 29 February
        return d.replace(year=d.year + 1, day=28)


def held_over_a_year(acquired: datetime, sold: datetime) -> bool:
    return sold.date() > anniversary(acquired.date())


def days_to_long_term(acquired: datetime, now: datetime) -> int:
    """Days until a lot bought at ``acquired`` is held more than a year (0 when it already is)."""
    first_long = anniversary(acquired.date()) + timedelta(days=1)
    return max(0, (first_long - now.date()).days)


def term_of(acquired: datetime, sold: datetime, jurisdiction: Jurisdiction) -> Term:
    long = held_over_a_year(acquired, sold)
    if jurisdiction == "de":
        return "exempt" if long else "taxable"
    return "long" if long else "short"

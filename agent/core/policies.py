"""Rebalancing policies for the backtest, each a way of calling the project's planner on a given day.

=========================  ==================================================================================
spec                       what it does each day
=========================  ==================================================================================
``never``                  nothing (buy and hold from the target)
``calendar:daily``         everything to target every day
``calendar:weekly``        … on the first trading day of each ISO week (``monthly``, ``quarterly`` likewise)
``calendar:Nd``            the planner's calendar mode, every N days (3, 7 or 14 are usual)
``threshold:X``            the planner's threshold mode (position and portfolio threshold X)
``band:X``                 the usual band (``band:X:edge`` too): coins and cash at ±X, back to the edge, the
                           net cash spread over the most under- or overweight coins (``band_rebalance``)
``band:X:coin-edge``       the planner's band mode: a coin outside ±X back to its edge, the cash unbanded
``band:X:target``          a coin outside ±X back to target (the cash unbanded)
``cost-aware[:A]``         per-asset cost-aware bands (``agent.core.bands``), drift aversion A, to the edge
``equal-weight:P[:X]``     fraction X (default 1) at equal weight over the run's universe (which may change),
                           the rest USDC, set and traded to on the first trading day of each period P
=========================  ==================================================================================

Strategist policies (``strategist:offline``, ``strategist:cassette=FILE``) need the decide layer; the
services build them as a ``Retarget`` policy around a target provider.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import numpy as np

from agent.core.band_rebalance import band_weights
from agent.core.bands import BandModel
from agent.core.domain import CASH, RebalancingPlan, TargetAllocation
from agent.core.errors import ValidationError
from agent.core.simulation import Day, Policy, Simulation

#: the cost-aware policy's default drift aversion (per unit of weight per day) and history window.
DEFAULT_AVERSION = 2e-5
BAND_LOOKBACK = 30
MIN_HISTORY = 10

PERIODS: dict[str, Callable[[date], tuple[int, ...]]] = {
    "daily": lambda d: (d.toordinal(),),
    "weekly": lambda d: tuple(d.isocalendar()[:2]),
    "monthly": lambda d: (d.year, d.month),
    "quarterly": lambda d: (d.year, (d.month - 1) // 3),
}


def new_period(day: Day, period: str) -> bool:
    """Is ``day`` the first trading day of its period (its previous row is in another one)?"""
    key = PERIODS[period]
    prev = day.sim.prices.dates[day.i - 1]
    return key(prev) != key(day.when)


class Never(Policy):
    spec = "never"

    def plan(self, day: Day) -> RebalancingPlan | None:
        return None


class Calendar(Policy):
    """Everything to target on the first trading day of each period."""

    def __init__(self, period: str) -> None:
        self.period, self.spec = period, f"calendar:{period}"

    def plan(self, day: Day) -> RebalancingPlan | None:
        if not new_period(day, self.period):
            return None
        p = self.planner(day.sim, mode="calendar")
        return p.create_rebalancing_plan(day.state, day.target, day.market, now=day.now, last_rebalance=None)


class CalendarDays(Policy):
    """The planner's own calendar mode: due when N days have passed since the last rebalance."""

    def __init__(self, days: int) -> None:
        self.days, self.spec = days, f"calendar:{days}d"
        self.last: date | None = None

    def start(self, sim: Simulation, target: TargetAllocation) -> TargetAllocation:
        self.last = sim.dates[0]
        return target

    def plan(self, day: Day) -> RebalancingPlan | None:
        p = self.planner(day.sim, mode="calendar", calendar_interval=timedelta(days=self.days))
        assert self.last is not None
        last = datetime.combine(self.last, datetime.min.time(), UTC)
        plan = p.create_rebalancing_plan(day.state, day.target, day.market, now=day.now, last_rebalance=last)
        if plan.rebalance_needed:
            self.last = day.when
        return plan


class Threshold(Policy):
    def __init__(self, x: float) -> None:
        self.x, self.spec = x, f"threshold:{x:g}"

    def plan(self, day: Day) -> RebalancingPlan | None:
        p = self.planner(day.sim, mode="threshold", rebalance_threshold=self.x)
        return p.create_rebalancing_plan(day.state, day.target, day.market, now=day.now)


class Band(Policy):
    """Fixed absolute bands ±X through the planner's own modes.

    ``coin-edge`` trades each coin outside its band back to the edge and leaves the cash unbanded (the
    planner's band mode); ``target`` trades it back to target (the planner's threshold mode).
    """

    def __init__(self, x: float, to: str) -> None:
        self.x, self.to, self.spec = x, to, f"band:{x:g}:{to}"

    def plan(self, day: Day) -> RebalancingPlan | None:
        if self.to == "coin-edge":
            p = self.planner(day.sim, mode="band", band=self.x, portfolio_threshold=1.0)
        else:  # the threshold mode is "outside the band → to target"; no portfolio trigger
            p = self.planner(day.sim, mode="threshold", rebalance_threshold=self.x, portfolio_threshold=1.0)
        return p.create_rebalancing_plan(day.state, day.target, day.market, now=day.now)


class UsualBand(Policy):
    """The usual band policy (``agent.core.band_rebalance``): coins and cash banded at ±X, back to the edge,
    the net cash spread over the most under- or overweight coins; the planner sizes the trades."""

    def __init__(self, x: float, spec: str | None = None) -> None:
        self.x, self.spec = x, spec or f"band:{x:g}"

    def plan(self, day: Day) -> RebalancingPlan | None:
        coins = [c for c in day.sim.prices.coins if c in day.market.assets]
        e = day.state.perp_account_value
        if e <= 0:
            return None
        mids = day.market.assets
        held = {c: p.size * mids[c].mid / e for c, p in day.state.positions.items() if c in mids}
        w = np.array([held.get(c, 0.0) for c in coins])
        t = np.array([day.target.allocations.get(c, 0.0) for c in coins])
        z, trade = band_weights(w, t, self.x)
        if not trade:
            return None
        goal = {c: float(x) for c, x in zip(coins, z, strict=True)}
        goal[CASH] = max(0.0, 1.0 - sum(abs(x) for x in goal.values()))  # rounding never makes it negative
        p = self.planner(day.sim, mode="calendar")
        want = TargetAllocation(allocations=goal, strategy_id=day.target.strategy_id)
        return p.create_rebalancing_plan(day.state, want, day.market, now=day.now, last_rebalance=None)


class CostAware(Policy):
    """The planner's cost-aware mode, its band model refreshed each day from the last 60 days."""

    def __init__(self, aversion: float = DEFAULT_AVERSION, *, label: str | None = None) -> None:
        if not aversion > 0 or not math.isfinite(aversion):
            raise ValidationError("cost-aware: the drift aversion must be a positive number")
        self.aversion = aversion
        self.spec = label or (f"cost-aware:{aversion:g}" if aversion != DEFAULT_AVERSION else "cost-aware")

    def band_model(self, day: Day) -> BandModel | None:
        """Today's inputs from the last ``BAND_LOOKBACK`` days; None (the planner's fixed band) with under 10."""
        sim = day.sim
        r = sim.simple_returns(day.i, BAND_LOOKBACK)
        cols = [j for j, c in enumerate(sim.prices.coins) if c in day.market.assets]
        r = r[:, cols]
        ok = np.isfinite(r).all(axis=1)
        if ok.sum() < MIN_HISTORY:
            return None
        cov = np.atleast_2d(np.cov(r[ok], rowvar=False, ddof=1))
        vol = sim.prices.volume[day.i, cols]
        sig = np.nan_to_num(sim.sigma30[day.i, cols])
        good = np.isfinite(vol) & (vol > 0)
        impact = np.where(good, sim.costs.impact_k * sig / np.sqrt(np.where(good, vol, 1.0)), 0.0)
        coins = tuple(sim.prices.coins[j] for j in cols)
        return BandModel(coins, cov, np.full(len(cols), sim.costs.rate), impact)

    def plan(self, day: Day) -> RebalancingPlan | None:
        p = self.planner(
            day.sim, mode="cost-aware", drift_aversion=self.aversion, band_model=self.band_model(day), band=0.05
        )
        return p.create_rebalancing_plan(day.state, day.target, day.market, now=day.now)


class EqualWeight(Policy):
    """1/n of ``invested`` in each coin of the day's universe (``Simulation.members``), rebalanced each period.

    The given target is ignored: the universe decides the coins, so coins entering and leaving are bought
    and sold on the period's first trading day.
    """

    def __init__(self, period: str, invested: float = 1.0) -> None:
        self.period, self.invested = period, invested
        self.spec = f"equal-weight:{period}" + (f":{invested:g}" if invested != 1.0 else "")

    def target_for(self, sim: Simulation, i: int) -> TargetAllocation:
        coins = sim.members(i)
        if not coins:
            return TargetAllocation(allocations={CASH: 1.0}, strategy_id=self.spec)
        w = {c: self.invested / len(coins) for c in coins}
        if self.invested < 1.0:
            w[CASH] = 1.0 - self.invested
        return TargetAllocation(allocations=w, strategy_id=self.spec)

    def start(self, sim: Simulation, target: TargetAllocation) -> TargetAllocation:
        return self.target_for(sim, sim.lo)

    def retarget(self, day: Day) -> TargetAllocation | None:
        return self.target_for(day.sim, day.i) if new_period(day, self.period) else None

    def plan(self, day: Day) -> RebalancingPlan | None:
        if not new_period(day, self.period):
            return None
        p = self.planner(day.sim, mode="calendar")
        return p.create_rebalancing_plan(day.state, day.target, day.market, now=day.now, last_rebalance=None)


class Retarget(Policy):
    """A target that changes over time (a strategist): trade everything to each new target when it comes.

    ``provider(day)`` returns the target decided that day (or None: unchanged); it sees only history up
    to that day's close. ``provider(None)`` gives the starting target.
    """

    def __init__(self, spec: str, provider: Callable[[Day | None, Simulation], TargetAllocation | None]) -> None:
        self.spec, self.provider = spec, provider
        self._changed = False

    def start(self, sim: Simulation, target: TargetAllocation) -> TargetAllocation:
        first = self.provider(None, sim)
        if first is not None:
            sim.check_target(first)
            return first
        return target

    def retarget(self, day: Day) -> TargetAllocation | None:
        new = self.provider(day, day.sim)
        self._changed = new is not None and new.allocations != day.target.allocations
        return new if self._changed else None

    def plan(self, day: Day) -> RebalancingPlan | None:
        if not self._changed:
            return None
        p = self.planner(day.sim, mode="calendar")
        return p.create_rebalancing_plan(day.state, day.target, day.market, now=day.now, last_rebalance=None)


_NUM = r"(\d+(?:\.\d+)?(?:e-?\d+)?)"


def parse_policy(spec: str) -> Policy:
    """A policy from its spec (table above); an unknown spec is a ``ValidationError`` naming it."""
    s = spec.strip()
    if s == "never":
        return Never()
    if m := re.fullmatch(r"calendar:(daily|weekly|monthly|quarterly)", s):
        return Calendar(m.group(1))
    if m := re.fullmatch(r"calendar:(\d{1,4})d", s):
        if int(m.group(1)) < 1:
            raise ValidationError(f"policy {spec!r}: the interval must be at least 1 day")
        return CalendarDays(int(m.group(1)))
    if m := re.fullmatch(r"threshold:" + _NUM, s):
        return Threshold(_fraction(m.group(1), spec))
    if m := re.fullmatch(r"band:" + _NUM + r"(:edge)?", s):
        return UsualBand(_fraction(m.group(1), spec), s)
    if m := re.fullmatch(r"band:" + _NUM + r":(target|coin-edge)", s):
        return Band(_fraction(m.group(1), spec), m.group(2))
    if m := re.fullmatch(r"equal-weight:(daily|weekly|monthly|quarterly)(?::" + _NUM + ")?", s):
        x = 1.0 if m.group(2) is None else float(m.group(2))
        if not 0 < x <= 1:
            raise ValidationError(f"policy {spec!r}: the invested fraction must be in (0, 1]")
        return EqualWeight(m.group(1), x)
    if s == "cost-aware":
        return CostAware()
    if m := re.fullmatch(r"cost-aware:" + _NUM, s):
        return CostAware(float(m.group(1)))
    raise ValidationError(
        f"unknown policy {spec!r} (never, calendar:daily|weekly|monthly|quarterly, calendar:Nd, threshold:X, "
        "band:X, band:X:target|coin-edge, cost-aware, equal-weight:monthly[:X], strategist:offline, "
        "strategist:cassette=FILE)"
    )


def _fraction(text: str, spec: str) -> float:
    x = float(text)
    if not 0 < x < 1:
        raise ValidationError(f"policy {spec!r}: X must be a fraction between 0 and 1 (0.05 = 5 pp)")
    return x

"""Walk-forward evidence: each tunable policy's parameter fitted on the past only, then traded on the next window.

The folds (rolling by default): the first ``train_days`` calendar days of the history only train; from there
the rest is cut into test windows of ``test_days`` (a year by default: yearly refits; a last piece shorter than
the backtest's minimum joins the one before). Before each test window, every value of the family's grid runs
on the training window just before it (the trailing ``train_days``, or everything so far with ``expanding``)
and the objective picks one:

- ``drift-budget`` (default): the cheapest (cost bp/yr) value whose mean drift is no more than calendar-monthly's
  on the same training window (none qualifies: the least drift) — the frontier's question, asked without hindsight;
- ``sharpe``: the highest Sharpe ratio.

Out of sample, one run over all the test windows trades each window with its fitted value (the book carries
over from one window to the next: no free reset at a refit). In-sample figures are the mean over the folds of
the chosen value's figures on its training window. A policy that is not tunable runs as it is over the same
test windows, so every row of the table covers the same days.

A tunable family is small (``Tunable``: a name, the parameter's name, a grid, and a way to build the policy
for one value), so another family — the strategist's, say — is one more entry in ``TUNABLE``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Protocol

import numpy as np

from agent.core.domain import TargetAllocation
from agent.core.errors import ValidationError
from agent.core.policies import Band, CostAware, Retarget, Threshold, UsualBand
from agent.core.prices import PriceTable
from agent.core.simulation import MIN_DAYS, Day, Policy, Run, Simulation, TradingCosts
from agent.services.evidence.backtest import strategist_policy

OBJECTIVES = ("drift-budget", "sharpe")
FIGURES = ("cagr", "sharpe", "max_drawdown", "cost_bp_pa", "turnover_pa", "mean_drift")
BUDGET = "calendar:monthly"

Progress = Callable[[str, int], Callable[[int], None]]


class Tunable(Protocol):
    """A policy family with one parameter: ``family`` names it on the command line (``band:fit``)."""

    @property
    def family(self) -> str: ...
    @property
    def param(self) -> str: ...
    @property
    def grid(self) -> Sequence[float]: ...

    @property
    def objective(self) -> str | None: ...

    def make(self, value: float) -> Policy: ...


@dataclass(frozen=True)
class Grid:
    """A ``Tunable`` from a builder, e.g. ``Grid("band:fit", "half-width", (0.01, 0.02), UsualBand)``.

    ``objective``: this family's own (the strategist's picks the best Sharpe: its drift from a fixed target
    means nothing); None follows the run's ``--objective``.
    """

    family: str
    param: str
    grid: Sequence[float]
    build: Callable[[float], Policy]
    objective: str | None = None

    def make(self, value: float) -> Policy:
        return self.build(value)


BAND_GRID = (0.005, 0.01, 0.015, 0.02, 0.025, 0.03, 0.04, 0.05, 0.06, 0.08)
AVERSION_GRID = tuple(float(a) for a in np.geomspace(1e-6, 1e-3, 10))
#: the offline strategist's trend rule: annualised volatility a coin is sized to (live: 50 %)
VOL_TARGET_GRID = (0.3, 0.4, 0.5, 0.65, 0.8)

TUNABLE: dict[str, Tunable] = {
    g.family: g
    for g in (
        Grid("band:fit", "half-width", BAND_GRID, UsualBand),
        Grid("band:fit:coin-edge", "half-width", BAND_GRID, lambda x: Band(x, "coin-edge")),
        Grid("band:fit:target", "half-width", BAND_GRID, lambda x: Band(x, "target")),
        Grid("threshold:fit", "threshold", BAND_GRID, Threshold),
        Grid("cost-aware:fit", "drift aversion", AVERSION_GRID, CostAware),
        Grid("strategist:fit", "vol target", VOL_TARGET_GRID, strategist_policy, objective="sharpe"),
    )
}
DEFAULT_POLICIES = ("calendar:monthly", "band:fit", "cost-aware:fit", "threshold:fit")


@dataclass(frozen=True)
class Fold:
    train: tuple[date, date]
    test: tuple[date, date]


def folds(dates: Sequence[date], train_days: int, test_days: int, *, expanding: bool = False) -> list[Fold]:
    """The training and test windows over ``dates`` (sorted trading days), as described above."""
    if train_days < MIN_DAYS or test_days < MIN_DAYS:
        raise ValidationError(f"walk-forward: training and test windows need at least {MIN_DAYS} days each")
    first = dates[0]
    starts = [d for d in dates if d >= first + timedelta(days=train_days)]
    if len([d for d in starts]) < MIN_DAYS:
        raise ValidationError(
            f"walk-forward: {dates[0]} .. {dates[-1]} leaves under {MIN_DAYS} days after the first {train_days} "
            "days of training; give a longer history or --train-days"
        )
    out: list[Fold] = []
    s = starts[0]
    while True:
        nxt = s + timedelta(days=test_days)
        test = [d for d in starts if s <= d < nxt]
        rest = [d for d in starts if d >= nxt]
        if len(rest) < MIN_DAYS:
            test = [d for d in starts if d >= s]
        t0 = first if expanding else s - timedelta(days=train_days)
        train = [d for d in dates if t0 <= d < s]
        out.append(Fold((train[0], train[-1]), (test[0], test[-1])))
        if len(rest) < MIN_DAYS:
            return out
        s = rest[0]


class Scheduled(Policy):
    """One policy per date range: from each fold's first test day, that fold's fitted policy decides."""

    def __init__(self, spec: str, schedule: Sequence[tuple[date, Policy]]) -> None:
        self.spec, self.schedule = spec, list(schedule)
        self._now: Policy | None = None

    def _at(self, when: date, sim: Simulation, target: TargetAllocation) -> Policy:
        current = [p for d, p in self.schedule if d <= when][-1]
        if current is not self._now:
            if self._now is not None:
                current.start(sim, target)  # a refit keeps the book and the target in force
            self._now = current
        return current

    def start(self, sim: Simulation, target: TargetAllocation) -> TargetAllocation:
        return self._at(sim.dates[0], sim, target).start(sim, target)

    def retarget(self, day: Day) -> TargetAllocation | None:
        return self._at(day.when, day.sim, day.target).retarget(day)

    def plan(self, day: Day) -> Any:
        return self._at(day.when, day.sim, day.target).plan(day)


@dataclass
class WalkForwardResult:
    rows: list[dict[str, Any]]
    runs: list[Run]
    folds: list[Fold]
    settings: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {
            "walk_forward": self.settings
            | {"folds": [{"train": _span(f.train), "test": _span(f.test)} for f in self.folds]},
            "policies": [r | {"path": run.path()} for r, run in zip(self.rows, self.runs, strict=True)],
        }


def _span(s: tuple[date, date]) -> list[str]:
    return [s[0].isoformat(), s[1].isoformat()]


def _figures(m: dict[str, float]) -> dict[str, float | None]:
    return {k: (float(m[k]) if math.isfinite(m[k]) else None) for k in FIGURES}


def _pick(cands: list[tuple[float, dict[str, float]]], objective: str, budget: float | None) -> tuple[float, dict]:
    if objective == "sharpe":
        return max(cands, key=lambda c: c[1]["sharpe"])
    assert budget is not None
    ok = [c for c in cands if c[1]["mean_drift"] <= budget + 1e-12]
    if ok:
        return min(ok, key=lambda c: c[1]["cost_bp_pa"])
    return min(cands, key=lambda c: c[1]["mean_drift"])


def walk_forward(
    prices: PriceTable,
    target: TargetAllocation,
    specs: Sequence[str],
    build: Callable[[str], Policy],
    *,
    start: date | None = None,
    end: date | None = None,
    train_days: int = 365,
    test_days: int = 365,
    expanding: bool = False,
    objective: str = "drift-budget",
    equity: float = 100_000.0,
    costs: TradingCosts | None = None,
    tunable: dict[str, Tunable] | None = None,
    progress: Progress | None = None,
) -> WalkForwardResult:
    """Fit each tunable spec (``band:fit`` …) fold by fold, run every spec out of sample; ``build`` makes the rest."""
    if objective not in OBJECTIVES:
        raise ValidationError(f"walk-forward: objective {objective!r} is not one of {', '.join(OBJECTIVES)}")
    families = TUNABLE if tunable is None else tunable
    specs = list(specs) or list(DEFAULT_POLICIES)
    plain = {s: build(s) for s in specs if s not in families}  # every spec checked before any work
    if not any(isinstance(p, Retarget) for p in plain.values()) and not any(s.startswith("strategist:") for s in specs):
        prices = prices.select([c for c in prices.coins if c in target.weights] or list(prices.coins))
    whole = Simulation(prices, start=start, end=end, equity=equity, costs=costs)
    whole.check_target(target)
    fs = folds(whole.dates, train_days, test_days, expanding=expanding)
    oos = Simulation(prices, start=fs[0].test[0], end=fs[-1].test[1], equity=equity, costs=whole.costs)
    trains = [Simulation(prices, start=f.train[0], end=f.train[1], equity=equity, costs=whole.costs) for f in fs]
    budgets: list[float | None] = [None] * len(fs)
    if objective == "drift-budget" and any(s in families for s in specs):
        budgets = [sim.run(build(BUDGET), target).metrics()["mean_drift"] for sim in trains]
    rows, runs = [], []
    for spec in specs:
        fam = families.get(spec)
        if fam is None:
            tick = progress(spec, len(oos.dates)) if progress else None
            ins = [sim.run(build(spec), target).metrics() for sim in trains]
            run = oos.run(plain[spec], target, tick)
            fold_rows: list[dict[str, Any]] = [
                {"train": _span(f.train), "test": _span(f.test), "in_sample": _figures(m),
                 "out_of_sample": _figures(run.window(*f.test).metrics())}
                for f, m in zip(fs, ins, strict=True)
            ]  # fmt: skip
            rows.append({"spec": spec, "tuned": False, "folds": fold_rows, **_summary(ins, run)})
            runs.append(run)
            continue
        tick = progress(f"fitting {spec}", len(fs) * len(fam.grid)) if progress else None
        chosen: list[tuple[float, dict[str, float]]] = []
        for k, (sim, budget) in enumerate(zip(trains, budgets, strict=True)):
            cands = []
            for j, v in enumerate(fam.grid):
                cands.append((v, sim.run(fam.make(v), target).metrics()))
                if tick is not None:
                    tick(k * len(fam.grid) + j)
            chosen.append(_pick(cands, fam.objective or objective, budget))
        schedule = [(f.test[0], fam.make(v)) for f, (v, _) in zip(fs, chosen, strict=True)]
        run = oos.run(Scheduled(spec, schedule), target)
        fold_rows = [
            {"train": _span(f.train), "test": _span(f.test), "value": v, "spec": fam.make(v).spec,
             "budget_mean_drift": b, "in_sample": _figures(m), "out_of_sample": _figures(run.window(*f.test).metrics())}
            for f, (v, m), b in zip(fs, chosen, budgets, strict=True)
        ]  # fmt: skip
        rows.append(
            {
                "spec": spec,
                "tuned": True,
                "param": fam.param,
                "folds": fold_rows,
                **_summary([m for _, m in chosen], run),
            }
        )
        runs.append(run)
    settings = {
        "train_days": train_days,
        "test_days": test_days,
        "windows": "expanding" if expanding else "rolling",
        "objective": objective,
        "out_of_sample": _span((oos.dates[0], oos.dates[-1])),
        "coins": list(prices.coins),
        "target": dict(target.allocations),
        "equity": equity,
    }
    return WalkForwardResult(rows, runs, fs, settings)


def _summary(ins: list[dict[str, float]], run: Run) -> dict[str, Any]:
    mean = {k: float(np.mean([m[k] for m in ins])) for k in FIGURES}
    return {"in_sample": _figures(mean), "out_of_sample": _figures(run.metrics())}

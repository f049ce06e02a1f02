"""The backtest use case: price history + target + policies → each policy's path and metrics.

Nothing here touches the exchange or the account's records: prices come from a file (or a folder of
provider daily files), the target from the request or the configured targets, and every decision goes
through the project's planner (``agent.core.simulation``). ``strategist:offline`` re-decides with the
offline strategist on the first trading day of each month, from the closes up to that day only;
``strategist:cassette=FILE`` replays recorded decisions (a JSON list of ``{"date": "YYYY-MM-DD",
"target_allocation": {…}, "selected_strategy": …, "reasoning": …}``, each in force from its date).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from agent.adapters.price_files import load_price_history
from agent.core.domain import PortfolioState, TargetAllocation
from agent.core.errors import TargetValidationError, ValidationError
from agent.core.limits import Limits
from agent.core.policies import CostAware, EqualWeight, Retarget, new_period, parse_policy
from agent.core.prices import PriceTable
from agent.core.simulation import Day, Policy, Run, Simulation, TradingCosts, Universe
from agent.core.targets import parse_target
from agent.strategist import trend
from agent.strategist.base import DecisionContext
from agent.strategist.features import market_features
from agent.strategist.offline import OfflineStrategist

#: how far the drift aversion is searched when matching another policy's mean drift.
AVERSION_RANGE = (1e-8, 1e-1)
MATCH_STEPS = 14

Progress = Callable[[str, int], Callable[[int], None]]


@dataclass
class BacktestResult:
    """Every policy's run, the window, the cost model, and (with ``--match-drift``) the matched knob."""

    runs: list[Run]
    coins: list[str]
    costs: TradingCosts
    equity: float
    match: dict[str, Any] | None = None
    targets: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """Each policy's figures and its daily path (date, equity, every weight and USDC's), the window, the costs.

        ``turnover_pa`` counts every leg of every trade, the USDC leg included (Σ|Δw| over coins and cash, a
        year); ``turnover_pa_coin_legs_halved`` is the older figure (half the coin legs, no USDC).
        """
        d0, d1 = self.runs[0].dates[0], self.runs[0].dates[-1]
        base = next((r for r in self.runs if r.spec == "calendar:monthly"), None)
        base_cost = base.metrics()["cost_bp_pa"] if base else None
        out = []
        for r in self.runs:
            m = r.metrics()
            if base_cost:
                m["cost_ratio_to_monthly"] = m["cost_bp_pa"] / base_cost
            out.append({"spec": r.spec, "metrics": _finite(m), "path": r.path()})
        return {
            "policies": out,
            "window": {
                "start": d0.isoformat(),
                "end": d1.isoformat(),
                "days": len(self.runs[0].dates),
                "coins": self.coins,
                "target": self.targets,
                "equity": self.equity,
            },
            "costs": {
                "fee_bps": self.costs.fee_bps,
                "half_spread_bps": self.costs.half_spread_bps,
                "impact_k": self.costs.impact_k,
                "min_trade_usd": self.costs.min_trade_usd,
            },
            **({"match_drift": self.match} if self.match else {}),
        }


def _finite(m: dict[str, float]) -> dict[str, float]:
    return {k: (v if isinstance(v, int) or math.isfinite(v) else None) for k, v in m.items()}  # type: ignore[misc]


def load_prices(path: str | Path, coins: Sequence[str] | None = None) -> PriceTable:
    """A price file in any shape ``agent.adapters.price_files`` reads, or a folder of CryptoDataDownload daily
    files (only ``coins`` read from a folder)."""
    return load_price_history(path, coins)


def policy_for(spec: str) -> Policy:
    """Any spec, the strategist ones included."""
    s = spec.strip()
    if s == "strategist:offline":
        return Retarget(s, _offline_provider())
    if s.startswith("strategist:cassette="):
        return Retarget(s, _cassette_provider(Path(s.removeprefix("strategist:cassette="))))
    return parse_policy(s)


def run_backtest(
    prices: PriceTable,
    target: TargetAllocation,
    specs: Sequence[str],
    *,
    start: date | None = None,
    end: date | None = None,
    equity: float = 100_000.0,
    costs: TradingCosts | None = None,
    match_drift: str | None = None,
    progress: Progress | None = None,
    universe: Universe | None = None,
) -> BacktestResult:
    """Run every policy over the window; ``match_drift`` adds the cost-aware policy tuned to that one's drift.

    With a ``universe`` (coins entering and leaving over time) every coin of ``prices`` stays in the run.
    """
    if not specs and not match_drift:
        raise ValidationError("give at least one --policy")
    policies = [policy_for(s) for s in specs]  # every spec checked before any work
    strategist_coins = any(isinstance(p, Retarget | EqualWeight) for p in policies)
    if not strategist_coins and universe is None:
        prices = prices.select([c for c in prices.coins if c in target.weights] or list(prices.coins))
    sim = Simulation(prices, start=start, end=end, equity=equity, costs=costs, universe=universe)
    sim.check_target(target)
    days = len(sim.dates)
    runs = []
    for p in policies:
        tick = progress(p.spec, days) if progress else None
        runs.append(sim.run(p, target, tick))
    match = None
    if match_drift:
        ref = next((r for r in runs if r.spec == match_drift.strip()), None)
        if ref is None:
            tick = progress(match_drift, days) if progress else None
            ref = sim.run(policy_for(match_drift), target, tick)
            runs.append(ref)
        run, aversion = _match(sim, target, ref.metrics()["mean_drift"], match_drift, progress)
        runs.append(run)
        match = {
            "policy": match_drift,
            "mean_drift": ref.metrics()["mean_drift"],
            "drift_aversion": aversion,
            "spec": run.spec,
        }
    return BacktestResult(runs, list(prices.coins), sim.costs, sim.equity0, match, dict(target.allocations))


def _match(
    sim: Simulation, target: TargetAllocation, goal: float, ref: str, progress: Progress | None
) -> tuple[Run, float]:
    """Bisect log(drift aversion) for the cost-aware run whose mean drift is at most ``goal`` (closest)."""
    lo, hi = math.log(AVERSION_RANGE[0]), math.log(AVERSION_RANGE[1])
    best: tuple[Run, float] | None = None
    tick = progress(f"matching {ref}'s drift", MATCH_STEPS * len(sim.dates)) if progress else None
    for step in range(MATCH_STEPS):
        a = math.exp((lo + hi) / 2)

        def on_day(k: int, offset: int = step * len(sim.dates)) -> None:
            if tick is not None:
                tick(offset + k)

        run = sim.run(CostAware(a), target, on_day)
        if run.metrics()["mean_drift"] > goal:
            lo = math.log(a)  # too much drift: more aversion
        else:
            hi = math.log(a)
            best = (run, a)
    if best is None:
        raise ValidationError(f"--match-drift {ref}: no drift aversion reaches its mean drift {goal:.2%}")
    run, a = best
    run.spec = f"cost-aware (matched to {ref}, A={a:.3g})"
    return run, a


# -- strategist policies ------------------------------------------------------------------------------


def strategist_policy(vol_target: float) -> Retarget:
    """The offline strategist with the trend rule's volatility target set (``strategist:fit`` fits it)."""
    return Retarget(f"strategist:offline (vol target {vol_target:.0%})", _offline_provider(vol_target))


def _offline_provider(
    vol_target: float = trend.VOL_TARGET,
) -> Callable[[Day | None, Simulation], TargetAllocation | None]:
    strategist = OfflineStrategist()

    def decide(day: Day | None, sim: Simulation) -> TargetAllocation | None:
        if day is not None and not new_period(day, "monthly"):
            return None
        i = day.i if day is not None else sim.lo
        closes = sim.closes_until(i)
        market = sim.market(i)
        members = set(sim.members(i))
        closes = {c: v for c, v in closes.items() if c in market.assets and c in members}
        state = PortfolioState(perp_account_value=sim.equity0, timestamp=market.timestamp) if day is None else day.state
        ctx = DecisionContext(state=state, market=market, features=market_features(closes), limits=Limits())
        decision = OfflineStrategist(strategist.strategies, closes=closes, vol_target=vol_target).decide(ctx)
        return decision.target if decision.status == "ok" else None

    return decide


def _cassette_provider(path: Path) -> Callable[[Day | None, Simulation], TargetAllocation | None]:
    try:
        raw = json.loads(path.read_text())
    except FileNotFoundError:
        raise ValidationError(f"strategist:cassette={path}: no such file") from None
    except json.JSONDecodeError as e:
        raise ValidationError(f"strategist:cassette={path}: not valid JSON ({e.msg} at line {e.lineno})") from None
    if not isinstance(raw, list) or not raw:
        raise ValidationError(f"strategist:cassette={path}: expected a list of {{date, target_allocation}} decisions")
    entries: list[tuple[date, TargetAllocation]] = []
    for k, item in enumerate(raw):
        if not isinstance(item, dict) or "date" not in item or "target_allocation" not in item:
            raise ValidationError(f"strategist:cassette={path}: decision {k} needs date and target_allocation")
        try:
            when = date.fromisoformat(str(item["date"]))
            entries.append((when, parse_target({k2: v for k2, v in item.items() if k2 != "date"})))
        except ValueError:
            raise ValidationError(f"strategist:cassette={path}: decision {k}: bad date {item['date']!r}") from None
        except TargetValidationError as e:
            raise ValidationError(f"strategist:cassette={path}: decision {k}: {e}") from None
    entries.sort(key=lambda e: e[0])

    def decide(day: Day | None, sim: Simulation) -> TargetAllocation | None:
        when = day.when if day is not None else sim.dates[0]
        now = [t for d, t in entries if d <= when]
        if day is None:
            return now[-1] if now else None
        prev = sim.prices.dates[day.i - 1]
        fresh = [t for d, t in entries if prev < d <= when]
        return fresh[-1] if fresh else None

    return decide

"""The backtest's day loop: each day a policy asks the project's planner for a plan; trades fill at the close.

The book is a perp account at 1x (Hyperliquid's shape: the account value is USDC plus the positions' PnL;
a weight is signed notional / equity; USDC is the remainder and earns nothing). Per day ``i``:

1. value the positions at the close ``p_i`` (a blank price is the last close carried forward);
2. the policy may return a ``RebalancingPlan`` from ``PortfolioRebalancer`` for that day's state and a
   market whose mids are the closes, on a synthetic lot grid (``szDecimals`` chosen from the first price
   so that a lot is worth $0.1–$1, like Hyperliquid's);
3. each action fills whole at the close; its cost, paid from USDC, is
   ``|N|·(fee + half_spread) + k·σ30·sqrt(|N|/V)·|N|`` (σ30: std of the last 30 daily log returns; V:
   that day's traded value; no impact term without a volume);
4. drift ½Σ|w − w*| (USDC included) is measured after the trades.

The portfolio starts exactly at target on the first day, with no build cost.

A coin may have no price yet (listed later) or no longer (delisted): its lot grid comes from its first close,
and a universe (``agent.core.universe``) may say which coins a policy holds on each day; without one, every
coin with a close that day.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Protocol

import numpy as np

from agent.core.costs import CostModel
from agent.core.domain import Market, MarketInfo, PortfolioState, Position, RebalancingPlan, TargetAllocation
from agent.core.errors import ValidationError
from agent.core.metrics import return_stats
from agent.core.planner import PortfolioRebalancer
from agent.core.prices import PriceTable, rolling_std

MIN_DAYS = 60


class Universe(Protocol):
    """Which coins may be held on day ``i`` (chosen from rows up to ``i`` only)."""

    @property
    def spec(self) -> str: ...

    def members(self, i: int) -> tuple[str, ...]: ...


@dataclass(frozen=True, kw_only=True)
class TradingCosts:
    """The backtest's cost model, e.g. ``TradingCosts(fee_bps=4.5, half_spread_bps=1, impact_k=0.1)``."""

    fee_bps: float = 4.5
    half_spread_bps: float = 1.0
    impact_k: float = 0.1
    min_trade_usd: float = 10.0

    def __post_init__(self) -> None:
        if min(self.fee_bps, self.half_spread_bps, self.impact_k, self.min_trade_usd) < 0:
            raise ValidationError("costs: fee, half-spread, impact and minimum trade must be ≥ 0")

    @property
    def rate(self) -> float:
        """Proportional cost per dollar traded (fee + half-spread)."""
        return (self.fee_bps + self.half_spread_bps) / 10_000

    def cost(self, notional: np.ndarray, sigma: np.ndarray, volume: np.ndarray) -> np.ndarray:
        """Cost in USD of trading ``notional`` (per asset) with daily σ and traded value ``volume``."""
        n = np.abs(np.asarray(notional, dtype=float))
        v = np.asarray(volume, dtype=float)
        s = np.nan_to_num(np.asarray(sigma, dtype=float))
        has_v = np.isfinite(v) & (v > 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            impact = np.where(has_v, self.impact_k * s * np.sqrt(n / np.where(has_v, v, 1.0)) * n, 0.0)
        return n * self.rate + impact

    def planner_costs(self) -> CostModel:
        """What the planner estimates with (its capital check): fee + half-spread, no book to walk."""
        return CostModel(perp_taker_fee=self.rate, spot_taker_fee=self.rate, fallback_slippage_bps=0.0)


@dataclass
class Day:
    """What a policy sees on day ``i``: the state, the market, the target, and history up to that close."""

    i: int
    when: date
    now: datetime
    state: PortfolioState
    market: Market
    target: TargetAllocation
    sim: Simulation


class Policy:
    """A rebalancing rule: ``spec`` names it; ``plan`` returns that day's plan or None (no decision)."""

    spec: str = ""

    def start(self, sim: Simulation, target: TargetAllocation) -> TargetAllocation:
        """Called once before the first day; may replace the starting target (a strategist's)."""
        return target

    def retarget(self, day: Day) -> TargetAllocation | None:
        """A new target from today on (a strategist re-deciding), or None."""
        return None

    def plan(self, day: Day) -> RebalancingPlan | None:
        raise NotImplementedError

    def planner(self, sim: Simulation, **kw: object) -> PortfolioRebalancer:
        """The project's planner with the run's rules: minimum trade, no leverage, the run's costs."""
        return PortfolioRebalancer(
            min_trade_value=sim.costs.min_trade_usd,
            costs=sim.costs.planner_costs(),
            **kw,  # type: ignore[arg-type]
        )


@dataclass
class Run:
    """One policy's path: equity, drift and weights after each day's trades, and what trading cost."""

    spec: str
    dates: list[date]
    equity: np.ndarray
    drift: np.ndarray
    weights: np.ndarray  # days × coins (signed), after trades
    cost_usd: np.ndarray  # per day
    traded_usd: np.ndarray  # per day, Σ|trade|
    trades: np.ndarray  # per day, number of fills
    targets: list[tuple[date, dict[str, float]]] = field(default_factory=list)
    cash_leg_usd: np.ndarray = field(default_factory=lambda: np.zeros(0))  # per day, |net USDC paid or received|
    coins: tuple[str, ...] = ()

    def window(self, first: date, last: date) -> Run:
        """The part of this path from ``first`` to ``last`` (inclusive), e.g. one walk-forward fold."""
        k = [j for j, d in enumerate(self.dates) if first <= d <= last]
        if not k:
            raise ValidationError(f"{self.spec}: no day between {first} and {last}")
        a, b = k[0], k[-1] + 1
        cash = self.cash_leg_usd[a:b] if len(self.cash_leg_usd) else self.cash_leg_usd
        return Run(
            self.spec, self.dates[a:b], self.equity[a:b], self.drift[a:b], self.weights[a:b], self.cost_usd[a:b],
            self.traded_usd[a:b], self.trades[a:b], [t for t in self.targets if first <= t[0] <= last], cash,
            self.coins,
        )  # fmt: skip

    def path(self) -> list[dict[str, Any]]:
        """Each day after its trades: date, equity, and the weight of every coin and of USDC (cash)."""
        out = []
        for k, d in enumerate(self.dates):
            w = {c: float(x) for c, x in zip(self.coins, self.weights[k], strict=True)}
            w["USDC"] = float(1.0 - np.abs(self.weights[k]).sum())
            out.append({"date": d.isoformat(), "equity": float(self.equity[k]), "weights": w})
        return out

    def metrics(self) -> dict[str, float]:
        days = (self.dates[-1] - self.dates[0]).days or 1
        years = days / 365.0
        mean_e = float(self.equity.mean())
        stats = return_stats(self.equity, days)
        legs = self.cash_leg_usd if len(self.cash_leg_usd) == len(self.equity) else np.zeros(len(self.equity))
        return {
            "mean_drift": float(self.drift.mean()),
            "p95_drift": float(np.percentile(self.drift, 95)),
            "max_drift": float(self.drift.max()),
            # every leg of every trade, the USDC leg included: Σ|Δw| over the coins and cash, a year
            "turnover_pa": float(((self.traded_usd + legs) / self.equity).sum() / years),
            # the older figure: half the coin legs only (leaves out USDC; ½ of a one-sided count)
            "turnover_pa_coin_legs_halved": float((0.5 * self.traded_usd / self.equity).sum() / years),
            "cost_usd": float(self.cost_usd.sum()),
            # Σ each day's cost over that day's equity, annualised (bp of equity per year)
            "cost_bp_pa": float((self.cost_usd / self.equity).sum() / years * 1e4),
            # the older figure: total cost over the window's mean equity (off when equity moved a lot)
            "cost_bp_pa_mean_equity": float(self.cost_usd.sum() / mean_e / years * 1e4) if mean_e > 0 else 0.0,
            "rebalances_pa": float((self.trades > 0).sum() / years),
            "trades": int(self.trades.sum()),
            "final_equity": float(self.equity[-1]),
            **{k: stats[k] for k in ("cagr", "vol_pa", "sharpe", "sortino", "max_drawdown")},
        }


class Simulation:
    """A price history, a window, a starting equity and a cost model: run policies over it."""

    def __init__(
        self,
        prices: PriceTable,
        *,
        start: date | None = None,
        end: date | None = None,
        equity: float = 100_000.0,
        costs: TradingCosts | None = None,
        universe: Universe | None = None,
    ) -> None:
        if not equity > 0:
            raise ValidationError("equity must be > 0")
        self.prices = prices
        self.costs = costs or TradingCosts()
        self.equity0 = float(equity)
        self.universe = universe
        self.lo, self.hi = prices.index_range(start, end)
        if self.hi - self.lo + 1 < MIN_DAYS:
            raise ValidationError(
                f"the window has {self.hi - self.lo + 1} days of prices; a backtest needs at least {MIN_DAYS}"
            )
        self.close = prices.filled()
        self.log_ret = np.log(self.close[1:] / self.close[:-1]) if len(self.close) > 1 else np.zeros((0, 0))
        self.log_ret = np.vstack([np.full((1, len(prices.coins)), np.nan), self.log_ret])
        self.sigma30 = rolling_std(self.log_ret, 30)
        listed = np.isfinite(self.prices.close)  # each coin's first close (a later listing has none on day lo)
        first = self.prices.close[listed.argmax(axis=0), np.arange(len(prices.coins))]
        ok = np.isfinite(first)
        self.szd = np.where(ok, np.clip(np.floor(np.log10(np.where(ok, first, 1.0))) + 1, 0, 5), 0).astype(int)
        self._markets: dict[int, Market] = {}

    @property
    def dates(self) -> list[date]:
        return list(self.prices.dates[self.lo : self.hi + 1])

    def members(self, i: int) -> tuple[str, ...]:
        """The coins a policy may hold on day ``i``: the universe's, else every coin with a close that day."""
        if self.universe is not None:
            return self.universe.members(i)
        return tuple(c for c, px in zip(self.prices.coins, self.prices.close[i], strict=True) if np.isfinite(px))

    def check_target(self, target: TargetAllocation) -> None:
        """Every target coin has a column and a price on the first day."""
        missing = [c for c in target.weights if c not in self.prices.coins]
        if missing:
            raise ValidationError(f"prices: no column for target coin {', '.join(missing)}")
        first = self.prices.dates[self.lo].isoformat()
        blank = [c for c in target.weights if not np.isfinite(self.close[self.lo, self.prices.column(c)])]
        if blank:
            raise ValidationError(f"prices: no price for {', '.join(blank)} on the first day ({first})")

    def market(self, i: int, held: np.ndarray | None = None) -> Market:
        """Day i's market: every coin with a close that day, and any ``held`` coin at its last close."""
        m = self._markets.get(i)
        if m is None:
            when = datetime.combine(self.prices.dates[i], datetime.min.time(), UTC)
            quoted = np.isfinite(self.prices.close[i])
            m = self._markets[i] = Market(assets=self._infos(i, quoted), timestamp=when)
        if held is not None:
            stale = held & ~np.isfinite(self.prices.close[i]) & np.isfinite(self.close[i])
            if stale.any():
                m = Market(assets={**m.assets, **self._infos(i, stale)}, timestamp=m.timestamp)
        return m

    def _infos(self, i: int, which: np.ndarray) -> dict[str, MarketInfo]:
        return {
            c: MarketInfo(coin=c, market="perp", asset=j, wire_name=c, sz_decimals=int(self.szd[j]), mid=float(px))
            for j, (c, px) in enumerate(zip(self.prices.coins, self.close[i], strict=True))
            if which[j]
        }

    def run(self, policy: Policy, target: TargetAllocation, on_day: Callable[[int], None] | None = None) -> Run:
        """Simulate ``policy`` from an account exactly at ``target`` on the first day."""
        self.check_target(target)
        target = policy.start(self, target)
        coins = self.prices.coins
        n, days = len(coins), self.hi - self.lo + 1
        equity, drift = np.zeros(days), np.zeros(days)
        weights, cost, traded, trades = np.zeros((days, n)), np.zeros(days), np.zeros(days), np.zeros(days, int)
        cash_leg = np.zeros(days)
        p0 = self.close[self.lo]
        t = self._weights(target)
        pos = np.where(t != 0, t * self.equity0 / np.where(np.isfinite(p0), p0, 1.0), 0.0)
        cash = self.equity0 - float((pos * np.nan_to_num(p0)).sum())
        index = {c: j for j, c in enumerate(coins)}
        run = Run(policy.spec, self.dates, equity, drift, weights, cost, traded, trades, [], cash_leg, coins)
        run.targets.append((self.prices.dates[self.lo], dict(target.allocations)))
        for k, i in enumerate(range(self.lo, self.hi + 1)):
            p = np.nan_to_num(self.close[i])
            if k > 0:
                day = self._day(i, pos, cash, p, target, coins)
                new = policy.retarget(day)
                if new is not None:
                    target, t = new, self._weights(new)
                    day.target = new
                    run.targets.append((day.when, dict(new.allocations)))
                plan = policy.plan(day)
                if plan is not None and plan.actions:
                    delta = np.zeros(n)
                    for a in plan.actions:
                        delta[index[a.coin]] += a.size if a.side == "buy" else -a.size
                    notional = np.abs(delta) * p
                    c = self.costs.cost(notional, self.sigma30[i], self.prices.volume[i])
                    pos = pos + delta
                    cash -= float((delta * p).sum()) + float(c.sum())
                    cost[k], traded[k], trades[k] = float(c.sum()), float(notional.sum()), len(plan.actions)
                    cash_leg[k] = abs(float((delta * p).sum()))
            e = cash + float((pos * p).sum())
            w = pos * p / e if e > 0 else np.zeros(n)
            equity[k], weights[k] = e, w
            drift[k] = 0.5 * (np.abs(w - t).sum() + abs((1 - np.abs(w).sum()) - (1 - np.abs(t).sum())))
            if on_day is not None:
                on_day(k)
        return run

    def _weights(self, target: TargetAllocation) -> np.ndarray:
        return np.array([target.allocations.get(c, 0.0) for c in self.prices.coins], dtype=float)

    def _day(
        self, i: int, pos: np.ndarray, cash: float, p: np.ndarray, target: TargetAllocation, coins: tuple[str, ...]
    ) -> Day:
        market = self.market(i, pos != 0)
        positions = {
            c: Position(coin=c, market="perp", size=float(s), leverage=1.0, margin_used=abs(float(s * px)))
            for c, s, px in zip(coins, pos, p, strict=True)
            if s != 0
        }
        e = cash + float((pos * p).sum())
        state = PortfolioState(
            perp_account_value=e, perp_withdrawable=max(cash, 0.0), positions=positions, timestamp=market.timestamp
        )
        return Day(i, self.prices.dates[i], market.timestamp, state, market, target, self)

    # -- history a policy may look at (rows up to and including day i, never later) -------------
    def simple_returns(self, i: int, lookback: int) -> np.ndarray:
        lo = max(1, i - lookback + 1)
        c = self.close[lo - 1 : i + 1]
        with np.errstate(divide="ignore", invalid="ignore"):
            return c[1:] / c[:-1] - 1.0

    def closes_until(self, i: int) -> dict[str, np.ndarray]:
        """Each coin's closes up to day i (from its first close), as the strategist's features want them."""
        out = {}
        for j, c in enumerate(self.prices.coins):
            col = self.prices.close[: i + 1, j]
            col = col[np.isfinite(col)]
            if len(col):
                out[c] = col
        return out

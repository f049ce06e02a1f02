"""Pure-core properties of the backtest: costs, buy-and-hold arithmetic, the cost-aware bands, delisted coins."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.core.bands import BandModel
from agent.core.domain import TargetAllocation
from agent.core.policies import parse_policy
from agent.core.prices import PriceTable
from agent.core.simulation import Simulation, TradingCosts


def table(paths: np.ndarray, volume: float | None = 1e9) -> PriceTable:
    days = tuple(date(2024, 1, 1) + timedelta(days=i) for i in range(paths.shape[0]))
    coins = tuple(f"C{j}" for j in range(paths.shape[1]))
    vol = np.full(paths.shape, np.nan if volume is None else volume)
    return PriceTable(days, coins, paths, vol)


def random_paths(seed: int, n: int = 3, t: int = 90) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return 100 * np.exp(np.cumsum(rng.normal(0, 0.04, (t, n)), axis=0))


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), w=st.lists(st.floats(0.05, 0.3), min_size=3, max_size=3))
def test_never_is_buy_and_hold_from_exactly_the_target(seed, w):
    paths = random_paths(seed)
    target = TargetAllocation.from_json({f"C{j}": x for j, x in enumerate(w)})
    run = Simulation(table(paths), equity=10_000).run(parse_policy("never"), target)
    expected = 10_000 * (1 - sum(w) + sum(x * paths[-1, j] / paths[0, j] for j, x in enumerate(w)))
    assert run.equity[-1] == pytest.approx(expected, rel=1e-12)
    assert run.drift[0] == pytest.approx(0, abs=1e-12) and run.cost_usd.sum() == 0


@settings(max_examples=25, deadline=None)
@given(n=st.floats(0, 1e7), sigma=st.floats(0, 0.2), v=st.floats(1e3, 1e10))
def test_cost_is_linear_plus_impact_and_impact_needs_a_volume(n, sigma, v):
    c = TradingCosts(fee_bps=4.5, half_spread_bps=1, impact_k=0.1)
    got = c.cost(np.array([n, -n]), np.array([sigma, sigma]), np.array([v, np.nan]))
    assert got[0] == pytest.approx(n * 5.5e-4 + 0.1 * sigma * np.sqrt(n / v) * n)
    assert got[1] == pytest.approx(n * 5.5e-4)  # no volume: no impact term


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), a=st.floats(1e-7, 1e-2), k=st.floats(1.5, 10))
def test_bands_narrow_with_aversion_widen_with_cost_and_close_a_zero_target(seed, a, k):
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 0.03, (60, 3))
    cov = np.cov(x, rowvar=False)
    coins = ("A", "B", "C")
    t = np.array([0.4, 0.3, 0.0])
    cheap = BandModel(coins, cov, np.full(3, 5e-4), np.zeros(3))
    dear = BandModel(coins, cov, np.full(3, 5e-4 * k), np.zeros(3))
    h = cheap.half_widths(list(coins), t, 1e5, a, 0.05)
    assert (cheap.half_widths(list(coins), t, 1e5, a * k, 0.05)[:2] < h[:2]).all()
    assert (dear.half_widths(list(coins), t, 1e5, a, 0.05)[:2] > h[:2]).all()
    assert h[2] == 0.0  # a zero target has no band: the asset is exited
    assert cheap.half_widths(["A", "Z"], t[:2], 1e5, a, 0.05)[1] == 0.05  # not covered: the fixed band


def test_a_coin_without_a_price_leaves_the_market_but_a_held_one_keeps_its_last_close():
    paths = random_paths(1, 2, 80)
    paths[50:, 1] = np.nan  # C1 delisted after day 49
    sim = Simulation(table(paths))
    assert "C1" not in sim.market(60).assets
    held = sim.market(60, np.array([False, True]))
    assert held.assets["C1"].mid == pytest.approx(paths[49, 1])
    run = sim.run(parse_policy("never"), TargetAllocation.from_json({"C0": 0.5, "C1": 0.3}))
    assert np.isfinite(run.equity).all()

"""The default rule: multi-horizon trend votes, volatility-scaled slots, lookback weights fitted on the past only."""

from __future__ import annotations

import math

import numpy as np
import pytest

from agent.core.domain import CASH
from agent.core.limits import Limits
from agent.core.targets import validate_target
from agent.strategist import trend
from agent.strategist.base import DecisionContext
from agent.strategist.features import market_features
from agent.strategist.offline import OfflineStrategist

from .conftest import cash_state, make_market


def path(*legs: tuple[float, int], start: float = 100.0, noise: float = 0.02, seed: int = 1) -> np.ndarray:
    """Closes drifting ``daily`` for ``days`` per leg, with Gaussian daily noise (reproducible)."""
    rng = np.random.default_rng(seed)
    r = np.concatenate([np.full(days, daily) for daily, days in legs])
    return start * np.exp(np.cumsum(r + rng.normal(0, noise, len(r))))


def decide(closes: dict[str, np.ndarray]):
    ctx = DecisionContext(
        state=cash_state(), market=make_market(closes), features=market_features(closes), limits=Limits(), closes=closes
    )
    return OfflineStrategist(closes=closes).decide(ctx), ctx


def test_a_single_coin_in_a_calm_uptrend_fills_its_slot_up_to_the_vol_target() -> None:
    btc = path((0.004, 400), noise=0.01)
    t = trend.target({"BTC": btc}, ["BTC"])
    c = t.coins[0]
    assert all(c.votes) and c.share == pytest.approx(1.0)
    assert c.vol < trend.VOL_TARGET and t.weights["BTC"] == pytest.approx(1.0)  # calm: the whole slot


def test_a_volatile_coin_is_scaled_to_the_vol_target() -> None:
    wild = path((0.01, 400), noise=0.06)
    c = trend.target({"X": wild}, ["X"]).coins[0]
    assert c.vol > trend.VOL_TARGET
    assert c.weight == pytest.approx(c.share * trend.VOL_TARGET / c.vol)


def test_all_trends_down_is_all_cash_and_the_rule_buys_back_when_the_trend_returns() -> None:
    crash = path((0.003, 300), (-0.01, 200))
    assert trend.target({"BTC": crash}, ["BTC"]).weights == {}
    recovered = path((0.003, 300), (-0.01, 200), (0.008, 200))
    assert trend.target({"BTC": recovered}, ["BTC"]).weights["BTC"] > 0.3


def test_each_coin_owns_a_slot_of_one_over_n() -> None:
    up, down = path((0.004, 400), noise=0.01, seed=2), path((-0.004, 400), noise=0.01, seed=3)
    t = trend.target({"A": up, "B": down, "C": down * 2}, ["A", "B", "C"])
    assert set(t.weights) == {"A"} and t.weights["A"] == pytest.approx(1 / 3)


def test_a_lookback_without_history_votes_no() -> None:
    young = path((0.004, 100), noise=0.01)  # 100 closes: 30, 60 and 90 days can vote, 120 and 180 cannot
    c = trend.target({"NEW": young}, ["NEW"]).coins[0]
    assert c.votes == (True, True, True, False, False)
    assert 0 < c.share < 1


def test_the_fit_is_equal_without_history_and_favours_the_lookback_that_worked() -> None:
    short = trend.fit({"BTC": path((0.002, 60))}, ["BTC"])
    assert short.weights == pytest.approx((0.2,) * 5) and short.points < trend.MIN_FIT_POINTS
    # a market that reverses every ~100 days: a short lookback catches the turns, 180 days is always late
    legs = [(0.012 if k % 2 == 0 else -0.012, 100) for k in range(10)]
    f = trend.fit({"BTC": path(*legs, noise=0.01)}, ["BTC"])
    assert sum(f.weights) == pytest.approx(1.0)
    assert min(f.weights) >= trend.SHRINK / len(trend.LOOKBACKS) - 1e-12
    assert f.weights[0] > f.weights[-1] and f.scores[0] > f.scores[-1]


def test_the_fit_reads_only_the_closes_it_is_given() -> None:
    full = path((0.003, 500), (-0.005, 300), (0.004, 400))
    at = 900
    past = trend.fit({"BTC": full[: at + 1]}, ["BTC"])
    again = trend.fit({"BTC": full[: at + 1].copy()}, ["BTC"])
    later = trend.fit({"BTC": full}, ["BTC"])
    assert past == again and past != later


def test_the_offline_default_is_the_trend_rule_with_its_reasons(closes) -> None:
    d, ctx = decide(closes)
    assert d.ok and d.selected_strategy == "trend-following"
    assert d.target is not None
    validate_target(d.target, ctx.market)
    assert "- trend-following: YES" in d.reasoning and "lookback weights" in d.reasoning.lower()
    assert "votes" in d.reasoning and f"min(1, {trend.VOL_TARGET:.0%}" in d.reasoning
    assert d.target.cash_weight == pytest.approx(1 - sum(w for c, w in d.target.allocations.items() if c != CASH))


def test_a_single_coin_universe_works_and_comes_back_after_a_crash() -> None:
    crash = {"BTC": path((0.003, 300), (-0.01, 200))}
    d, _ = decide(crash)
    assert d.ok and d.target is not None and d.target.allocations == {CASH: 1.0}
    back = {"BTC": path((0.003, 300), (-0.01, 200), (0.008, 200))}
    d2, _ = decide(back)
    assert d2.ok and d2.target is not None and d2.target.allocations["BTC"] > 0.3


def test_a_configured_target_still_wins(closes) -> None:
    ctx = DecisionContext(
        state=cash_state(),
        market=make_market(closes),
        features=market_features(closes),
        current_targets={"BTC": 0.5, CASH: 0.5},
    )
    assert OfflineStrategist(closes=closes).decide(ctx).selected_strategy == "fixed-targets"


def test_the_parameter_grid_is_described_for_a_walk_forward_report() -> None:
    g = trend.PARAMETER_GRID
    assert g["fitted"]["lookback_days"] == list(trend.LOOKBACKS)
    assert g["fit"]["window_days"] == trend.FIT_DAYS and math.isfinite(g["fixed"]["vol_target"])

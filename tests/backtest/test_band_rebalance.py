"""Properties of the usual band (``band:X``): every weight, the cash included, ends inside its band; nothing trades
inside the bands; drift never grows; the net cash goes to the most under- or overweight coins."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.core.band_rebalance import band_weights
from agent.core.domain import TargetAllocation
from agent.core.errors import ValidationError
from agent.core.policies import Band, UsualBand, parse_policy
from agent.core.prices import PriceTable
from agent.core.simulation import Simulation

EPS = 1e-9


@st.composite
def book(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, float]:
    """Long weights and a long target over 1–8 coins, each summing to at most 1, and a half-width."""
    n = draw(st.integers(1, 8))
    raw_t = np.array(draw(st.lists(st.floats(0, 1), min_size=n + 1, max_size=n + 1)))
    raw_w = np.array(draw(st.lists(st.floats(0, 1), min_size=n + 1, max_size=n + 1)))
    t = raw_t[:n] / max(raw_t.sum(), 1e-9)
    w = raw_w[:n] / max(raw_w.sum(), 1e-9)
    return w, t, draw(st.floats(0.002, 0.2))


def drift(w: np.ndarray, t: np.ndarray) -> float:
    return 0.5 * (np.abs(w - t).sum() + abs(t.sum() - w.sum()))


@settings(max_examples=400, deadline=None)
@given(book())
def test_every_weight_and_the_cash_end_inside_their_bands(b):
    w, t, x = b
    z, _ = band_weights(w, t, x)
    assert (np.abs(z - t) <= x + EPS).all()
    assert abs((1 - z.sum()) - (1 - t.sum())) <= x + EPS
    assert (z >= -EPS).all() and z.sum() <= 1 + EPS  # never short, never levered


@settings(max_examples=400, deadline=None)
@given(book())
def test_drift_never_grows_and_nothing_trades_inside_the_bands(b):
    w, t, x = b
    z, traded = band_weights(w, t, x)
    assert drift(z, t) <= drift(w, t) + EPS
    inside = (np.abs(w - t) <= x).all() and abs(w.sum() - t.sum()) <= x
    if inside:
        assert not traded and np.array_equal(z, w)
    else:
        assert traded


@settings(max_examples=400, deadline=None)
@given(book())
def test_coins_inside_their_band_only_move_towards_target(b):
    w, t, x = b
    z, _ = band_weights(w, t, x)
    inside = np.abs(w - t) <= x
    # the net cash moves a coin towards its target and never past it
    assert (np.abs(z - t)[inside] <= np.abs(w - t)[inside] + EPS).all()
    assert ((z - t)[inside] * (w - t)[inside] >= -EPS).all()


@settings(max_examples=200, deadline=None)
@given(book())
def test_the_cash_stays_put_when_inside_its_band_unless_no_coin_can_take_the_rest(b):
    w, t, x = b
    z, _ = band_weights(w, t, x)
    c, ct, cz = 1 - w.sum(), 1 - t.sum(), 1 - z.sum()
    if abs(c - ct) <= x:
        # self-financing, or what is left over moved the cash towards its target (every coin at target)
        assert cz == pytest.approx(c, abs=1e-9) or abs(cz - ct) <= abs(c - ct) + EPS


def test_proceeds_go_to_the_most_underweight_coin_first():
    t = np.array([0.25, 0.25, 0.25, 0.25])
    w = np.array([0.35, 0.24, 0.18, 0.23])  # A is 10 pp over a ±5 pp band; C is the most underweight
    z, traded = band_weights(w, t, 0.05)
    assert traded
    assert z[0] == pytest.approx(0.30)  # back to the edge, not to target
    assert z[2] == pytest.approx(0.23)  # the 5 pp of proceeds go to C first
    assert z[1] == pytest.approx(0.24) and z[3] == pytest.approx(0.23)
    assert 1 - z.sum() == pytest.approx(1 - w.sum())  # the cash did not move


def test_cash_is_banded_like_any_coin():
    t = np.array([0.4, 0.3])  # cash target 30 %
    w = np.array([0.32, 0.24])  # every coin inside ±10 pp, but the cash is 44 %: outside
    z, traded = band_weights(w, t, 0.10)
    assert traded and 1 - z.sum() == pytest.approx(0.40)  # the cash goes to its band's edge
    assert z[0] == pytest.approx(0.36) and z[1] == pytest.approx(0.24)  # into the most underweight (BTC) first


def test_bad_half_width_is_refused():
    with pytest.raises(ValidationError):
        band_weights(np.array([0.5]), np.array([0.5]), 0.0)


def _paths(seed: int, n: int = 4, days: int = 120) -> PriceTable:
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.05, (days, n)), axis=0))
    dates = tuple(date(2024, 1, 1) + timedelta(days=i) for i in range(days))
    return PriceTable(dates, tuple(f"C{j}" for j in range(n)), close, np.full(close.shape, 1e9))


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 10_000), x=st.sampled_from([0.02, 0.03, 0.05]))
def test_in_the_backtest_the_book_ends_each_trading_day_inside_every_band(seed, x):
    target = TargetAllocation.from_json({"C0": 0.3, "C1": 0.2, "C2": 0.2, "C3": 0.1})
    run = Simulation(_paths(seed), equity=1_000_000).run(UsualBand(x), target)
    t = np.array([0.3, 0.2, 0.2, 0.1])
    traded = run.trades > 0
    assert traded.any()
    slack = 1e-3  # lots rounded down and orders under the $10 minimum
    w = run.weights[traded]
    assert (np.abs(w - t) <= x + slack).all()
    assert (np.abs((1 - w.sum(axis=1)) - 0.2) <= x + slack).all()


def test_spec_names():
    assert isinstance(parse_policy("band:0.03"), UsualBand) and parse_policy("band:0.03").spec == "band:0.03"
    assert isinstance(parse_policy("band:0.03:edge"), UsualBand)
    old = parse_policy("band:0.03:coin-edge")
    assert isinstance(old, Band) and old.to == "coin-edge"
    assert parse_policy("band:0.03:target").spec == "band:0.03:target"
    with pytest.raises(ValidationError, match="unknown policy"):
        parse_policy("band:0.03:middle")


@settings(max_examples=200, deadline=None)
@given(book(), st.data())
def test_a_short_target_is_the_mirror_of_a_long_one(b, data):
    """Exposure is what is banded: flipping the side of some coins (weight and target) flips their answer only."""
    w, t, x = b
    flip = np.array(data.draw(st.lists(st.booleans(), min_size=len(w), max_size=len(w))))
    side = np.where(flip & (t > 0), -1.0, 1.0)
    z_long, traded_long = band_weights(w, t, x)
    z_short, traded_short = band_weights(w * side, t * side, x)
    assert traded_long == traded_short
    assert np.allclose(z_short, z_long * side, atol=1e-12)

"""The allocation across accounts (pure): weights, bounds, and transfer plans that never move more than can be
freed nor deposit more than was withdrawn."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.core.allocation import (
    AccountBook,
    adaptive_weights,
    bounded,
    correlation_matrix,
    plan_transfers,
    risk_parity_weights,
)
from agent.core.errors import ValidationError

returns_st = st.lists(st.floats(-0.2, 0.2, allow_nan=False), min_size=3, max_size=30)


@given(st.dictionaries(st.sampled_from("abcdef"), returns_st, min_size=1, max_size=6))
def test_risk_parity_and_adaptive_weights_are_a_distribution(returns):
    for w in (risk_parity_weights(returns), adaptive_weights(returns)):
        assert set(w) == set(returns)
        assert math.isclose(sum(w.values()), 1.0, abs_tol=1e-9)
        assert all(v >= 0 for v in w.values())


def test_risk_parity_is_inverse_volatility():
    base = [0.01, -0.01] * 5
    w = risk_parity_weights({"a": base, "b": [2 * x for x in base]})
    assert w == pytest.approx({"a": 2 / 3, "b": 1 / 3})


@given(
    st.dictionaries(st.sampled_from("abcdefgh"), st.floats(0, 10, allow_nan=False), min_size=2, max_size=8),
    st.floats(0, 0.2),
    st.floats(0.3, 1.0),
)
def test_bounded_weights_stay_within_bounds_and_sum_to_one(raw, lo, hi):
    n = len(raw)
    if n * lo > 1 or n * hi < 1:
        with pytest.raises(ValidationError):
            bounded(raw, lo, hi)
        return
    w = bounded(raw, lo, hi)
    assert math.isclose(sum(w.values()), 1.0, abs_tol=1e-6)
    assert all(lo - 1e-6 <= v <= hi + 1e-6 for v in w.values())


def test_correlation_of_an_account_with_itself_is_one_and_opposites_minus_one():
    r = [0.01, -0.02, 0.03, 0.0, 0.01]
    m = correlation_matrix({"a": r, "b": [-x for x in r]})
    assert m["a"]["a"] == pytest.approx(1.0) and m["a"]["b"] == pytest.approx(-1.0)


books_st = st.lists(
    st.tuples(st.floats(0, 100_000, allow_nan=False), st.floats(0, 1, allow_nan=False)), min_size=2, max_size=6
)


@settings(max_examples=200)
@given(books_st, st.data())
def test_a_transfer_plan_never_moves_more_than_can_be_freed_nor_deposits_more_than_it_has(raw, data):
    books = [
        AccountBook(name=f"a{i}", address=f"0x{i:040x}", equity=e, freeable=e * f, is_master=i == 0)
        for i, (e, f) in enumerate(raw)
    ]
    weights = data.draw(st.lists(st.floats(0.01, 1), min_size=len(books), max_size=len(books)))
    targets = {b.name: w / sum(weights) for b, w in zip(books, weights, strict=True)}
    p = plan_transfers(books, targets, threshold=0.02, min_transfer_usd=10)
    by = {b.name: b for b in books}
    withdrawals = [t for t in p.transfers if not t.is_deposit]
    deposits = [t for t in p.transfers if t.is_deposit]
    assert p.transfers == withdrawals + deposits  # withdrawals first
    assert all(t.usd <= by[t.account].freeable + 1e-9 for t in withdrawals)
    assert all(t.usd >= 10 for t in p.transfers)
    assert not any(by[t.account].is_master for t in p.transfers)  # the master is the other side of each move
    master = books[0]
    master_surplus = max(0.0, master.equity - targets[master.name] * p.total_equity)
    pool = sum(t.usd for t in withdrawals) + min(master_surplus, master.freeable)
    assert sum(t.usd for t in deposits) <= pool + 0.01
    for t in deposits:  # a deposit never overshoots its account's target
        assert by[t.account].equity + t.usd <= targets[t.account] * p.total_equity + 0.01

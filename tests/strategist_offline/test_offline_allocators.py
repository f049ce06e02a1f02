"""Allocators: weights sum to 1 with USDC and respect caps (hypothesis); ERC; seed 000 and seed 002 numbers."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from agent.core.domain import CASH, TargetAllocation
from agent.core.limits import CashReserve
from agent.strategist.allocators import (
    cap_weights,
    cash_reserve,
    cash_reserve_plan,
    equal_risk_contribution,
    equal_weight,
    erc_vector,
    inverse_volatility,
    risk_contributions,
    score_weighted,
)

COINS = [f"C{i}" for i in range(12)]
scores_st = st.dictionaries(st.sampled_from(COINS), st.floats(-5, 5, allow_nan=False), min_size=0, max_size=12)
frac = st.floats(0.01, 1.0)


def assert_valid(w: dict[str, float], cap: float | None = None) -> None:
    assert CASH in w
    assert all(x >= 0 for x in w.values())
    assert math.isclose(sum(w.values()), 1.0, abs_tol=1e-9)
    if cap is not None:
        assert all(x <= cap + 1e-9 for c, x in w.items() if c != CASH)
    TargetAllocation(allocations=w)  # the domain accepts it


@given(scores_st, frac, frac, st.floats(0, 0.9))
def test_equal_weight_properties(scores, top, cap, cash) -> None:
    w = equal_weight(scores, top, cap, cash)
    assert_valid(w, cap)
    risk = {c: x for c, x in w.items() if c != CASH}
    assert len({round(x, 12) for x in risk.values()}) <= 1  # equal
    if scores:
        assert len(risk) == max(1, math.ceil(len(scores) * top - 1e-9))
        assert (
            min(scores[c] for c in risk) >= max(s for c, s in scores.items() if c not in risk)
            if len(risk) < len(scores)
            else True
        )
        assert w[CASH] >= cash - 1e-9


def test_equal_weight_seed_000_example() -> None:
    # Top 50 % of 6 subnets, max position 12.5 %: three kept at 12.5 %, the rest (62.5 %) in USDC.
    scores = {"SN19": 71, "SN42": 78, "SN21": 70, "SN52": 31, "SN3": 40, "SN8": 55}
    assert equal_weight(scores, 0.5, 0.125) == {"SN19": 0.125, "SN21": 0.125, "SN42": 0.125, CASH: 0.625}
    # Without a binding cap, equal thirds.
    w = equal_weight(scores, 0.5, 0.5)
    assert w["SN42"] == pytest.approx(1 / 3) and w[CASH] == pytest.approx(0.0)


@given(scores_st, frac, frac, frac)
@example({"C0": 0.25, "C1": 5e-324}, 1.0, 0.5, 0.6875)  # a subnormal score once took the budget's excess twice
def test_score_weighted_properties(scores, top, cap, budget) -> None:
    w = score_weighted(scores, top, cap, budget)
    assert_valid(w, cap)
    assert sum(x for c, x in w.items() if c != CASH) <= budget + 1e-9
    for c in w:
        if c != CASH:
            assert scores[c] > 0
    # Order preserved: a higher score never gets less weight.
    risk = sorted((c for c in w if c != CASH), key=lambda c: scores[c])
    for a, b in itertools.pairwise(risk):
        assert w[a] <= w[b] + 1e-12


def test_score_weighted_redistributes_capped_excess() -> None:
    w = score_weighted({"A": 8, "B": 1, "C": 1}, 1.0, 0.5, 1.0)
    assert w["A"] == pytest.approx(0.5) and w["B"] == pytest.approx(0.25) and w[CASH] == pytest.approx(0.0)
    assert score_weighted({"A": -1}, 1.0, 0.5) == {CASH: 1.0}


@given(st.dictionaries(st.sampled_from(COINS), st.floats(0.01, 3.0), min_size=1, max_size=12), frac, frac)
def test_inverse_volatility_properties(vols, budget, cap) -> None:
    w = inverse_volatility(vols, budget, cap)
    assert_valid(w, cap)
    assert sum(x for c, x in w.items() if c != CASH) <= budget + 1e-9
    if cap * len(vols) >= budget + 1e-9:  # cap not binding overall: the whole budget is invested
        assert w[CASH] == pytest.approx(1 - budget, abs=1e-9)


def test_inverse_volatility_ratio() -> None:
    w = inverse_volatility({"A": 0.2, "B": 0.4}, 0.9)
    assert w["A"] == pytest.approx(0.6) and w["B"] == pytest.approx(0.3) and w[CASH] == pytest.approx(0.1)


@st.composite
def covariances(draw) -> np.ndarray:
    n = draw(st.integers(2, 8))
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(n, n + 3))
    vols = rng.uniform(0.1, 1.5, size=n)
    cov = a @ a.T / (n + 3)
    d = np.sqrt(np.diag(cov))
    corr = cov / np.outer(d, d)
    return corr * np.outer(vols, vols)


@settings(max_examples=60, deadline=None)
@given(covariances(), st.floats(0.05, 1.0))
def test_erc_contributions_are_equal(cov, budget) -> None:
    names = [f"A{i}" for i in range(cov.shape[0])]
    w = equal_risk_contribution(cov, budget, names)
    assert_valid(w)
    x = np.array([w[c] for c in names])
    assert x.sum() == pytest.approx(budget, abs=1e-9)
    rc = risk_contributions(x, cov)
    assert np.max(np.abs(rc - 1 / len(names))) < 1e-6


def test_erc_on_real_covariance(closes) -> None:
    from agent.strategist.features import covariance_matrix

    names, cov = covariance_matrix(closes, 90, ["BTC", "ETH", "SOL", "TRX", "DOGE"])
    x = erc_vector(cov)
    assert np.max(np.abs(risk_contributions(x, cov) - 0.2)) < 1e-6
    vols = dict(zip(names, np.sqrt(np.diag(cov)), strict=True))
    w = dict(zip(names, x, strict=True))
    assert w["TRX"] == max(w.values()) and vols["TRX"] == min(vols.values())  # calmest coin, biggest weight


def test_erc_cap_sends_excess_to_cash() -> None:
    cov = np.diag([0.01, 1.0])
    w = equal_risk_contribution(cov, 1.0, ["CALM", "WILD"], max_position=0.5)
    assert w["CALM"] == 0.5 and w[CASH] == pytest.approx(1 - 0.5 - w["WILD"])


def test_erc_rejects_bad_input() -> None:
    with pytest.raises(ValueError):
        erc_vector(np.array([[1.0, 2.0], [0.0, 1.0]]))
    with pytest.raises(ValueError):
        equal_risk_contribution(np.eye(2), 0.5, ["A"])


def test_cap_weights_without_redistribution() -> None:
    assert cap_weights({"A": 0.5, "B": 0.1}, 0.3) == {"A": 0.3, "B": 0.1}


# --- seed 002: cash reserve ---------------------------------------------------------------------------

TOTAL = 12_632.0  # seed 002's total value
FREE_CASH = 77.71  # USD 28.21 free + USDT 49.50: what the seed's dollar arithmetic counts as cash
HOLDINGS_USD = {"BTC": 3_175.0, "ETH": 4_607.0, "SOL": 3_462.0, "AVAX": 760.0}
SCORES = {"BTC": 0.8, "ETH": 0.6, "SOL": 0.5, "AVAX": 0.2}  # AVAX weakest, then SOL
TOL_USD = 5.0  # the seed rounds its percentages (7.4 % -> $935); we match its dollars within $5


def test_seed_002_scenario_1_initial_rebalance() -> None:
    """Cash $77 -> $2,526 (20 %) by selling $2,449 of the weakest; the $550 locked USD is not reserve."""
    w = {c: v / TOTAL for c, v in HOLDINGS_USD.items()} | {CASH: FREE_CASH / TOTAL}
    locked = 1 - sum(w.values())
    res = cash_reserve_plan(w, SCORES, locked_cash=locked)
    sold = -sum(s.delta for s in res.steps) * TOTAL
    assert abs(sold - 2_449) < TOL_USD
    assert abs(res.free_cash_after * TOTAL - 2_526) < TOL_USD
    assert res.free_cash_after == pytest.approx(0.20)
    # Crypto after: $10,106 (80 %) in the seed counts the locked cash as crypto; ours is 80 % − locked.
    assert sum(v for c, v in res.weights.items() if c != CASH) == pytest.approx(0.80 - locked)
    assert "AVAX" not in res.weights  # the weakest was exited (a partial sale would leave a stub)
    assert all(v <= 0.30 + 1e-12 for c, v in res.weights.items() if c != CASH)


def test_seed_002_scenario_4_rebalance_to_targets() -> None:
    """BTC 25 %, ETH 36 % (over max), SOL 27 %, AVAX $760, cash $77: the seed's five steps."""
    w = {"BTC": 0.25, "ETH": 0.36, "SOL": 0.27, "AVAX": 760 / TOTAL, CASH: FREE_CASH / TOTAL}
    locked = 1 - sum(w.values())
    res = cash_reserve_plan(w, SCORES, locked_cash=locked)
    usd = [(s.coin, -s.delta * TOTAL) for s in res.steps]
    assert [c for c, _ in usd] == ["ETH", "AVAX", "SOL"]
    assert abs(usd[0][1] - 758) < TOL_USD  # 1. sell 6 % of ETH -> $758
    assert abs(usd[1][1] - 760) < TOL_USD  # 2. sell all AVAX -> $760
    assert abs(FREE_CASH + usd[0][1] + usd[1][1] - 1_595) < TOL_USD  # 3. cash $1,595 (12.6 %)
    assert abs(usd[2][1] - 935) < TOL_USD  # 4. sell 7.4 % more of the weakest -> $935
    assert abs(res.free_cash_after * TOTAL - 2_530) < TOL_USD  # 5. final cash $2,530 (20 %)
    assert res.weights["ETH"] == pytest.approx(0.30) and "AVAX" not in res.weights


def test_cash_reserve_target_reading_and_excess_cash() -> None:
    w = {"A": 0.3, "B": 0.3, "C": 0.35, CASH: 0.05}  # C trimmed to 30 % -> cash 10 %, then raise
    assert cash_reserve(w, {"A": 1, "B": 2, "C": 3})[CASH] == pytest.approx(0.20)
    target = cash_reserve(w, {"A": 1, "B": 2, "C": 3}, raise_cash_to="target")
    assert target[CASH] == pytest.approx(0.25) and target["A"] == pytest.approx(0.15)
    # Cash above the 40 % max: buy the strongest (up to 30 %) down to the 25 % target.
    res = cash_reserve_plan({"A": 0.2, "B": 0.2, CASH: 0.6}, {"A": 1.0, "B": 2.0})
    assert res.weights["B"] == pytest.approx(0.30) and res.weights["A"] == pytest.approx(0.30)
    assert res.free_cash_after == pytest.approx(0.40)  # both capped at 30 %: cash stays at 40 %
    res = cash_reserve_plan({"A": 0.2, CASH: 0.8}, {"A": 1.0, "B": 2.0, "C": 0.5})
    assert res.free_cash_after == pytest.approx(0.25) and res.weights["B"] == pytest.approx(0.30)


def test_cash_reserve_sell_signal_and_stub_exit() -> None:
    res = cash_reserve_plan({"A": 0.3, "B": 0.03, "C": 0.3, CASH: 0.37}, {"A": 1, "C": 2}, sell_signals={"A"})
    assert res.weights == {"C": 0.3, CASH: pytest.approx(0.7)}
    assert [s.coin for s in res.steps] == ["A", "B"]


def test_cash_reserve_rejects_bad_input() -> None:
    with pytest.raises(ValueError):
        cash_reserve({"A": -0.1, CASH: 1.1}, {})
    with pytest.raises(ValueError):
        cash_reserve({"A": 0.5, CASH: 0.2}, {})  # does not sum to 1
    with pytest.raises(ValueError):
        cash_reserve({"A": 0.5, CASH: 0.5}, {}, CashReserve(min=0.1, floor=0.15))


holdings_st = st.dictionaries(st.sampled_from(COINS), st.floats(0.0, 1.0), min_size=0, max_size=8)


@settings(max_examples=200)
@given(holdings_st, scores_st, st.floats(0, 0.3), st.sampled_from(["min", "target"]))
def test_cash_reserve_properties(raw, scores, locked, aim) -> None:
    total = sum(raw.values())
    assume(total > 0 or not raw)
    budget = 1.0 - locked
    hold = {c: v / total * budget * 0.999 for c, v in raw.items()} if total > 0 else {}
    free = 1.0 - locked - sum(hold.values())
    res = cash_reserve_plan({**hold, CASH: free}, scores, locked_cash=locked, raise_cash_to=aim)
    assert_valid(res.weights, 0.30)
    for c, v in res.weights.items():
        if c != CASH:
            assert v >= 0.05 - 1e-9  # no stubs
    if free < 0.20:
        assert res.free_cash_after >= 0.20 - 1e-9  # back at least at the minimum (the aim, or more)
    if free >= 0.15:
        assert res.free_cash_after >= 0.15 - 1e-9  # buys never cross the floor
    assert res.weights[CASH] == pytest.approx(res.free_cash_after + locked, abs=1e-9)

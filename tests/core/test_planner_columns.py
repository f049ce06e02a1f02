"""The planner's column helpers: rounding a column exactly as Python rounds, building trusted models, and checking
a target on the columns exactly as ``validate_target`` checks it."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent import Market, MarketInfo, PortfolioRebalancer, PortfolioState, Position, TargetAllocation
from agent.core.columns import assets_of
from agent.core.domain import AssetRow, TradeAction
from agent.core.errors import TargetValidationError
from agent.core.plan_report import trusted
from agent.core.rules import rounded
from agent.core.targets import validate_target

finite = st.floats(min_value=-1e9, max_value=1e9, allow_nan=False, allow_infinity=False)
# values that sit on or next to a decimal tie (x.xx5, x.xxxxxx5), where scaling first can tip the result
near_ties = st.builds(
    lambda k, d, nudge: math.nextafter((k + 0.5) / 10**d, math.inf if nudge else -math.inf) if nudge is not None
    else (k + 0.5) / 10**d,
    st.integers(-10**8, 10**8),
    st.sampled_from([2, 6]),
    st.sampled_from([None, True, False]),
)  # fmt: skip


@given(st.lists(st.one_of(finite, near_ties), max_size=40), st.sampled_from([0, 2, 6]))
def test_a_column_rounds_exactly_as_python_rounds_each_value(values: list[float], ndigits: int):
    got = rounded(np.array(values, dtype=float), ndigits)
    want = [round(v, ndigits) for v in values]
    assert [(x, math.copysign(1, x)) for x in got] == [(x, math.copysign(1, x)) for x in want]
    assert all(type(x) is float for x in got)


def test_a_trusted_model_equals_the_validated_one():
    fields = {
        "coin": "BTC", "market": "perp", "current_weight": 0.1, "target_weight": 0.2, "drift": -0.1,
        "value_usd": 100.0, "band_low": 0.15, "band_high": 0.25, "planned_weight": 0.2, "action": "buy 0.01",
    }  # fmt: skip
    row = trusted(AssetRow, dict(fields))
    assert row == AssetRow(**fields)
    assert row.model_dump() == AssetRow(**fields).model_dump()
    assert row.model_copy(update={"action": "hold"}).action == "hold"
    assert row.action == "buy 0.01"  # the copy's update did not reach the original (nor its fields set)
    assert row.model_fields_set == set(AssetRow.model_fields)


def test_a_trusted_model_keeps_the_declared_defaults_of_fields_left_out():
    given = {
        "coin": "BTC", "market": "perp", "side": "buy", "kind": "open", "size": 0.01, "notional_usd": 1000.0,
        "from_weight": 0.0, "to_weight": 0.1, "reduce_only": False, "limit_px": 100_500.0, "reason": "enter BTC",
    }  # fmt: skip
    action = trusted(TradeAction, dict(given))
    assert action == TradeAction(**given)
    assert action.model_fields_set == set(given)
    assert (action.order_type, action.lots, action.twap_minutes) == ("ioc", None, None)


def test_a_trusted_model_needs_its_required_fields():
    with pytest.raises(TypeError, match="coin"):
        trusted(TradeAction, {"side": "buy"})


def _market() -> Market:
    def info(coin: str, asset: int, market: str = "perp", **kw: object) -> MarketInfo:
        return MarketInfo(coin=coin, market=market, asset=asset, wire_name=coin, sz_decimals=3, mid=100.0, **kw)

    return Market(
        assets={
            "BTC": info("BTC", 0),
            "xyz:TSLA": info("xyz:TSLA", 110000, dex="xyz", fee_scale=2.0),
            "UBTC/USDC": info("UBTC/USDC", 10140, market="spot"),
        }
    )


def test_the_columns_hold_every_asset_held_or_targeted_in_coin_order():
    state = PortfolioState(
        perp_account_value=1_000.0,
        usdc_spot_total=500.0,
        positions={
            "UBTC/USDC": Position(coin="UBTC/USDC", market="spot", size=2.0, hold=0.5),
            "BTC": Position(coin="BTC", market="perp", size=-1.0, leverage=3.0),
        },
        dex_withdrawable={"xyz": 50.0},
    )
    target = TargetAllocation(allocations={"xyz:TSLA": 0.1, "BTC": 0.2, "USDC": 0.7})
    a = assets_of(state, target, _market())
    assert a.coins == ["BTC", "UBTC/USDC", "xyz:TSLA"]
    assert a.size.tolist() == [-1.0, 2.0, 0.0]
    assert a.free.tolist() == [-1.0, 1.5, 0.0]
    assert a.lev.tolist() == [3.0, 1.0, 1.0]
    assert a.perp.tolist() == [True, False, True]
    assert a.target.tolist() == [0.2, 0.0, 0.1]
    assert a.fee_scale.tolist() == [1.0, 1.0, 2.0]
    assert [a.pool_names[p] for p in a.pool.tolist()] == ["perp", "spot", "perp:xyz"]


def test_a_flip_is_a_close_then_an_open_built_from_the_columns():
    state = PortfolioState(
        perp_account_value=10_000.0, positions={"BTC": Position(coin="BTC", market="perp", size=-20.0)}
    )
    plan = PortfolioRebalancer(rebalance_threshold=0.0).create_rebalancing_plan(
        state, TargetAllocation(allocations={"BTC": 0.1}), _market()
    )
    assert [(a.coin, a.side, a.kind, a.size, a.reduce_only) for a in plan.actions] == [
        ("BTC", "buy", "close", 20.0, True),
        ("BTC", "buy", "open", 10.0, False),
    ]
    assert [r.action for r in plan.rows if r.coin == "BTC"] == ["buy 20, buy 10"]
    assert plan.summary.positions_exited == plan.summary.positions_entered == 1


@st.composite
def _targets_against_a_market(draw):
    """A market of perps and spot pairs (some with a max leverage), holdings, and a target that may break
    validate_target's rules: an unlisted asset, a short spot weight, a weight over its asset's max leverage,
    gross exposure over the limit, weights that do not sum to 1."""
    n = draw(st.integers(1, 6))
    assets, positions, weights = {}, {}, {}
    for i in range(n):
        spot = draw(st.booleans())
        coin = f"C{i}/USDC" if spot else f"C{i}"
        assets[coin] = MarketInfo(
            coin=coin, market="spot" if spot else "perp", asset=10000 + i if spot else i, wire_name=coin,
            sz_decimals=2, mid=100.0, max_leverage=None if spot else draw(st.sampled_from([None, 1, 3])),
        )  # fmt: skip
        if draw(st.booleans()):
            size = draw(st.sampled_from([1.0, 5.0])) * (1.0 if spot or draw(st.booleans()) else -1.0)
            positions[coin] = Position(coin=coin, market="spot" if spot else "perp", size=size)
        if draw(st.booleans()):
            weights[coin] = draw(st.sampled_from([-1.5, -0.4, -0.1, 0.0, 0.2, 0.5, 1.2, 3.5]))
    if draw(st.booleans()):
        weights["NOPE"] = 0.1
    if draw(st.booleans()):
        weights["USDC"] = draw(st.sampled_from([0.0, 0.3, 0.9]))
    try:
        target = TargetAllocation(allocations=weights or {"USDC": 1.0})
    except ValueError:
        target = TargetAllocation(allocations={"USDC": 1.0})
    state = PortfolioState(perp_account_value=10_000.0, usdc_spot_total=5_000.0, positions=positions)
    return state, target, Market(assets=assets), draw(st.sampled_from([1.0, 2.0, 5.0]))


def _refusals(state, target, market, leverage):
    """The problems validate_target finds, and those the planner refuses the target with (None: no refusal)."""
    try:
        validate_target(target, market, max_gross_leverage=leverage)
        want = None
    except TargetValidationError as e:
        want = e.problems
    try:
        PortfolioRebalancer(rebalance_threshold=0.0, max_gross_leverage=leverage).create_rebalancing_plan(
            state, target, market
        )
        got = None
    except TargetValidationError as e:
        got = e.problems
    return want, got


@given(_targets_against_a_market())
def test_the_planner_refuses_exactly_the_targets_validate_target_refuses(case):
    want, got = _refusals(*case)
    assert got == want


@pytest.mark.parametrize(
    ("weights", "leverage", "refused"),
    [
        ({"BTC": 1.5, "USDC": 0.0}, 5.0, True),  # over BTC's own max leverage (1)
        ({"UBTC/USDC": -0.2}, 1.0, True),  # spot short
        ({"BTC": 0.6, "xyz:TSLA": -0.6, "USDC": 0.0}, 1.0, True),  # gross exposure over the limit (and the sum)
        ({"BTC": 1.0, "xyz:TSLA": -1.5, "USDC": 0.0}, 2.0, True),  # gross exposure over the limit
        ({"BTC": 0.5, "ETH": 0.1}, 1.0, True),  # not listed
        ({"BTC": 0.5, "UBTC/USDC": 0.2}, 1.0, False),
        ({"BTC": 1.0, "xyz:TSLA": -0.6, "USDC": 0.0}, 2.0, False),
    ],
)
def test_each_rule_on_the_columns_refuses_as_validate_target_does(weights, leverage, refused):
    market = Market(assets={**_market().assets, "BTC": _market().assets["BTC"].model_copy(update={"max_leverage": 1})})
    state = PortfolioState(
        perp_account_value=10_000.0, positions={"BTC": Position(coin="BTC", market="perp", size=1.0)}
    )
    want, got = _refusals(state, TargetAllocation(allocations=weights), market, leverage)
    assert got == want
    assert (want is not None) == refused

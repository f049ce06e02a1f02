"""Bad targets get a clear error that names the problem."""

import math

import pytest
from pydantic import ValidationError as PydanticError

from agent import Market, MarketInfo, TargetAllocation, validate_target
from agent.core.errors import TargetValidationError

MARKET = Market(
    assets={
        "BTC": MarketInfo(coin="BTC", market="perp", asset=0, wire_name="BTC", sz_decimals=5, max_leverage=3, mid=1e5),
        "UBTC/USDC": MarketInfo(coin="UBTC/USDC", market="spot", asset=10001, wire_name="@1", sz_decimals=5, mid=1e5),
    }
)


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        ({"BTC": 0.8, "USDC": 0.5}, "sum to 1.3"),
        ({"BTC": math.nan}, "not a finite number"),
        ({"BTC": math.inf, "USDC": 0.0}, "not a finite number"),
        ({"BTC": "0.5", "USDC": 0.5}, "valid number"),
        ({}, "empty"),
        ({"BTC": 0.5, "USDC": -0.1}, "negative"),
    ],
    ids=["sum-1.3", "nan", "inf", "string-number", "empty", "negative-usdc"],
)
def test_context_free_rules(weights, message):
    with pytest.raises(PydanticError, match=message):
        TargetAllocation.from_json(weights)


@pytest.mark.parametrize(
    ("weights", "kwargs", "message"),
    [
        ({"DOGE": 0.5}, {}, "DOGE: not listed"),
        ({"UBTC/USDC": -0.2}, {}, "spot cannot be short"),
        (
            {"BTC": 0.9, "UBTC/USDC": 0.6, "USDC": 0.0},
            {},
            "gross exposure 1.5000 exceeds the configured max leverage 1",
        ),
        ({"BTC": 4.0, "USDC": 0.0}, {"max_gross_leverage": 5}, "exceeds the asset's max leverage 3"),
        ({"BTC": 0.5}, {"max_weight": 0.3}, "exceeds the max weight"),
        ({"BTC": 0.5}, {"allowed_assets": ["UBTC/USDC"]}, "not in the allowed assets"),
    ],
    ids=["unknown-coin", "negative-spot", "leverage-over-config", "leverage-over-asset-max", "max-weight", "allowed"],
)
def test_market_and_config_rules(weights, kwargs, message):
    target = TargetAllocation.from_json(weights)
    with pytest.raises(TargetValidationError, match=message):
        validate_target(target, MARKET, **kwargs)


def test_a_valid_target_passes_and_usdc_is_the_remainder():
    t = validate_target(TargetAllocation.from_json({"BTC": -0.3, "UBTC/USDC": 0.4}), MARKET)
    assert t.cash_weight == pytest.approx(0.3)


def test_strategist_shape_is_accepted():
    t = TargetAllocation.from_json(
        {"selected_strategy": "risk-off", "target_allocation": {"USDC": 1.0}, "reasoning": "drawdown"}
    )
    assert t.strategy_id == "risk-off" and t.reasoning == "drawdown"

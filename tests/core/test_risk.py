"""The risk gate refuses plans that break hard limits, whoever made them."""

import pytest

from agent import Market, MarketInfo, PortfolioRebalancer, PortfolioState, Position, TargetAllocation
from agent.core.errors import RiskLimitError
from agent.core.limits import Limits
from agent.core.risk import check_plan, violations

M = Market(
    assets={
        "BTC": MarketInfo(
            coin="BTC", market="perp", asset=0, wire_name="BTC", sz_decimals=5, max_leverage=40, mid=100_000.0
        ),
        "ETH": MarketInfo(
            coin="ETH", market="perp", asset=1, wire_name="ETH", sz_decimals=4, max_leverage=25, mid=2_500.0
        ),
    }
)


def plan_for(weights, state=None):
    state = state or PortfolioState(perp_account_value=100_000.0)
    return PortfolioRebalancer().create_rebalancing_plan(state, TargetAllocation.from_json(weights), M)


def test_a_plan_within_limits_passes():
    check_plan(plan_for({"BTC": 0.2, "ETH": 0.2}), Limits(max_weight=0.3, max_notional_per_cycle_usd=50_000))


@pytest.mark.parametrize(
    ("limits", "traded", "message"),
    [
        (Limits(max_weight=0.3), 0.0, "over the max 30.00%"),
        (Limits(max_notional_per_cycle_usd=10_000), 0.0, "per-cycle cap"),
        (Limits(max_notional_per_day_usd=60_000), 20_000.0, "daily cap"),
        (Limits(max_turnover_per_cycle=0.2), 0.0, "over 20% of equity"),
        (Limits(allowed_assets=frozenset({"BTC"})), 0.0, "assets not allowed: ETH"),
        (Limits(max_trades=1), 0.0, "2 trades is over the cap of 1"),
        (Limits(cash_floor=0.5), 0.0, "under the floor"),
    ],
    ids=["max-weight", "per-cycle", "per-day", "turnover", "allowed", "trades", "cash-floor"],
)
def test_breaches_are_refused_with_the_reason(limits, traded, message):
    plan = plan_for({"BTC": 0.5, "ETH": 0.1})
    with pytest.raises(RiskLimitError, match=message):
        check_plan(plan, limits, traded_today_usd=traded)


def test_reducing_an_existing_breach_is_allowed():
    state = PortfolioState(
        perp_account_value=100_000.0, positions={"BTC": Position(coin="BTC", market="perp", size=0.6)}
    )
    plan = plan_for({"BTC": 0.45}, state)
    assert violations(plan, Limits(max_weight=0.3)) == []

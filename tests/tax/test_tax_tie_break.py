"""When two drifts are equally large, the sale with the smaller estimated tax moves first."""

from __future__ import annotations

from agent import PortfolioRebalancer, TargetAllocation
from agent.core.domain import Market, MarketInfo, PortfolioState, Position


def world() -> tuple[PortfolioState, Market]:
    market = Market(
        assets={
            "AAA/USDC": MarketInfo(
                coin="AAA/USDC", market="spot", asset=10001, wire_name="@1", sz_decimals=2, mid=100.0, base_token="AAA"
            ),
            "BBB/USDC": MarketInfo(
                coin="BBB/USDC", market="spot", asset=10002, wire_name="@2", sz_decimals=2, mid=100.0, base_token="BBB"
            ),
        }
    )
    state = PortfolioState(
        usdc_spot_total=4_000.0,
        positions={
            "AAA/USDC": Position(coin="AAA/USDC", market="spot", size=30.0),
            "BBB/USDC": Position(coin="BBB/USDC", market="spot", size=30.0),
        },
    )
    return state, market


def sold(sell_tax):
    state, market = world()
    # both 30 % against a 27 % target: equal 3 pp drifts, under the 5 % position threshold, and a portfolio
    # threshold that one move clears
    p = PortfolioRebalancer(rebalance_threshold=0.05, portfolio_threshold=0.04)
    target = TargetAllocation.from_json({"AAA/USDC": 0.27, "BBB/USDC": 0.27, "USDC": 0.46})
    plan = p.create_rebalancing_plan(state, target, market, sell_tax=sell_tax)
    return [a.coin for a in plan.actions if a.side == "sell"]


def test_equal_drifts_sell_the_one_with_the_smaller_tax_first():
    assert sold({"AAA/USDC": 0.20, "BBB/USDC": 0.05}) == ["BBB/USDC"]
    assert sold({"AAA/USDC": 0.05, "BBB/USDC": 0.20}) == ["AAA/USDC"]
    assert sold({"AAA/USDC": -0.02, "BBB/USDC": 0.0}) == ["AAA/USDC"]  # a loss sale saves tax


def test_without_tax_the_order_is_unchanged():
    assert sold(None) == sold({})

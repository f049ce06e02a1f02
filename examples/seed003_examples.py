"""Seed 003's three examples: strategic rebalance, risk-off, no rebalance needed.

Run: python examples/seed003_examples.py
"""

from agent import Market, MarketInfo, PortfolioRebalancer, PortfolioState, Position, TargetAllocation

market = Market(
    assets={
        "BTC": MarketInfo(
            coin="BTC", market="perp", asset=0, wire_name="BTC", sz_decimals=5, max_leverage=40, mid=104_000.0
        ),
        "ETH": MarketInfo(
            coin="ETH", market="perp", asset=1, wire_name="ETH", sz_decimals=4, max_leverage=25, mid=2_500.0
        ),
    }
)
rebalancer = PortfolioRebalancer(min_trade_value=10.0, max_slippage_pct=0.005, rebalance_threshold=0.05)


def show(title: str, state: PortfolioState, weights: dict[str, float]) -> None:
    plan = rebalancer.create_rebalancing_plan(state, TargetAllocation.from_json(weights), market)
    print(f"\n{title}\n  {plan.reason}")
    for a in plan.actions:
        print(f"  {a.side.upper()} {a.size:g} {a.coin} ({a.kind}, ${a.notional_usd:,.2f}, limit {a.limit_px:g})")
    print(f"  estimated cost ${plan.estimated_cost.total_usd:,.2f}")


btc_heavy = PortfolioState(
    perp_account_value=52_000.0, positions={"BTC": Position(coin="BTC", market="perp", size=0.4)}
)
show("1. Strategic: BTC 80 % → BTC 40 / ETH 30 / USDC 30", btc_heavy, {"BTC": 0.4, "ETH": 0.3, "USDC": 0.3})
show("2. Risk-off: everything to USDC", btc_heavy, {"USDC": 1.0})
balanced = PortfolioState(
    perp_account_value=50_000.0,
    positions={
        "BTC": Position(coin="BTC", market="perp", size=0.19231),
        "ETH": Position(coin="ETH", market="perp", size=6.0),
    },
)
show("3. Small deviations: BTC 40→42, ETH 30→32", balanced, {"BTC": 0.42, "ETH": 0.32, "USDC": 0.26})

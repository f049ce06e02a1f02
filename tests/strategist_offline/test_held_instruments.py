"""A long stays in the instrument the account already holds it in (spot pair vs perp)."""

from agent.core.domain import Market, MarketInfo, PortfolioState, Position
from agent.strategist.holdings import prefer_held_instruments, underlying

MARKET = Market(
    assets={
        "BTC": MarketInfo(coin="BTC", market="perp", asset=0, wire_name="BTC", sz_decimals=5, max_leverage=40, mid=1e5),
        "ETH": MarketInfo(coin="ETH", market="perp", asset=1, wire_name="ETH", sz_decimals=4, max_leverage=25, mid=2e3),
        "UBTC/USDC": MarketInfo(
            coin="UBTC/USDC", market="spot", asset=10142, wire_name="@142", sz_decimals=5, mid=1e5, base_token="UBTC"
        ),
    }
)


def test_underlying_maps_unit_tokens_to_their_perp():
    assert underlying(MARKET.assets["UBTC/USDC"], MARKET) == "BTC"
    assert underlying(MARKET.assets["BTC"], MARKET) is None


def test_a_long_moves_to_the_held_spot_pair_and_a_short_stays_a_perp():
    state = PortfolioState(positions={"UBTC/USDC": Position(coin="UBTC/USDC", market="spot", size=0.1)})
    out, notes = prefer_held_instruments({"BTC": 0.3, "ETH": 0.2, "USDC": 0.5}, state, MARKET)
    assert out == {"UBTC/USDC": 0.3, "ETH": 0.2, "USDC": 0.5} and notes
    short, _ = prefer_held_instruments({"BTC": -0.1}, state, MARKET)
    assert short == {"BTC": -0.1}


def test_a_held_perp_stays_a_perp():
    state = PortfolioState(
        positions={
            "UBTC/USDC": Position(coin="UBTC/USDC", market="spot", size=0.1),
            "BTC": Position(coin="BTC", market="perp", size=0.1),
        }
    )
    out, notes = prefer_held_instruments({"BTC": 0.3}, state, MARKET)
    assert out == {"BTC": 0.3} and not notes

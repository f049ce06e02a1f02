"""Hyperliquid's size and price grids."""

import pytest

from agent.core.rules import is_valid_price, protected_price, round_price, round_size_down


@pytest.mark.parametrize(
    ("size", "szd", "expected"),
    [(0.123456, 5, 0.12345), (1.999999999, 2, 1.99), (0.1 + 0.2, 1, 0.3), (7.0, 0, 7.0), (0.000009, 5, 0.0)],
    ids=["btc-5dp", "round-down-not-nearest", "float-noise-forgiven", "integer-lots", "below-one-lot"],
)
def test_sizes_round_down_to_sz_decimals(size, szd, expected):
    assert round_size_down(size, szd) == expected


@pytest.mark.parametrize(
    ("px", "market", "szd", "up", "expected"),
    [
        (104_520.7, "perp", 5, False, 104_520.0),  # integers always allowed; 5 sig figs would be 104520
        (2_512.567, "perp", 4, False, 2_512.5),  # 5 sig figs
        (0.123456789, "perp", 0, True, 0.12346),  # 5 sig figs beats 6 decimals
        (0.00012345678, "perp", 0, False, 0.000123),  # 6 − szDecimals decimals
        (0.00012345678, "spot", 0, False, 0.00012345),  # spot allows 8 − szDecimals
        (99_999.6, "perp", 0, True, 100_000.0),  # carry into a new magnitude stays valid
    ],
)
def test_prices_have_five_significant_figures_and_the_decimals_rule(px, market, szd, up, expected):
    out = round_price(px, market, szd, up=up)
    assert out == pytest.approx(expected, rel=1e-12)
    assert is_valid_price(out, market, szd)


def test_protected_price_is_inside_the_slippage_bound():
    buy = protected_price(2500.0, True, 0.005, "perp", 4)
    sell = protected_price(2500.0, False, 0.005, "perp", 4)
    assert 2500.0 < buy <= 2512.5 and 2487.5 <= sell < 2500.0


def test_invalid_prices_are_rejected():
    assert not is_valid_price(2512.567, "perp", 4)
    assert not is_valid_price(0.0, "perp", 0)
    assert not is_valid_price(float("nan"), "perp", 0)

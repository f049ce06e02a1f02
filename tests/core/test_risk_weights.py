"""The limits a weight held now breaks: the rules the page flags and the risk gate refuses to worsen."""

from __future__ import annotations

import pytest

from agent.core.limits import Limits
from agent.core.risk import weight_breaches

LIMITS = Limits(max_weight=0.3, min_weight=0.05, cash_floor=0.1, allowed_assets={"BTC", "ETH"})


@pytest.mark.parametrize(
    ("coin", "weight", "cash", "expected"),
    [
        ("BTC", 0.2, False, []),
        ("BTC", 0.35, False, ["over the max position 30.0%"]),
        ("ETH", -0.35, False, ["over the max position 30.0%"]),  # a short counts by its size
        ("ETH", 0.01, False, ["under the min weight 5.0%"]),
        ("ETH", 0.0, False, []),  # not held: no min weight to meet
        ("SOL", 0.2, False, ["not an allowed asset"]),
        ("USDC", 0.05, True, ["cash under the floor 10.0%"]),
        ("USDC", 0.5, True, []),
    ],
    ids=["inside", "over-max", "short-over-max", "under-min", "not-held", "not-allowed", "cash-low", "cash-ok"],
)
def test_weight_breaches(coin, weight, cash, expected):
    assert weight_breaches(coin, weight, LIMITS, cash=cash) == expected

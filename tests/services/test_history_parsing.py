"""The adapter reads Hyperliquid's real ``portfolio`` and ``userFunding`` answers (recorded), and the stand-in
answers both requests in the same shapes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from agent.adapters.hyperliquid.history import parse_portfolio, parse_user_funding
from agent.core import performance
from agent.core.errors import SnapshotError

FIXTURES = Path(__file__).parents[1] / "fixtures" / "hl-recorded-history"


def answer(name: str):
    data = yaml.safe_load((FIXTURES / name).read_text())
    return json.loads(data["interactions"][-1]["response"]["body"]["string"])


def test_the_recorded_portfolio_answer_gives_each_period_an_ascending_value_and_pnl_path():
    raw = answer("test_portfolio.yaml")
    series = parse_portfolio(raw)
    assert set(series) == {"day", "week", "month", "allTime"}
    for name, points in series.items():
        times = [p.ms for p in points]
        assert times == sorted(set(times)) and len(points) == len(dict(raw)[name]["accountValueHistory"])
    perp = parse_portfolio(raw, perp_only=True)
    assert perp["allTime"][0].ms == dict(raw)["perpAllTime"]["accountValueHistory"][0][0]
    # A window's return is its PnL change over the value at its start, not the value's change (deposits);
    # the month is read from the month's own series, the finest that covers it.
    month = dict(raw)["month"]["pnlHistory"]
    days = (month[-1][0] - month[0][0]) // performance.DAY_MS
    points = performance.covering(series, month[0][0], days * performance.DAY_MS)
    assert points is series["month"]
    r = performance.window_return(points, month[0][0], month[-1][0])
    start_value = float(dict(raw)["month"]["accountValueHistory"][0][1])
    assert r == pytest.approx((float(month[-1][1]) - float(month[0][1])) / start_value, rel=1e-6)


def test_the_recorded_user_funding_answer_keeps_sign_and_coin():
    raw = answer("test_user_funding_history_with_end_time.yaml")
    events = parse_user_funding(raw)
    assert len(events) == len(raw) == 13
    assert events[0].coin == raw[0]["delta"]["coin"] and events[0].usdc == float(raw[0]["delta"]["usdc"])


@pytest.mark.parametrize(
    "bad",
    [{"a": 1}, [["day", 3]], [["day", {"accountValueHistory": [[1, "x"]]}]]],
    ids=["not a list", "period not an object", "value not a number"],
)
def test_a_malformed_portfolio_answer_is_an_error_not_an_empty_history(bad):
    with pytest.raises(SnapshotError):
        parse_portfolio(bad)

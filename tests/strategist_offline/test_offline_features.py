"""Features on the shipped real history: plausible values, sign conventions, funding shape, loaders."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from agent.core.errors import ValidationError
from agent.strategist.features import (
    HISTORY_DIR,
    HOURS_PER_YEAR,
    correlation_matrix,
    current_drawdown,
    funding_features,
    load_daily_closes,
    load_funding_history,
    market_features,
    max_drawdown,
    price_vs_mean,
    realised_volatility,
    trend_return,
)


def test_fixture_shape(closes) -> None:
    assert {"BTC", "ETH", "SOL", "AVAX", "LINK", "DOGE"} <= set(closes)
    assert len(closes) >= 14
    assert all(len(v) == 400 for v in closes.values())
    size = sum(p.stat().st_size for p in HISTORY_DIR.iterdir())
    assert size < 300_000


def test_btc_features_are_plausible(closes) -> None:
    btc = closes["BTC"]
    vol = realised_volatility(btc, 90)
    assert 0.2 < vol < 1.2  # BTC's annualised volatility is tens of percent
    assert 0.2 < realised_volatility(btc, 30) < 1.2
    assert max_drawdown(btc) <= 0 and current_drawdown(btc) <= 0
    assert max_drawdown(btc, 90) <= current_drawdown(btc, 90)
    # From the file: BTC closed 78,657.55 on 2026-04-26, its 400-day high was above 120,000.
    assert btc[-1] == pytest.approx(78_657.55)
    assert -0.5 < current_drawdown(btc) < -0.3
    assert -1 < trend_return(btc, 30) < 1 and -1 < price_vs_mean(btc, 50) < 1


def test_vol_matches_hand_computation(closes) -> None:
    r = np.diff(np.log(closes["ETH"]))[-30:]
    assert realised_volatility(closes["ETH"], 30) == pytest.approx(r.std(ddof=1) * math.sqrt(365))


def test_simple_series() -> None:
    p = np.array([100.0, 120.0, 90.0, 110.0])
    assert max_drawdown(p) == pytest.approx(-0.25)
    assert current_drawdown(p) == pytest.approx(110 / 120 - 1)
    assert trend_return(p, 3) == pytest.approx(0.10)
    assert math.isnan(trend_return(p, 10)) and math.isnan(realised_volatility(p[:2]))
    with pytest.raises(ValueError):
        realised_volatility([1.0, -1.0, 2.0])


def test_correlation_matrix(closes) -> None:
    names, corr = correlation_matrix(closes, 90, ["BTC", "ETH", "TRX"])
    assert names == ["BTC", "ETH", "TRX"]
    assert np.allclose(corr, corr.T) and np.allclose(np.diag(corr), 1)
    assert corr[0, 1] > 0.6  # BTC and ETH move together


def test_funding_features_on_real_sol_history() -> None:
    recs = load_funding_history(HISTORY_DIR / "sol_funding_history.json")
    assert set(recs[0]) == {"coin", "fundingRate", "premium", "time"}
    f = funding_features(recs)
    end = max(r["time"] for r in recs)
    week = [float(r["fundingRate"]) for r in recs if r["time"] > end - 7 * 24 * 3_600_000]
    assert f["funding_7d_mean"] == pytest.approx(np.mean(week))
    assert f["funding_7d_apr"] == pytest.approx(np.mean(week) * HOURS_PER_YEAR)
    assert f["funding_hourly"] == pytest.approx(float(recs[-1]["fundingRate"]))
    assert f["funding_apr"] == pytest.approx(f["funding_hourly"] * 8760)
    assert 0 <= f["funding_7d_positive_share"] <= 1
    assert funding_features(recs, latest=0.0001)["funding_apr"] == pytest.approx(0.876)


def test_market_features(closes) -> None:
    funding = {"SOL": load_funding_history(HISTORY_DIR / "sol_funding_history.json")}
    f = market_features(closes, funding, latest_funding={"HYPE": 0.00002})
    assert set(f) == set(closes) | {"HYPE"}
    assert {
        "vol_30d",
        "vol_90d",
        "return_30d",
        "price_vs_ma50",
        "drawdown",
        "max_drawdown_90d",
        "avg_correlation",
    } <= set(f["BTC"])
    assert "funding_7d_apr" in f["SOL"] and "funding_7d_apr" not in f["BTC"]
    assert set(f["HYPE"]) == {"funding_hourly", "funding_apr"}  # no history: funding only
    assert all(v["drawdown"] <= 0 for v in f.values() if "drawdown" in v)


def test_load_daily_closes_options_and_errors(tmp_path: Path) -> None:
    sub = load_daily_closes(coins=["BTC", "NOPE"], last=50)
    assert set(sub) == {"BTC"} and len(sub["BTC"]) == 50
    bad = tmp_path / "h.csv"
    bad.write_text("date,A\n2024-01-02,1\n2024-01-01,2\n")
    with pytest.raises(ValidationError, match="ascending"):
        load_daily_closes(bad)
    bad.write_text("date,A\n2024-01-01,1\n2024-01-02,-3\n")
    with pytest.raises(ValidationError, match="positive"):
        load_daily_closes(bad)
    bad.write_text("date,A\n2024-01-01,1\n2024-01-02,\n2024-01-03,2\n")
    with pytest.raises(ValidationError, match="gap"):
        load_daily_closes(bad)
    bad.write_text("when,A\n")
    with pytest.raises(ValidationError, match="header"):
        load_daily_closes(bad)
    with pytest.raises(ValidationError):
        load_daily_closes(tmp_path / "missing.csv")
    late = tmp_path / "late.csv"
    late.write_text("date,A,B\n2024-01-01,1,\n2024-01-02,2,5\n")
    assert list(load_daily_closes(late)["B"]) == [5.0]

"""The offline strategist's regime rules on real data, a crash-shaped history, rich funding, fixed targets and limits.

The default rule (``trend-following``) answers first whenever a coin has 90 days of history; these tests
exercise the regime rules below it, with a library that leaves it out (``REGIME_RULES``).
"""

from __future__ import annotations

import numpy as np
import pytest

from agent.core.domain import CASH
from agent.core.limits import Limits
from agent.core.targets import validate_target
from agent.strategist.base import DecisionContext, Strategist
from agent.strategist.features import market_features
from agent.strategist.holdings import build_features
from agent.strategist.library import load_strategies
from agent.strategist.offline import OfflineStrategist
from agent.strategist.regime import classify_regime, summarize

from .conftest import cash_state, holdings_state, make_market


def extend(closes: dict[str, np.ndarray], daily: float, days: int) -> dict[str, np.ndarray]:
    """Append ``days`` closes moving by ``daily`` (fraction) per day to every coin."""
    steps = (1 + daily) ** np.arange(1, days + 1)
    return {c: np.concatenate([v, v[-1] * steps]) for c, v in closes.items()}


def rich_funding(coin: str, hourly: float = 0.00005, hours: int = 24 * 10) -> list[dict]:
    t0 = 1_770_000_000_000
    return [
        {"coin": coin, "fundingRate": f"{hourly:.7f}", "premium": "0.0004", "time": t0 + h * 3_600_000}
        for h in range(hours)
    ]


REGIME_RULES = {k: v for k, v in load_strategies().items() if k != "trend-following"}


def decide(closes, *, market=None, state=None, funding=None, limits=None, targets=None):
    market = market or make_market(closes)
    feats = market_features(closes, funding)
    ctx = DecisionContext(
        state=state or cash_state(), market=market, features=feats, limits=limits or Limits(), current_targets=targets
    )
    return OfflineStrategist(REGIME_RULES, closes=closes).decide(ctx), ctx


def test_is_a_strategist() -> None:
    s: Strategist = OfflineStrategist()
    assert s.name == "offline"


def test_real_data_picks_balanced_growth_with_reasons(closes, market) -> None:
    feats = build_features(market)
    ctx = DecisionContext(state=cash_state(), market=market, features=feats)
    d = OfflineStrategist(REGIME_RULES).decide(ctx)
    assert d.ok and d.status == "ok" and d.provider == "offline"
    assert d.selected_strategy == "balanced-growth"
    assert d.target is not None and d.target.strategy_id == "balanced-growth"
    validate_target(d.target, market)
    w = d.target.allocations
    assert w["BTC"] > w["ETH"] > 0 and w[CASH] >= 0.30 - 1e-9
    assert all(abs(x) <= 0.35 + 1e-9 for c, x in w.items() if c != CASH)
    # The reasoning lists the measured values and every rule.
    btc = feats["BTC"]
    assert f"{btc['drawdown_90d']:+.1%}" in d.reasoning and "breadth" in d.reasoning
    for sid in REGIME_RULES:
        assert f"- {sid}:" in d.reasoning
    assert "Regime: uptrend" in d.reasoning
    # Deterministic.
    assert OfflineStrategist(REGIME_RULES).decide(ctx).model_dump() == d.model_dump()


def test_regime_of_real_data_is_in_the_strategys_compatible_regimes(closes) -> None:
    regime, _ = classify_regime(summarize(market_features(closes)))
    assert regime in load_strategies()["balanced-growth"].compatible_regimes


def test_crash_history_picks_risk_off(closes) -> None:
    crashed = extend(closes, -0.02, 30)  # a month of −2 % a day: BTC ~45 % below its 90-day high
    d, _ctx = decide(crashed, market=make_market(crashed))
    assert d.ok and d.selected_strategy == "risk-off"
    assert d.target is not None and d.target.allocations == {CASH: 1.0}
    assert "Regime: crash" in d.reasoning and "BTC 90d drawdown -4" in d.reasoning


def test_volatility_shock_picks_risk_off(closes) -> None:
    rng = np.random.default_rng(7)
    shock = {c: np.concatenate([v, v[-1] * np.exp(np.cumsum(rng.normal(0, 0.08, 30)))]) for c, v in closes.items()}
    shock["BTC"] = np.concatenate([closes["BTC"], np.full(30, closes["BTC"][-1]) * (1 + 0.05 * (-1) ** np.arange(30))])
    d, _ = decide(shock, market=make_market(shock))
    assert d.selected_strategy == "risk-off" and "high-vol" in d.reasoning


def test_rich_funding_picks_funding_harvest_unhedged(closes) -> None:
    d, ctx = decide(closes, funding={"ETH": rich_funding("ETH")})
    assert d.ok and d.selected_strategy == "funding-harvest"
    assert d.target is not None
    assert d.target.allocations["ETH"] == pytest.approx(-0.10)  # no spot market: small unhedged short
    assert "unhedged" in d.reasoning and "ETH 7d +43.8%" in d.reasoning
    validate_target(d.target, ctx.market)


def test_rich_funding_with_spot_market_is_hedged(closes) -> None:
    market = make_market(closes, spot={"UETH/USDC": "UETH"})
    d, ctx = decide(closes, market=market, funding={"ETH": rich_funding("ETH"), "SOL": rich_funding("SOL", 0.00004)})
    w = d.target.allocations if d.target else {}
    assert d.selected_strategy == "funding-harvest"
    assert w["ETH"] == pytest.approx(-w["UETH/USDC"]) and w["ETH"] < 0
    assert w["SOL"] < 0 and "UETH/USDC" in d.reasoning
    assert w[CASH] >= 0.20 - 1e-9
    validate_target(d.target, ctx.market)


def test_one_funding_spike_is_not_persistent(closes) -> None:
    spike = rich_funding("ETH", 0.0, 24 * 7)
    spike[-1]["fundingRate"] = "0.01"
    d, _ = decide(closes, funding={"ETH": spike})
    assert d.selected_strategy == "balanced-growth"


def test_fixed_targets_win_and_are_validated(closes, market) -> None:
    d, _ = decide(closes, targets={"BTC": 0.4, "ETH": 0.3, CASH: 0.3})
    assert d.selected_strategy == "fixed-targets"
    assert d.target is not None and d.target.allocations == {"BTC": 0.4, "ETH": 0.3, CASH: 0.3}


def test_invalid_fixed_targets_fail_closed(closes) -> None:
    d, _ = decide(closes, targets={"NOTACOIN": 0.5, CASH: 0.5})
    assert d.status == "failed_invalid" and d.target is None
    assert "NOTACOIN" in (d.error or "")


def test_limits_clamp_and_allowed_assets(closes) -> None:
    limits = Limits(max_weight=0.15, allowed_assets=frozenset({"BTC", "ETH", "SOL", "TRX"}))
    d, ctx = decide(closes, limits=limits)
    assert d.ok and d.target is not None
    assert set(d.target.weights) <= {"BTC", "ETH", "SOL", "TRX"}
    assert max(abs(x) for x in d.target.weights.values()) <= 0.15 + 1e-9
    assert "capped at ±0.1500" in d.reasoning
    validate_target(d.target, ctx.market, max_weight=0.15, allowed_assets=limits.allowed_assets)


def choppy(closes: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """A month of 4.5 %-a-day noise (seeded): BTC ~20 % below its 90-day high, vol ~72 %: caution."""
    r = np.random.default_rng(1).normal(0, 0.045, 30)
    return {c: np.concatenate([v, v[-1] * np.exp(np.cumsum(r))]) for c, v in closes.items()}


def test_caution_with_low_cash_holdings_picks_cash_reserve(closes) -> None:
    dipped = choppy(closes)
    market = make_market(dipped)
    state = holdings_state(market, {"BTC": 3_175, "ETH": 4_607, "SOL": 3_462, "AVAX": 760}, cash=628)
    d, _ = decide(dipped, market=market, state=state)
    assert d.selected_strategy == "cash-reserve", d.reasoning
    assert d.target is not None and d.target.cash_weight == pytest.approx(0.20, abs=1e-6)
    assert d.target.allocations["ETH"] == pytest.approx(0.30)


def test_caution_without_holdings_picks_risk_parity(closes) -> None:
    dipped = choppy(closes)
    d, ctx = decide(dipped, market=make_market(dipped))
    assert d.selected_strategy == "risk-parity" and "Regime: caution" in d.reasoning
    assert "holds no long positions" in d.reasoning
    assert "Equal risk contribution" in d.reasoning
    assert d.target is not None and d.target.cash_weight == pytest.approx(0.50)
    validate_target(d.target, ctx.market)


def test_steady_decline_is_a_downtrend_and_picks_risk_parity(closes) -> None:
    falling = extend(closes, -0.003, 40)  # every coin below its 50-day mean, no crash
    d, ctx = decide(falling, market=make_market(falling))
    assert d.selected_strategy == "risk-parity" and "Regime: downtrend" in d.reasoning
    assert "Equal risk contribution" in d.reasoning
    assert d.target is not None and d.target.cash_weight == pytest.approx(0.50)
    validate_target(d.target, ctx.market)


def test_no_features_fails_closed(market) -> None:
    d = OfflineStrategist().decide(DecisionContext(state=cash_state(), market=market))
    assert d.status == "failed_invalid" and d.target is None and not d.ok


def test_build_features_without_history_gives_funding_only(closes) -> None:
    market = make_market({"BTC": closes["BTC"]}, funding={"BTC": 0.00002})
    from agent.core.domain import Market, MarketInfo

    extra = MarketInfo(coin="HYPE", market="perp", asset=99, wire_name="HYPE", sz_decimals=2, mid=30.0, funding=0.00003)
    market = Market(assets={**market.assets, "HYPE": extra})
    f = build_features(market)
    assert set(f["HYPE"]) == {"funding_hourly", "funding_apr"}
    assert "vol_30d" in f["BTC"] and f["BTC"]["funding_hourly"] == 0.00002


def test_broad_rally_picks_equal_weight(closes) -> None:
    rally = extend(closes, 0.01, 30)
    d, ctx = decide(rally, market=make_market(rally))
    assert d.selected_strategy == "equal-weight" and "Regime: broad-rally" in d.reasoning
    assert d.target is not None
    weights = list(d.target.weights.values())
    assert len(weights) == 8 and max(weights) == pytest.approx(min(weights))
    assert max(weights) <= 0.125 + 1e-9
    validate_target(d.target, ctx.market)


@pytest.mark.parametrize(
    ("dd", "ret", "vol", "breadth", "regime"),
    [
        (-0.30, 0.0, 0.5, 0.5, "crash"),
        (-0.10, -0.25, 0.5, 0.5, "crash"),
        (-0.10, 0.0, 0.95, 0.5, "high-vol"),
        (-0.18, 0.0, 0.5, 0.8, "caution"),
        (-0.05, 0.06, 0.5, 0.8, "broad-rally"),
        (-0.05, 0.0, 0.5, 0.6, "uptrend"),
        (-0.05, 0.0, 0.5, 0.4, "range"),
        (-0.05, 0.0, 0.5, 0.2, "downtrend"),
    ],
)
def test_regime_table(dd, ret, vol, breadth, regime) -> None:
    from agent.strategist.regime import MarketSummary

    s = MarketSummary(
        n_assets=5,
        reference="BTC",
        ref_drawdown_90d=dd,
        ref_return_30d=ret,
        median_vol_30d=vol,
        median_return_30d=ret,
        breadth=breadth,
    )
    assert classify_regime(s)[0] == regime
    # Every regime has a strategy that lists it as compatible.
    assert any(regime in st.compatible_regimes for st in load_strategies().values())

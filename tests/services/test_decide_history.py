"""The decide step reads today's daily candles, says how old they are, and fails closed on stale ones."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from clirun import made_db

from agent.core.errors import StrategistFailedClosed
from agent.services.app import Services
from agent.services.config import load_settings
from agent.services.runtime import open_runtime


@pytest.fixture
def svc(tmp_path: Path) -> Iterator[Services]:
    with open_runtime(load_settings(env={"REBALANCER_DB": str(made_db(tmp_path / "h.db"))})) as services:
        yield services


def test_the_stand_in_serves_daily_candles_for_every_listed_coin_ending_at_its_mid_today(svc: Services):
    _, market = svc.observe()
    now = datetime.now(UTC)
    start = int((now - timedelta(days=30)).timestamp() * 1000)
    end = int(now.timestamp() * 1000)
    perps = [c for c, i in market.assets.items() if i.market == "perp"]
    assert len(perps) > 16  # more coins than the shipped history has columns
    for coin in perps:
        candles = svc.exchange.daily_candles(coin, start, end)  # type: ignore[attr-defined]
        assert len(candles) >= 29, coin
        last_t, last_close, _ = candles[-1]
        assert datetime.fromtimestamp(last_t / 1000, UTC).date() == now.date(), coin
        assert last_close == pytest.approx(market.mid(coin), rel=1e-9), coin


def test_a_live_decision_says_the_day_and_source_of_its_data(svc: Services):
    decision = svc.decide()
    assert decision.ok
    assert decision.history_as_of == datetime.now(UTC).date().isoformat()
    assert "stand-in" in (decision.history_source or "") and "replayed" in (decision.history_source or "")


def test_a_live_decision_on_data_older_than_max_data_age_fails_closed(svc: Services):
    svc.clock = lambda: datetime.now(UTC) + timedelta(days=5)  # the exchange's candles end 5 days ago
    decision = svc.decide()
    assert decision.status == "failed_stale_data" and decision.target is None
    assert "max_data_age" in (decision.error or "") and "5 days old" in (decision.error or "")
    (recorded,) = svc.store.records.decisions(limit=1)
    assert recorded["status"] == "failed_stale_data"
    with pytest.raises(StrategistFailedClosed) as failed:
        svc.preview()
    assert failed.value.status == "failed_stale_data"
    assert svc.plans() == []  # no plan, no token


def test_max_data_age_is_configurable(tmp_path: Path):
    settings = load_settings(env={"REBALANCER_DB": str(made_db(tmp_path / "h.db"))})
    cfg = settings.strategist.model_validate({**settings.strategist.model_dump(), "max_data_age": "7d"})
    with open_runtime(settings.model_copy(update={"strategist": cfg})) as svc:
        svc.clock = lambda: datetime.now(UTC) + timedelta(days=5)
        assert svc.decide().ok


def test_sensitivity_and_risk_carry_as_of_and_source(svc: Services):
    today = datetime.now(UTC).date().isoformat()
    report = svc.sensitivity(days=30)
    assert report["as_of"] == today and "stand-in" in report["source"]
    corr = svc.risk()["correlation"]
    assert corr["as_of"] == today and "stand-in" in corr["source"]


def test_a_live_decision_gives_the_trend_rule_the_history_a_backtest_gives_it(svc: Services):
    """The trend rule fits its lookback weights on up to ``HISTORY_DAYS`` of closes, live as in a backtest: the
    decision reads each coin's whole run of candles (the stand-in replays 400 days), not only the features'
    window, and every array ends on the same day (today's mid)."""
    from agent.services.trading.targets import FEATURE_DAYS, context
    from agent.strategist import trend

    state, market = svc.observe()
    ctx = context(svc, state, market)
    assert ctx.closes is not None
    lengths = {c: len(v) for c, v in ctx.closes.items()}
    assert min(lengths.values()) > FEATURE_DAYS + 1
    assert max(lengths.values()) <= trend.HISTORY_DAYS + 2
    for c, v in ctx.closes.items():
        assert v[-1] == pytest.approx(market.mid(c), rel=1e-9), c
    fitted = trend.fit(ctx.closes, sorted(ctx.closes))
    assert fitted.points > 30  # weekly points scored (200 days of closes would give under 4 for the 180-day lookback)

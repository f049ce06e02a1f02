"""Issue 9, defects 6 and 11: tokens live on the exchange's clock, and a skewed local clock refuses to execute.

Real SDK against the stand-in over loopback; the stand-in's clock and the services' clock are injected.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from doubles import ExchangeClock, FakeClock

from agent.core.errors import ClockSkewError, ConfirmationError
from agent.services.config import Settings
from agent.services.runtime import open_runtime
from agent.services.trading.heartbeat import Heartbeat
from agent.standin import StandIn, load_demo_snapshot

TARGET = {"UBTC/USDC": 0.25, "UETH/USDC": 0.30, "USOL/USDC": 0.25, "AVAX": 0.0, "USDC": 0.20}


def settings(tmp_path, **kw) -> Settings:
    return Settings(network="local", db=str(tmp_path / "h.db"), targets=dict(TARGET), **kw)


def test_a_token_expires_on_the_exchanges_clock(tmp_path):
    exchange = ExchangeClock()
    standin = StandIn.from_snapshot(load_demo_snapshot(), clock=exchange)
    with open_runtime(settings(tmp_path, mcp={"confirm_ttl": "1s"}), standin_snapshot=standin) as svc:  # type: ignore[arg-type]
        plan = svc.preview()
        exchange.advance(1.3)  # only the exchange's clock moves on (1.3 s of skew is within the bound)
        with pytest.raises(ConfirmationError, match="expired"):
            svc.execute(plan.plan_id, plan.confirm_token)
        assert svc.store.journal.count() == 0


def test_a_clock_that_jumped_forward_at_preview_mints_no_long_lived_token(tmp_path):
    clock = FakeClock(datetime.now(UTC) + timedelta(days=365))  # the local clock jumped a year ahead
    exchange = ExchangeClock()
    standin = StandIn.from_snapshot(load_demo_snapshot(), clock=exchange)
    cfg = settings(tmp_path, mcp={"confirm_ttl": "1s"})
    with open_runtime(cfg, clock=clock, standin_snapshot=standin) as svc:  # type: ignore[arg-type]
        plan = svc.preview()
        assert plan.expires_at is not None and plan.expires_at < datetime.now(UTC) + timedelta(seconds=5)
        exchange.advance(1.3)  # 1.3 s pass...
        clock.now = datetime.now(UTC) + timedelta(seconds=1.3)  # ...and the local clock came back
        with pytest.raises(ConfirmationError, match="expired"):
            svc.execute(plan.plan_id, plan.confirm_token)
        assert svc.store.journal.count() == 0


@pytest.mark.parametrize("skew_s", [600.0, -600.0], ids=["exchange-ahead", "exchange-behind"])
def test_execute_refuses_when_the_local_clock_is_too_far_off_the_exchanges(tmp_path, skew_s):
    standin = StandIn.from_snapshot(load_demo_snapshot(), clock=lambda: time.time() + skew_s)
    with open_runtime(settings(tmp_path), standin_snapshot=standin) as svc:  # type: ignore[arg-type]
        plan = svc.preview()
        with pytest.raises(ClockSkewError, match=r"local clock is 60\d\.\ds (behind|ahead of) the exchange's"):
            svc.execute(plan.plan_id, plan.confirm_token)
        assert svc.store.journal.count() == 0
        assert svc.store.plans.get(plan.plan_id).status == "previewed"  # nothing spent: fix the clock, retry
        assert not standin.account.fills


def test_a_small_skew_within_the_bound_executes(tmp_path):
    standin = StandIn.from_snapshot(load_demo_snapshot(), clock=lambda: time.time() + 3.0)
    with open_runtime(settings(tmp_path), standin_snapshot=standin) as svc:  # type: ignore[arg-type]
        plan = svc.preview()
        assert svc.execute(plan.plan_id, plan.confirm_token).status == "ok"


def test_a_confirm_ticks_token_is_short_lived(tmp_path):
    with open_runtime(settings(tmp_path, heartbeat={"autonomy": "confirm", "confirm_ttl": "15m"})) as svc:
        r = Heartbeat(svc, autonomy="confirm").tick()
        assert r.status == "pending-confirm"
        stored = svc.store.plans.get(r.plan_id)
        life = stored.expires_at - datetime.now(UTC)
        assert timedelta(minutes=14) < life <= timedelta(minutes=15), life  # not the 4 h interval

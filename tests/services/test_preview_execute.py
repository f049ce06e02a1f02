"""Preview → confirm through the services on the stand-in: tokens are single-use, expire, and guard state."""

from __future__ import annotations

import pytest

from agent.core.errors import ConfirmationError, RiskLimitError, TradingPaused


def test_preview_then_execute_trades_to_target(services):
    plan = services.preview()
    assert plan.actions and plan.confirm_token and plan.expires_at
    report = services.execute(plan.plan_id, plan.confirm_token)
    assert report.status == "ok"
    after = services.plan()
    assert not after.rebalance_needed and after.summary.drift_before < 0.01
    rows = services.store.journal.rows(plan_id=plan.plan_id)
    assert rows and all(r.state == "FILLED" for r in rows)


def test_token_is_single_use(services):
    plan = services.preview()
    services.execute(plan.plan_id, plan.confirm_token)
    with pytest.raises(ConfirmationError, match="already used"):
        services.execute(plan.plan_id, plan.confirm_token)


def test_wrong_token_changes_nothing(services):
    plan = services.preview()
    with pytest.raises(ConfirmationError, match="wrong confirm token"):
        services.execute(plan.plan_id, "not-the-token")
    assert services.store.journal.count() == 0
    assert services.execute(plan.plan_id, plan.confirm_token).status == "ok"  # the right one still works


def test_state_moved_since_preview_is_refused(services):
    plan = services.preview()
    other = services.preview()  # a second plan executed first moves the account
    services.execute(other.plan_id, other.confirm_token)
    with pytest.raises(ConfirmationError, match="moved since the preview"):
        services.execute(plan.plan_id, plan.confirm_token)


def test_paused_refuses_and_sends_nothing(services):
    plan = services.preview()
    services.pause("test")
    with pytest.raises(TradingPaused):
        services.execute(plan.plan_id, plan.confirm_token)
    assert services.store.journal.count() == 0
    services.resume()
    assert services.execute(plan.plan_id, plan.confirm_token).status == "ok"


def test_risk_gate_refuses_over_the_cap(settings, clock):
    from agent.services.runtime import open_runtime

    tight = settings.model_copy(
        update={"limits": settings.limits.model_copy(update={"max_notional_per_cycle_usd": 100})}
    )
    with open_runtime(tight, clock=clock) as svc:
        with pytest.raises(RiskLimitError, match=r"per-cycle cap.*no confirm token"):
            svc.preview()  # the gate runs before a token exists
        (refused,) = svc.plans()
        assert refused["status"] == "refused" and "per-cycle cap" in refused["reason"]
        assert svc.store.journal.count() == 0


def test_set_target_validates_and_bad_input_changes_nothing(services):
    before = services.current_target()
    with pytest.raises(Exception, match="not listed"):
        services.set_target({"NOPE": 0.5, "USDC": 0.5})
    assert services.current_target() == before
    stored = services.set_target({"UBTC/USDC": 0.5, "USDC": 0.5})
    assert not stored.active  # the config's [targets] come first
    assert services.store.records.get("target")["allocations"] == stored.target.allocations

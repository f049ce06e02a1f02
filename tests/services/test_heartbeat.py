"""Heartbeat ticks against the stand-in with a fake clock: each autonomy level, idempotency, caps."""

from __future__ import annotations

from agent.services.trading.heartbeat import Heartbeat


def orders(svc) -> int:
    return svc.store.journal.count()


def test_advise_records_and_alerts_but_never_trades(services):
    r = Heartbeat(services, autonomy="advise").tick()
    assert r.status == "advised" and r.plan_id
    assert orders(services) == 0
    stored = services.store.plans.get(r.plan_id)
    assert stored.status == "advisory" and stored.token_hash is None  # advice can never execute
    assert services.store.records.alerts("advice")
    assert services.store.cycles.get(r.cycle_id)["target_source"] == "config"  # configured: no model asked
    assert services.store.records.decisions() == []


def test_advise_without_a_target_asks_the_strategist_and_records_its_answer(settings, clock):
    from agent.services.runtime import open_runtime

    with open_runtime(settings.model_copy(update={"targets": None}), clock=clock) as svc:
        r = Heartbeat(svc, autonomy="advise").tick()
        assert r.status == "advised", r
        assert svc.store.cycles.get(r.cycle_id)["target_source"] == "strategist"
        (decision,) = svc.store.records.decisions(r.cycle_id)
        assert decision["status"] == "ok" and decision["raw_replies"] is not None


def test_confirm_leaves_a_pending_plan_a_person_confirms(services):
    r = Heartbeat(services, autonomy="confirm").tick()
    assert r.status == "pending-confirm" and r.confirm_token
    assert orders(services) == 0
    alert = services.store.records.alerts("confirm")[0]["message"]
    assert f"rebalancer execute {r.plan_id} --confirm" in alert
    # the token is only on the terminal: never in the alert log (nor the webhook, which sends the same text)
    assert r.confirm_token not in alert
    assert not [a for a in services.store.records.alerts() if r.confirm_token in a["message"]]
    report = services.execute(r.plan_id, r.confirm_token)
    assert report.status == "ok" and orders(services) > 0


def test_auto_executes_within_the_heartbeat_caps(services):
    r = Heartbeat(services, autonomy="auto").tick()
    assert r.status == "executed:ok", r
    cycle = services.store.cycles.get(r.cycle_id)
    assert cycle["value_before"] > 0 and cycle["value_after"] > 0
    assert cycle["orders"] > 0 and cycle["fills"] > 0 and cycle["realised_cost_usd"] > 0
    # the next tick finds the portfolio in band
    services.clock.advance(hours=4)
    nxt = Heartbeat(services, autonomy="auto").tick()
    assert nxt.status in ("in-band", "no-trigger")


def test_auto_is_refused_over_the_per_tick_cap(settings, clock):
    from agent.services.runtime import open_runtime

    hb_cfg = settings.heartbeat.model_copy(update={"max_notional_per_tick_usd": 50.0})
    with open_runtime(settings.model_copy(update={"heartbeat": hb_cfg}), clock=clock) as svc:
        r = Heartbeat(svc, autonomy="auto").tick()
        assert r.status == "risk-refused" and "per-cycle cap" in r.reason
        assert orders(svc) == 0


def test_a_tick_is_idempotent_within_its_slot(services):
    hb = Heartbeat(services, autonomy="auto")
    first = hb.tick()
    services.clock.advance(minutes=30)  # same 4h slot
    again = hb.tick()
    assert again.status == "skipped" and again.cycle_id == first.cycle_id


def test_paused_heartbeat_does_not_trade(services):
    services.pause("maintenance")
    r = Heartbeat(services, autonomy="auto").tick()
    assert r.status == "paused" and orders(services) == 0


def test_history_fills_the_seven_day_return(services):
    hb = Heartbeat(services, autonomy="advise")
    first = hb.tick()
    services.clock.advance(days=7, hours=1)
    hb.tick()
    row = next(r for r in services.history(60) if r["id"] == first.cycle_id)
    assert row["return_7d"] is not None

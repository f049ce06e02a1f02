"""IOC legs that meet a temporary refusal are tried again, each try a new journaled attempt."""

from __future__ import annotations

from agent.adapters.store.journal import FILLED, REJECTED
from agent.services.trading.retries import retry_kind
from agent.services.trading.twaps import TwapExecutor

from .conftest import SEED_002, make_plan


def test_only_post_only_after_a_network_upgrade_is_retried_not_fatal(adapter, server, store):
    plan = make_plan(adapter, SEED_002)
    with server.exchange.lock:  # a network upgrade just happened: for 0.3 s only ALO orders are accepted
        server.exchange.post_only_until_ms = server.exchange.now_ms() + 300
    report = TwapExecutor(adapter, store, mode="live", retry_wait_s=0.25, ioc_retries=3).execute(plan)
    assert report.status == "ok", report.errors
    first = store.journal.rows(plan_id=plan.plan_id, action_index=0)
    assert first[0].state == REJECTED and "network upgrade" in (first[0].error or "")
    assert first[-1].state == FILLED and len({r.cloid for r in first}) == len(first)  # a new cloid each try


def test_which_errors_are_retryable():
    assert retry_kind("Order could not immediately match against any resting orders. asset=5") == "miss"
    assert retry_kind("Only post-only orders allowed immediately after a network upgrade") == "upgrade"
    assert retry_kind("Insufficient margin to place order. asset=5") is None
    assert retry_kind(None) is None

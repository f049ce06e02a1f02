"""The dead-man switch: scheduleCancel cancels every open order once its time has passed."""

from __future__ import annotations

GTC = {"limit": {"tif": "Gtc"}}


def test_schedule_cancel_fires_at_its_time(info, exchange, user, clock, statuses):
    [status] = statuses(exchange.order("ETH", True, 0.01, 1500.0, GTC))
    oid = status["resting"]["oid"]
    at_ms = int(clock.now * 1000) + 10_000
    assert exchange.schedule_cancel(at_ms) == {"status": "ok", "response": {"type": "default"}}
    clock.now += 9.0
    assert len(info.open_orders(user.address)) == 1
    clock.now += 1.0
    assert info.open_orders(user.address) == []
    order = info.query_order_by_oid(user.address, oid)["order"]
    assert order["status"] == "scheduledCancel"


def test_schedule_cancel_must_be_at_least_five_seconds_ahead(exchange, clock):
    result = exchange.schedule_cancel(int(clock.now * 1000) + 4_000)
    assert result["status"] == "err"
    assert "5 seconds" in result["response"]


def test_schedule_cancel_can_be_unset(info, exchange, user, clock, statuses):
    statuses(exchange.order("ETH", True, 0.01, 1500.0, GTC))
    exchange.schedule_cancel(int(clock.now * 1000) + 6_000)
    assert exchange.schedule_cancel(None)["status"] == "ok"
    clock.now += 60
    assert len(info.open_orders(user.address)) == 1

"""The history page over 60 days of real cycles: heartbeat ticks every 3 days on a moved clock, one confirmed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from doubles import FakeClock
from web_support import shot, write_config

from agent.interfaces.web import WebServer
from agent.services.config import load_settings
from agent.services.runtime import open_runtime
from agent.services.trading.heartbeat import Heartbeat


@pytest.mark.slow  # twenty heartbeat ticks, then the page in a browser (over 5 s)
def test_history_lists_60_days_of_cycles_each_opening_to_its_decision_plan_and_orders(tmp_path, page):
    # 20 ticks of 3 days end today: the stand-in's daily candles end at its own (real) clock
    clock = FakeClock(datetime.now(UTC).replace(microsecond=0) - timedelta(days=60))
    # the offline strategist decides (each cycle has a decision); the heartbeat may plan the whole rebalance
    cfg = write_config(tmp_path, targets=None, extra="[heartbeat]\nmax_notional_per_tick_usd = 10000")
    with open_runtime(load_settings(cfg, env={}), clock=clock) as svc:
        hb = Heartbeat(svc, autonomy="confirm", interval=timedelta(days=3))
        executed = None
        for _ in range(20):
            tick = hb.tick()
            if tick.status == "pending-confirm" and executed is None:
                svc.execute(tick.plan_id, tick.confirm_token, source="cli")
                executed = tick.plan_id
            clock.advance(days=3)
        assert executed is not None
        cycles = svc.history(60)
        assert len(cycles) == 20 and any(c["return_7d"] is not None for c in cycles)
        server = WebServer(svc, port=0).start()
        try:
            page.goto(server.url)
            page.goto(server.base + "/history")
            rows = page.locator("#cycles tr.cycle")
            assert rows.count() == 20
            assert "%" in rows.last.locator("td").nth(5).inner_text()  # a realised 7-day return
            traded = page.locator("#cycles tr.cycle:has-text('executed:ok')")
            assert traded.count() == 1
            detail = page.locator("#cycles tr.detail").nth(rows.count() - 1)
            detail.locator("summary").first.click()
            text = detail.inner_text()
            assert "Decision:" in text and "offline" in text and "Regime:" in text  # strategy and reasoning
            assert executed in text and "FILLED" in text  # its plan and its orders
            assert page.locator("svg.chart polyline").count() == 1
            shot(page, "history.png")
        finally:
            server.stop()

"""Dry-run wraps every state-changing exchange call: orders, cancels, the dead-man switch (issue 9).

The trade port's state-changing methods are listed from the protocol itself, so a new one must be added
here; then preview → execute, cancel_open_orders (services and MCP) and an auto heartbeat tick run in
dry-run against a real stand-in, and the exchange's account is exactly as before.
"""

from __future__ import annotations

import copy

from agent.services.config import Settings
from agent.services.ports import ReadPort, TradePort
from agent.services.runtime import open_runtime
from agent.services.trading.heartbeat import Heartbeat
from agent.standin import load_demo_snapshot, serve
from tools.registry import by_name

TARGET = {"UBTC/USDC": 0.25, "UETH/USDC": 0.30, "USOL/USDC": 0.25, "AVAX": 0.0, "USDC": 0.20}


def state_of(account: object) -> tuple:
    fields = ("orders", "balances", "positions", "raw_usd", "fills", "scheduled_cancel_ms")
    return tuple(getattr(account, f) for f in fields)


def methods(protocol: type) -> set[str]:
    return {n for n in dir(protocol) if not n.startswith("_") and callable(getattr(protocol, n))}


def test_the_state_changing_calls_are_the_ones_this_test_covers():
    assert methods(TradePort) - methods(ReadPort) == {"place_orders", "cancel", "cancel_by_cloid", "schedule_cancel"}


def test_dry_run_changes_nothing_at_the_exchange(tmp_path):
    with serve(load_demo_snapshot()) as server:
        account = server.exchange.account
        before = copy.deepcopy(state_of(account))
        settings = Settings(network=server.url, db=str(tmp_path / "h.db"), targets=TARGET, execution="dry-run")
        hb = settings.heartbeat.model_copy(update={"max_notional_per_tick_usd": 100_000})
        with open_runtime(settings.model_copy(update={"heartbeat": hb})) as svc:
            assert svc.trade is None
            plan = svc.preview()
            report = svc.execute(plan.plan_id, plan.confirm_token or "")
            assert report.status == "dry-run" and len(svc.store.journal.rows(plan_id=plan.plan_id)) == len(plan.actions)
            cancelled = svc.cancel_open_orders()
            assert not cancelled.sent and cancelled.count >= 1  # it says what it would have cancelled
            mcp = by_name()["cancel_open_orders"].call(svc, {})
            assert mcp["sent"] is False
            tick = Heartbeat(svc, autonomy="auto").tick()
            assert tick.status in ("executed:dry-run", "in-band", "no-trigger"), tick
        assert state_of(account) == before

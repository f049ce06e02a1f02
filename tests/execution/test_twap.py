"""A leg larger than the book goes out as a native TWAP: planned from the book, sent through the SDK's
signing helpers, followed on the stand-in's accelerated clock to completion, journaled like an order."""

from __future__ import annotations

import pytest

from agent import PortfolioRebalancer, TargetAllocation
from agent.adapters.hyperliquid.client import HyperliquidExchange
from agent.adapters.store.db import Store
from agent.adapters.store.journal import FILLED
from agent.core.execution_style import assign_order_types, ioc_fillable
from agent.services.trading.twaps import TwapExecutor
from agent.standin import DEMO_ACCOUNT_ADDRESS, DEMO_SECRET_KEY, load_demo_snapshot, serve

#: the stand-in's TWAP clock runs 600× the wall clock: a 30 s suborder every 50 ms.
TIME_SCALE = 600


def thin_ueth() -> dict:
    """The demo account with a UETH book a hundred times thinner (its real shape, 1 % of the size)."""
    snap = load_demo_snapshot()
    for side in snap["l2Books"]["@151"]["levels"]:
        for level in side:
            level["sz"] = f"{float(level['sz']) / 100:.4f}"
    return snap


def connect(url: str) -> HyperliquidExchange:
    return HyperliquidExchange(
        url, account_address=DEMO_ACCOUNT_ADDRESS, secret_key=DEMO_SECRET_KEY, timeout=2.0, order_ttl_s=2.0
    )


def deep_leg_plan(adapter: HyperliquidExchange):
    """Sell most of the UETH (spot, a thin book): more than an IOC at the 0.5 % protected price can fill."""
    state = adapter.account_state()
    market = adapter.market(books=sorted({*state.positions}))
    target = {c: round(w, 6) for c, w in state.weights(market).items() if c != "USDC"}
    target["UETH/USDC"] = 0.02
    plan = PortfolioRebalancer(rebalance_threshold=0.02).create_rebalancing_plan(
        state, TargetAllocation.from_json(target), market
    )
    actions = assign_order_types(plan.actions, market, twap_over_usd=10_000)
    return plan.model_copy(update={"actions": actions}), market


def test_a_leg_larger_than_the_book_is_a_twap_that_completes_and_is_journaled(tmp_path):
    with serve(thin_ueth(), time_scale=TIME_SCALE) as srv:
        adapter = connect(srv.url)
        plan, market = deep_leg_plan(adapter)
        [leg] = [a for a in plan.actions if a.coin == "UETH/USDC"]
        book = market.assets["UETH/USDC"].book
        assert ioc_fillable(book, False, leg.limit_px) < leg.size  # the book cannot take it at once
        assert leg.order_type == "twap" and leg.twap_minutes >= 5 and "TWAP over" in leg.reason
        store = Store(tmp_path / "h.sqlite")
        report = TwapExecutor(adapter, store, mode="live", poll_s=0.02).execute(plan)
        assert report.status == "ok", report.errors
        [row] = store.journal.rows(plan_id=plan.plan_id, action_index=plan.actions.index(leg))
        assert row.state == FILLED and row.filled_sz == pytest.approx(leg.size) and row.oid is not None
        events = [e["state"] for e in store.journal.events(row.cloid)]
        assert events[:3] == ["PENDING", "SENT", "RESTING"] and events[-1] == "FILLED"
        history = adapter.ask({"type": "twapHistory", "user": adapter.user})
        assert history[-1]["twapId"] == row.oid and history[-1]["status"]["status"] == "finished"
        slices = adapter.ask({"type": "userTwapSliceFills", "user": adapter.user})
        assert len(slices) >= 2 and {s["twapId"] for s in slices} == {row.oid}
        assert sum(float(s["fill"]["sz"]) for s in slices) == pytest.approx(leg.size)
        store.close()


def test_a_twap_too_short_or_too_small_is_refused_by_the_stand_in():
    with serve(load_demo_snapshot(), time_scale=TIME_SCALE) as srv:
        ex = srv.exchange
        asset = ex.markets_by_coin["SOL"].asset
        assert ex.place_twap({"a": asset, "b": True, "s": "1", "r": False, "m": 1, "t": False}) == {
            "error": "Invalid TWAP duration: 1 min(s)"
        }
        small = ex.place_twap({"a": asset, "b": True, "s": "0.1", "r": False, "m": 60, "t": False})
        assert "under the $10 minimum" in small["error"]
        assert ex.cancel_twap(asset, 999) == {"error": "TWAP was never placed, already canceled, or filled."}


@pytest.mark.slow
@pytest.mark.parametrize("crash", ["placed", "resting"])
def test_a_twap_survives_kill_9_and_is_reconciled_once(tmp_path, crash):
    """SIGKILL the executor while its TWAP runs (or before the twapId was journaled); the restart's
    reconcile finds that TWAP by id: one that ended is taken as it is, one still running is cancelled
    (nothing relies on a dead-man switch stopping it) and only the rest is sent. Never more than the leg."""
    import json
    import signal
    import subprocess
    import sys
    from pathlib import Path

    child = str(Path(__file__).with_name("twapcrash.py"))
    with serve(thin_ueth(), time_scale=TIME_SCALE) as srv:
        adapter = connect(srv.url)
        plan, _ = deep_leg_plan(adapter)
        index = next(i for i, a in enumerate(plan.actions) if a.order_type == "twap")
        plan_path, db = tmp_path / "plan.json", tmp_path / "journal.sqlite"
        plan_path.write_text(plan.model_dump_json())

        def run(mode: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                [sys.executable, child, srv.url, str(db), str(plan_path), mode],
                capture_output=True, text=True, timeout=120,
            )  # fmt: skip

        killed = run(crash)
        assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
        done = run("none")
        assert done.returncode == 0, done.stderr[-2000:]
        report = json.loads(done.stdout.strip().splitlines()[-1])
        assert report["status"] == "ok", report
        history = adapter.ask({"type": "twapHistory", "user": adapter.user})
        # the killed run's TWAP, then (only when it was still running and got cancelled) one for the rest
        assert 1 <= len(history) <= 2 and history[-1]["status"]["status"] == "finished"
        assert all(h["status"]["status"] == "terminated" for h in history[:-1])
        executed = sum(float(h["state"]["executedSz"]) for h in history)
        assert executed == pytest.approx(plan.actions[index].size)  # never more than the leg
        store = Store(db)
        rows = store.journal.rows(plan_id=plan.plan_id, action_index=index)
        assert {r.oid for r in rows if r.filled_sz > 0} <= {h["twapId"] for h in history}
        assert sum(r.filled_sz for r in rows) == pytest.approx(plan.actions[index].size)
        assert rows[-1].state == FILLED and not store.journal.open_rows()
        store.close()


class Spy:
    """The real adapter, with its dead-man switch calls written down."""

    def __init__(self, adapter: HyperliquidExchange) -> None:
        self.adapter = adapter
        self.schedule: list[int | None] = []

    def __getattr__(self, name: str):
        return getattr(self.adapter, name)

    def schedule_cancel(self, at_ms: int | None) -> bool:
        self.schedule.append(at_ms)
        return self.adapter.schedule_cancel(at_ms)


def without_open_orders(snap: dict) -> dict:
    snap.pop("openOrders", None)
    for b in snap["spotClearinghouseState"]["balances"]:
        b["hold"] = "0.0" if b["coin"] != "USDC" else b["hold"]
    return snap


def test_the_dead_man_switch_is_armed_only_while_our_twap_runs_and_never_left_armed(tmp_path):
    with serve(without_open_orders(thin_ueth()), time_scale=TIME_SCALE) as srv:
        spy = Spy(connect(srv.url))
        plan, _ = deep_leg_plan(spy.adapter)
        store = Store(tmp_path / "h.sqlite")
        report = TwapExecutor(spy, store, mode="live", poll_s=0.02).execute(plan)
        assert report.status == "ok", report.errors
        assert spy.schedule and isinstance(spy.schedule[0], int) and spy.schedule[-1] is None
        assert srv.exchange.account.scheduled_cancel_ms is None
        assert store.records.get("dead_man_armed_until") is None
        store.close()


def test_with_open_orders_not_ours_no_dead_man_switch_is_armed_and_the_report_says_so(tmp_path):
    with serve(thin_ueth(), time_scale=TIME_SCALE) as srv:  # the demo account's own resting UETH sell
        spy = Spy(connect(srv.url))
        plan, _ = deep_leg_plan(spy.adapter)
        store = Store(tmp_path / "h.sqlite")
        report = TwapExecutor(spy, store, mode="live", poll_s=0.02).execute(plan)
        assert report.status == "ok", report.errors
        assert not any(isinstance(t, int) for t in spy.schedule)
        assert any("dead-man switch not armed" in n for n in report.notes)
        assert any("not placed by rebalancer" in n for n in report.notes)
        store.close()

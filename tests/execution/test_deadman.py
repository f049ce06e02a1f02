"""The dead-man switch around a native TWAP, on a stand-in whose clock the test moves:

- an order of the user's that appears while our TWAP runs disarms the switch at the next extension, so a
  crash afterwards does not let the switch cancel it;
- nothing relies on a fired switch stopping a TWAP (the stand-in lets it run): the next run finds the
  dead run's TWAP and cancels it by id, keeps what it executed, and sends only what is left.
"""

from __future__ import annotations

from typing import Any

import pytest
from doubles import SecondsClock
from eth_account import Account
from hyperliquid.exchange import Exchange

from agent.adapters.hyperliquid.budget import RateBudget
from agent.adapters.hyperliquid.client import HyperliquidExchange
from agent.adapters.store.db import Store
from agent.adapters.store.journal import CANCELED, FILLED
from agent.core.errors import ExchangeError
from agent.services.trading.twaps import TwapExecutor
from agent.standin import DEMO_ACCOUNT_ADDRESS, DEMO_SECRET_KEY, StandIn, StandInServer, serve

from .test_twap import deep_leg_plan, thin_ueth, without_open_orders

POLL_S = 5.0


class Crash(BaseException):
    """The executor process dies here (nothing after it reaches the exchange)."""


class Mortal:
    """The real adapter until :meth:`die`; afterwards every call fails, as for a killed process."""

    def __init__(self, adapter: HyperliquidExchange) -> None:
        self.adapter = adapter
        self.dead = False

    def __getattr__(self, name: str) -> Any:
        if self.dead:
            raise ExchangeError("the process is dead")
        return getattr(self.adapter, name)

    def die(self) -> None:
        self.dead = True
        raise Crash


def stand_in() -> tuple[StandInServer, SecondsClock]:
    snap = without_open_orders(thin_ueth())
    clock = SecondsClock(snap["time"] / 1000)
    return serve(StandIn.from_snapshot(snap, clock=clock)), clock


def connect(url: str, clock: SecondsClock) -> HyperliquidExchange:
    """No ``expiresAfter``: the adapter extrapolates the exchange's clock from the wall clock, which the
    test's settable clock leaves behind. The rate budget runs on the test's clock too: a TWAP followed for
    minutes polls its status more often than one wall-clock minute's budget allows, and waiting for weight
    is time passing at the exchange."""
    return HyperliquidExchange(
        url,
        account_address=DEMO_ACCOUNT_ADDRESS,
        secret_key=DEMO_SECRET_KEY,
        timeout=2.0,
        order_ttl_s=None,
        budget=RateBudget(1000, clock=clock, sleep=clock.advance),
    )


def executor(exchange: Any, store: Store, clock: SecondsClock, sleep: Any) -> TwapExecutor:
    return TwapExecutor(exchange, store, mode="live", poll_s=POLL_S, clock=clock, sleep=sleep)


def test_an_order_of_the_users_appearing_mid_twap_disarms_the_switch_before_a_crash(tmp_path):
    srv, clock = stand_in()
    with srv:
        adapter = connect(srv.url, clock)
        plan, _ = deep_leg_plan(adapter)
        user = Exchange(Account.from_key(DEMO_SECRET_KEY), srv.url, account_address=DEMO_ACCOUNT_ADDRESS)
        mortal = Mortal(adapter)
        placed: list[float] = []
        armed_at_crash: list[int | None] = []

        def sleep(seconds: float) -> None:
            clock.advance(seconds)
            if not placed:
                assert srv.exchange.account.scheduled_cancel_ms is not None  # armed while our TWAP runs
                answer = user.order("SOL", True, 0.2, 60.0, {"limit": {"tif": "Gtc"}})  # the user's own order
                assert "resting" in answer["response"]["data"]["statuses"][0]
                placed.append(clock.now)
            elif clock.now - placed[0] > 90:  # past the first extension
                armed_at_crash.append(srv.exchange.account.scheduled_cancel_ms)
                mortal.die()

        store = Store(tmp_path / "d.sqlite")
        with pytest.raises(Crash):
            executor(mortal, store, clock, sleep).execute(plan)
        assert armed_at_crash == [None]  # disarmed at the extension, not re-armed
        clock.advance(600)  # long after any switch would have fired
        [order] = adapter.open_orders()
        assert order.coin == "SOL" and order.cloid is None  # the user's order is still there
        store.close()


def test_a_dead_runs_twap_is_cancelled_by_id_on_recovery_and_only_the_rest_is_sent(tmp_path):
    srv, clock = stand_in()
    with srv:
        adapter = connect(srv.url, clock)
        plan, _ = deep_leg_plan(adapter)
        index = next(i for i, a in enumerate(plan.actions) if a.order_type == "twap")
        leg = plan.actions[index]
        mortal = Mortal(adapter)

        def sleep_then_die(seconds: float) -> None:
            clock.advance(seconds)
            if srv.exchange.twaps and clock.now > srv.exchange.twaps[1].started_ms / 1000 + 20:
                mortal.die()

        store = Store(tmp_path / "d.sqlite")
        with pytest.raises(Crash):
            executor(mortal, store, clock, sleep_then_die).execute(plan)
        clock.advance(180)  # the switch fires: the stand-in cancels open orders but the TWAP runs on
        history = adapter.ask({"type": "twapHistory", "user": adapter.user})
        assert srv.exchange.account.scheduled_cancel_ms is None
        assert [h["status"]["status"] for h in history] == ["activated"]
        [row] = store.journal.rows(plan_id=plan.plan_id, action_index=index)

        recovery = executor(adapter, store, clock, clock.advance)
        rec = recovery.reconcile()
        assert rec.resolved == {row.cloid: CANCELED} and not rec.unresolved
        [first] = adapter.ask({"type": "twapHistory", "user": adapter.user})
        assert first["twapId"] == 1 and first["status"]["status"] == "terminated"  # cancelled by its id
        done = float(first["state"]["executedSz"])
        row = store.journal.get(row.cloid)
        assert row.state == CANCELED and row.filled_sz == pytest.approx(done) and 0 < done < leg.size

        report = recovery.execute(plan)  # the plan resumed: only what is left goes out, as a second TWAP
        assert report.status == "ok", report.errors
        history = adapter.ask({"type": "twapHistory", "user": adapter.user})
        assert [h["status"]["status"] for h in history] == ["terminated", "finished"]
        assert sum(float(h["state"]["executedSz"]) for h in history) == pytest.approx(leg.size)
        rows = store.journal.rows(plan_id=plan.plan_id, action_index=index)
        assert [r.state for r in rows] == [CANCELED, FILLED]
        store.close()

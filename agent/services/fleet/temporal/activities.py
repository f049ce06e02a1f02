"""The workflows' steps, run by any worker. Each opens its account afresh (an in-memory store: nothing that
must be shared stays on this machine) and may run more than once.

``execute`` is idempotent through the exchange: before an order is signed, every cloid an earlier round
of this plan could have used for it is looked up (``orderStatus``); one that exists is that order's outcome.
A retried activity (its worker died, or it timed out) cannot know whether its predecessor's last request
is still in flight, so for an order it cannot find it waits until the exchange's clock is past that
round's ``expiresAfter`` (the request can no longer land), looks once more, and otherwise reports it
``unsent``: the workflow's next round sends it under a new cloid. Transfers (``allocation_execute``) follow
the same rule with the ledger (``userNonFundingLedgerUpdates``) in place of ``orderStatus``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from temporalio import activity

from agent.adapters.store.db import Store
from agent.core.domain import RebalancingPlan
from agent.core.errors import ConfigError, OrderOutcomeUnknown
from agent.core.orders import OrderIntent, OrderResult, make_cloid
from agent.core.targets import parse_target
from agent.services.app import Services
from agent.services.config import Settings
from agent.services.fleet.accounts import account_settings, open_fleet
from agent.services.trading.planning import refusal

SLACK_MS = 2_000


class Activities:
    """``Activities(settings)``: the activity functions a worker registers (``.all()``)."""

    def __init__(self, settings: Settings) -> None:
        if settings.network == "local":
            raise ConfigError(
                "network: the Temporal path needs one exchange every worker reaches: a URL "
                "(`rebalancer exchange serve`), testnet or mainnet, not the in-process local stand-in"
            )
        self.settings = settings.model_copy(update={"db": ":memory:"})
        self.by_name = {a.name: a for a in settings.accounts}

    def all(self) -> list[Any]:
        return [
            self.observe,
            self.decide,
            self.plan,
            self.preview,
            self.execute,
            self.allocation_plan,
            self.allocation_execute,
        ]

    @contextmanager
    def _services(self, account: str) -> Iterator[Services]:
        from agent.services.runtime import open_runtime

        cfg = self.by_name.get(account)
        if cfg is None:
            raise ConfigError(f"accounts: no account named {account!r} in this worker's config")
        url = self.settings.network if self.settings.is_local else None
        settings = account_settings(self.settings, cfg, url).model_copy(update={"db": ":memory:"})
        with open_runtime(settings, store=Store(":memory:")) as svc:
            yield svc

    @activity.defn(name="observe")
    def observe(self, account: str) -> dict[str, Any]:
        with self._services(account) as svc:
            state, market = svc.observe()
            return {
                "equity": state.equity(market),
                "weights": state.weights(market),
                "time": market.timestamp.isoformat(),
            }

    @activity.defn(name="decide")
    def decide(self, account: str) -> dict[str, Any]:
        with self._services(account) as svc:
            chosen = svc.choose_target()
            return {"weights": dict(chosen.target.weights), "source": chosen.source}

    @activity.defn(name="plan")
    def plan(self, account: str, target: dict[str, Any]) -> dict[str, Any]:
        with self._services(account) as svc:
            p = svc.plan(parse_target(target["weights"]))
            return p.model_dump(mode="json")

    @activity.defn(name="preview")
    def preview(self, account: str, plan: dict[str, Any]) -> dict[str, Any]:
        """The preview's gates (risk limits) and the exchange's clock offset the workflow sets expiries by."""
        with self._services(account) as svc:
            p = RebalancingPlan.model_validate(plan)
            refused = refusal(svc, p)
            server = svc.exchange.server_time_ms(fresh=True)
            return {"refused": refused[1] if refused else None, "offset_ms": server - int(time.time() * 1000)}

    @activity.defn(name="execute")
    def execute(self, job: dict[str, Any]) -> dict[str, Any]:
        plan = RebalancingPlan.model_validate({k: v for k, v in job["plan"].items() if k != "offset_ms"})
        rnd, expires = int(job["round"]), int(job["expires_after_ms"])
        retried = activity.info().attempt > 1
        results = []
        with self._services(job["account"]) as svc:
            for i in job["indices"]:
                activity.heartbeat(i)
                results.append(self._one(svc, plan, i, rnd, expires, retried))
        return {"results": results}

    def _one(
        self, svc: Services, plan: RebalancingPlan, i: int, rnd: int, expires: int, retried: bool
    ) -> dict[str, Any]:
        a = plan.actions[i]
        cloids = [make_cloid(plan.plan_id, i, k) for k in range(rnd + 1)]
        found = self._lookup(svc, cloids)
        if found is None and retried:
            found = self._after_expiry(svc, cloids, expires)
            if found is None:
                return {"index": i, "coin": a.coin, "status": "unsent", "cloid": cloids[-1]}
        if found is not None:
            return _result(i, a.coin, found, "found")
        if svc.exchange.server_time_ms(fresh=True) >= expires:
            return {"index": i, "coin": a.coin, "status": "unsent", "cloid": cloids[-1]}
        intent = OrderIntent(
            cloid=cloids[-1],
            asset=a.asset,
            wire_name=a.wire_name or a.coin,
            coin=a.coin,
            is_buy=a.side == "buy",
            size=a.size,
            limit_px=a.limit_px,
            reduce_only=a.reduce_only,
            tif="Ioc",
            sz_decimals=a.sz_decimals,
            expires_after_ms=expires,
        )
        assert svc.trade is not None, "this worker cannot trade (execution is dry-run or a snapshot)"
        try:
            sent: OrderResult | None = svc.trade.place_orders([intent])[0]
        except OrderOutcomeUnknown:
            sent = self._after_expiry(svc, cloids, expires)
        if sent is None:
            return {"index": i, "coin": a.coin, "status": "unsent", "cloid": cloids[-1]}
        return _result(i, a.coin, sent, "sent")

    @staticmethod
    def _lookup(svc: Services, cloids: list[str]) -> OrderResult | None:
        for c in cloids:
            r = svc.exchange.order_status(c)
            if r is not None:
                return r
        return None

    def _after_expiry(self, svc: Services, cloids: list[str], expires: int) -> OrderResult | None:
        while svc.exchange.server_time_ms(fresh=True) <= expires + SLACK_MS:
            activity.heartbeat("waiting out an earlier attempt's expiresAfter")
            time.sleep(0.5)
        return self._lookup(svc, cloids)

    # -- the allocation across accounts --------------------------------------------------------------

    @activity.defn(name="allocation_plan")
    def allocation_plan(self, inp: dict[str, Any]) -> dict[str, Any]:
        from agent.services.fleet import allocation

        with open_fleet(self.settings) as fleet:
            p = allocation.plan(fleet)
            server = fleet.master.exchange.server_time_ms(fresh=True)
            p["offset_ms"], p["planned_ms"] = server - int(time.time() * 1000), server
            return p

    @activity.defn(name="allocation_execute")
    def allocation_execute(self, job: dict[str, Any]) -> dict[str, Any]:
        from agent.services.fleet.temporal.transfers import run_transfers

        with open_fleet(self.settings) as fleet:
            return run_transfers(fleet, job["plan"], int(job["expires_after_ms"]), retried=activity.info().attempt > 1)


def _result(i: int, coin: str, r: OrderResult, how: str) -> dict[str, Any]:
    return {
        "index": i,
        "coin": coin,
        "status": r.status,
        "how": how,
        "cloid": r.cloid,
        "filled_sz": r.filled_sz,
        "oid": r.oid,
    }

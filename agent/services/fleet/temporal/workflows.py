"""Workflows: deterministic, sandbox-safe (only the standard library and temporalio), steps by activity name.

``AccountTick`` runs one heartbeat tick of one account in the ``tick`` activity (the heartbeat's own use case on
the account's store; ``auto`` executes there). With autonomy ``confirm`` the plan waits (up to
``approval_s``) for the ``approve`` Update: ``{"plan_id", "proof"}``, where the proof is the hash of the confirm
token the worker printed. The validator refuses another plan id, a wrong proof (checked against the hash the
tick returned), a second approval and a late one, so a plan executes once however many approvals arrive; the
``execute`` activity then presents the proof to ``execution.execute``, which checks it against the store.
The token itself is never in the history.

``Allocation`` plans the transfers across accounts in the ``allocation_plan`` activity; unless autonomy is
``auto`` it waits for the same ``approve`` Update. The activity prints the confirm token once (with the
``fleet approve`` command) and returns only the hash of its proof, so the approval is checked exactly as a
tick's: the plan id alone (all the history holds) executes nothing. A plan not approved in time expires.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy

STEP = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=10), maximum_attempts=5)
#: a dead worker's lease runs out (``[lease] ttl``, 60 s by default) before its retry can take the account
LONG = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=10), maximum_attempts=30)


def _opts(inp: dict[str, Any], *, long: bool = False) -> dict[str, Any]:
    hb = timedelta(seconds=float(inp.get("heartbeat_s", 10)))
    return {
        "start_to_close_timeout": timedelta(minutes=30 if long else 2),
        "heartbeat_timeout": hb if long else None,
        "retry_policy": LONG if long else STEP,
    }


def _approval(arg: Any) -> tuple[str, str | None]:
    if isinstance(arg, dict):
        return str(arg.get("plan_id", "")), arg.get("proof")
    return str(arg), None


def _check(arg: Any, pending: dict[str, Any] | None, *, approved: bool, expired: bool) -> None:
    """The approval validator of both workflows: the pending plan, once, in time, with its token's proof."""
    plan_id, proof = _approval(arg)
    if pending is None:
        raise ValueError("no plan is waiting for approval")
    if approved:
        raise ValueError(f"plan {pending['plan_id']} was already approved; it executes once")
    if expired:
        raise ValueError("the approval window has closed; the next round plans again")
    if plan_id != pending["plan_id"]:
        raise ValueError(f"plan {plan_id!r} is not the pending plan")
    check = pending.get("check")
    if not proof or not check or hashlib.sha256(str(proof).encode()).hexdigest() != check:
        raise ValueError("wrong confirm token for this plan (--confirm: the token the worker printed)")


@workflow.defn(name="AccountTick")
class AccountTick:
    def __init__(self) -> None:
        self.pending: dict[str, Any] | None = None
        self.proof: str | None = None
        self.report: dict[str, Any] | None = None
        self.expired = False

    @workflow.run
    async def run(self, inp: dict[str, Any]) -> dict[str, Any]:
        account = inp["account"]
        tick = await workflow.execute_activity(
            "tick", {"account": account, "autonomy": inp.get("autonomy", "advise")}, **_opts(inp, long=True)
        )
        if tick["status"] != "pending-confirm":
            self.report = tick
            return tick
        self.pending = {k: tick.get(k) for k in ("plan_id", "expires_at", "reason", "cycle_id", "check")}
        try:
            await workflow.wait_condition(
                lambda: self.proof is not None, timeout=timedelta(seconds=float(inp.get("approval_s", 900)))
            )
        except TimeoutError:
            self.expired = True
            self.report = {"account": account, "status": "expired", "plan_id": tick["plan_id"]}
            return self.report
        self.report = await workflow.execute_activity(
            "execute",
            {"account": account, "plan_id": tick["plan_id"], "proof": self.proof},
            **_opts(inp, long=True),
        )
        return self.report

    @workflow.update
    async def approve(self, arg: Any) -> dict[str, Any]:
        self.proof = _approval(arg)[1]
        await workflow.wait_condition(lambda: self.report is not None)
        assert self.report is not None
        return self.report

    @approve.validator
    def _check_approval(self, arg: Any) -> None:
        _check(arg, self.pending, approved=self.proof is not None, expired=self.expired)

    @workflow.query
    def pending_plan(self) -> dict[str, Any] | None:
        if self.proof or self.expired or self.pending is None:
            return None
        return {k: v for k, v in self.pending.items() if k != "check"}


@workflow.defn(name="Allocation")
class Allocation:
    """The allocation across accounts: plan, wait for the ``approve`` Update (with the token's proof, unless
    autonomy is ``auto``), then the transfers once."""

    def __init__(self) -> None:
        self.pending: dict[str, Any] | None = None
        self.proof: str | None = None
        self.report: dict[str, Any] | None = None
        self.expired = False

    @workflow.run
    async def run(self, inp: dict[str, Any]) -> dict[str, Any]:
        auto = inp.get("autonomy", "confirm") == "auto"
        plan = await workflow.execute_activity("allocation_plan", {**inp, "confirm": not auto}, **_opts(inp))
        if not plan["transfers"]:
            return {"status": "nothing-to-do", "reason": plan["reason"]}
        plan.setdefault("plan_id", f"alloc-{workflow.info().workflow_id[-12:]}")
        self.pending = plan
        if not auto:
            try:
                await workflow.wait_condition(
                    lambda: self.proof is not None, timeout=timedelta(seconds=float(inp.get("approval_s", 900)))
                )
            except TimeoutError:
                self.expired = True  # from here every approval is refused
                self.report = {"status": "expired", "plan_id": plan["plan_id"]}
                await workflow.execute_activity("allocation_expired", {"plan_id": plan["plan_id"]}, **_opts(inp))
                return self.report
        ttl_ms = int(float(inp.get("order_ttl_s", 30)) * 1000)
        now_ms = int(workflow.now().timestamp() * 1000) + int(plan.get("offset_ms", 0))
        job = {**inp, "plan": {k: v for k, v in plan.items() if k != "check"}, "expires_after_ms": now_ms + ttl_ms}
        self.report = await workflow.execute_activity("allocation_execute", job, **_opts(inp, long=True))
        return self.report

    @workflow.update
    async def approve(self, arg: Any) -> dict[str, Any]:
        self.proof = _approval(arg)[1]
        await workflow.wait_condition(lambda: self.report is not None)
        assert self.report is not None
        return self.report

    @approve.validator
    def _check_approval(self, arg: Any) -> None:
        _check(arg, self.pending, approved=self.proof is not None, expired=self.expired)

    @workflow.query
    def pending_plan(self) -> dict[str, Any] | None:
        if self.proof or self.expired or self.pending is None:
            return None
        return {k: v for k, v in self.pending.items() if k != "check"}

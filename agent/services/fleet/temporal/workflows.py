"""Workflows: deterministic, sandbox-safe (only the standard library and temporalio), steps by activity name.

``AccountTick`` runs one tick of one account. With autonomy ``confirm`` it waits (up to ``approval_s``) for
the ``approve`` Update naming its plan id; the Update's validator refuses any other id, a second approval
and a late one, so a plan executes once however many approvals arrive. Execution goes in rounds: round
``k`` signs every order under cloid ``(plan, action, k)`` and the expiry ``expires_after_ms`` chosen here;
an activity retried after its worker died looks every earlier cloid up first and, for an order it cannot
find, waits out that expiry before calling it unsent, which the next round sends under a new cloid.
Past ``is_continue_as_new_suggested`` the rounds continue as a new run with what is left.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy

STEP = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=10), maximum_attempts=5)
MAX_ROUNDS = 3


def _opts(inp: dict[str, Any], *, long: bool = False) -> dict[str, Any]:
    hb = timedelta(seconds=float(inp.get("heartbeat_s", 10)))
    return {
        "start_to_close_timeout": timedelta(minutes=10 if long else 2),
        "heartbeat_timeout": hb if long else None,
        "retry_policy": STEP,
    }


@workflow.defn(name="AccountTick")
class AccountTick:
    def __init__(self) -> None:
        self.pending: dict[str, Any] | None = None
        self.approved: str | None = None
        self.report: dict[str, Any] | None = None
        self.expired = False

    @workflow.run
    async def run(self, inp: dict[str, Any]) -> dict[str, Any]:
        account = inp["account"]
        if inp.get("resume"):  # continued as new: the rounds go on
            return await self._execute(inp, inp["resume"]["plan"], inp["resume"]["round"], inp["resume"]["done"])
        await workflow.execute_activity("observe", account, **_opts(inp))
        target = await workflow.execute_activity("decide", account, **_opts(inp))
        plan = await workflow.execute_activity("plan", args=[account, target], **_opts(inp))
        if not plan["actions"]:
            return {"account": account, "status": "nothing-to-do", "reason": plan.get("reason")}
        plan_id = f"{plan['plan_id']}-{workflow.info().workflow_id[-12:]}"
        gate = await workflow.execute_activity("preview", args=[account, plan], **_opts(inp))
        if gate.get("refused"):
            return {"account": account, "status": "refused", "reason": gate["refused"], "plan_id": plan_id}
        plan = {**plan, "plan_id": plan_id, "offset_ms": gate["offset_ms"]}
        autonomy = inp.get("autonomy", "advise")
        if autonomy == "advise":
            return {"account": account, "status": "advised", "plan_id": plan_id, "actions": len(plan["actions"])}
        if autonomy == "confirm":
            self.pending = {"plan_id": plan_id, "actions": plan["actions"], "summary": plan.get("summary")}
            try:
                await workflow.wait_condition(
                    lambda: self.approved is not None, timeout=timedelta(seconds=float(inp.get("approval_s", 900)))
                )
            except TimeoutError:
                self.expired = True
                return {"account": account, "status": "expired", "plan_id": plan_id}
        return await self._execute(inp, plan, 0, [])

    async def _execute(self, inp: dict[str, Any], plan: dict[str, Any], rnd: int, done: list[Any]) -> dict[str, Any]:
        ttl_ms = int(float(inp.get("order_ttl_s", 30)) * 1000)
        results: list[Any] = list(done)
        todo = [i for i in range(len(plan["actions"])) if i not in {r["index"] for r in results}]
        while todo and rnd < MAX_ROUNDS:
            if workflow.info().is_continue_as_new_suggested():
                workflow.continue_as_new({**inp, "resume": {"plan": plan, "round": rnd, "done": results}})
            now_ms = int(workflow.now().timestamp() * 1000) + int(plan.get("offset_ms", 0))
            rep = await workflow.execute_activity(
                "execute",
                {
                    "account": inp["account"],
                    "plan": plan,
                    "round": rnd,
                    "indices": todo,
                    "expires_after_ms": now_ms + ttl_ms,
                },
                **_opts(inp, long=True),
            )
            results += [r for r in rep["results"] if r["status"] != "unsent"]
            todo = [r["index"] for r in rep["results"] if r["status"] == "unsent"]
            rnd += 1
        self.report = {
            "account": inp["account"],
            "status": "executed" if not todo else "incomplete",
            "plan_id": plan["plan_id"],
            "rounds": rnd,
            "results": sorted(results, key=lambda r: r["index"]),
        }
        return self.report

    @workflow.update
    async def approve(self, plan_id: str) -> dict[str, Any]:
        self.approved = plan_id
        await workflow.wait_condition(lambda: self.report is not None)
        assert self.report is not None
        return self.report

    @approve.validator
    def _check_approval(self, plan_id: str) -> None:
        if self.pending is None:
            raise ValueError("no plan is waiting for approval")
        if self.approved is not None:
            raise ValueError(f"plan {self.approved} was already approved; it executes once")
        if self.expired:
            raise ValueError("the approval window has closed; the next tick plans again")
        if plan_id != self.pending["plan_id"]:
            raise ValueError(f"plan {plan_id!r} is not the pending plan")

    @workflow.query
    def pending_plan(self) -> dict[str, Any] | None:
        return None if self.approved or self.expired else self.pending


@workflow.defn(name="Allocation")
class Allocation:
    """The allocation across accounts: plan, wait for the ``approve`` Update, then the transfers once."""

    def __init__(self) -> None:
        self.pending: dict[str, Any] | None = None
        self.approved: str | None = None
        self.report: dict[str, Any] | None = None

    @workflow.run
    async def run(self, inp: dict[str, Any]) -> dict[str, Any]:
        plan = await workflow.execute_activity("allocation_plan", inp, **_opts(inp))
        if not plan["transfers"]:
            return {"status": "nothing-to-do", "reason": plan["reason"]}
        plan = {**plan, "plan_id": f"alloc-{workflow.info().workflow_id[-12:]}"}
        self.pending = plan
        if inp.get("autonomy", "confirm") != "auto":
            await workflow.wait_condition(
                lambda: self.approved is not None, timeout=timedelta(seconds=float(inp.get("approval_s", 900)))
            )
        ttl_ms = int(float(inp.get("order_ttl_s", 30)) * 1000)
        now_ms = int(workflow.now().timestamp() * 1000) + int(plan.get("offset_ms", 0))
        self.report = await workflow.execute_activity(
            "allocation_execute", {**inp, "plan": plan, "expires_after_ms": now_ms + ttl_ms}, **_opts(inp, long=True)
        )
        return self.report

    @workflow.update
    async def approve(self, plan_id: str) -> dict[str, Any]:
        self.approved = plan_id
        await workflow.wait_condition(lambda: self.report is not None)
        assert self.report is not None
        return self.report

    @approve.validator
    def _check_approval(self, plan_id: str) -> None:
        if self.pending is None or plan_id != self.pending["plan_id"]:
            raise ValueError(f"plan {plan_id!r} is not the pending allocation plan")
        if self.approved is not None:
            raise ValueError(f"plan {self.approved} was already approved; it executes once")

    @workflow.query
    def pending_plan(self) -> dict[str, Any] | None:
        return None if self.approved else self.pending

"""``rebalancer fleet deploy --temporal HOST:PORT``: one Temporal Schedule per account.

The ``Allocation`` workflow (transfers across accounts) has no Schedule yet: start it with Temporal's own
tools (``temporal workflow start --type Allocation``); it waits for ``fleet approve`` like a tick.

Each schedule starts that account's ``AccountTick`` every ``interval`` with overlap ``SKIP`` (a tick still
running, e.g. waiting for its approval, means the next is skipped: never two ticks of one account at once).
Deploying again updates the schedules in place. Connecting comes first: an unreachable server creates nothing.
"""

from __future__ import annotations

import asyncio
from typing import Any

from agent.core.errors import ConfigError
from agent.services.config import Settings
from agent.services.fleet.temporal import connect


def tick_input(settings: Settings, name: str) -> dict[str, Any]:
    account = next(a for a in settings.accounts if a.name == name)
    return {
        "account": name,
        "autonomy": account.autonomy or settings.heartbeat.autonomy,
        "approval_s": settings.heartbeat.confirm_ttl.total_seconds(),
        "order_ttl_s": settings.hyperliquid.order_ttl.total_seconds(),
    }


def deploy(settings: Settings, target: str) -> dict[str, Any]:
    if not settings.accounts:
        raise ConfigError("accounts: `fleet deploy` needs [[accounts]] in the config")
    return asyncio.run(_deploy(settings, target))


async def _deploy(settings: Settings, target: str) -> dict[str, Any]:
    from temporalio.client import (
        Schedule,
        ScheduleActionStartWorkflow,
        ScheduleAlreadyRunningError,
        ScheduleIntervalSpec,
        ScheduleOverlapPolicy,
        SchedulePolicy,
        ScheduleSpec,
        ScheduleUpdate,
    )

    client: Any = await connect(target, settings.fleet.temporal_namespace)
    out: dict[str, str] = {}
    for account in settings.accounts:
        interval = account.interval or settings.heartbeat.interval
        schedule = Schedule(
            action=ScheduleActionStartWorkflow(
                "AccountTick",
                tick_input(settings, account.name),
                id=f"rebalancer-tick-{account.name}",
                task_queue=settings.fleet.task_queue,
            ),
            spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=interval)]),
            policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
        )
        sid = f"rebalancer-{account.name}"
        try:
            await client.create_schedule(sid, schedule)
            out[sid] = f"created, every {interval}"
        except ScheduleAlreadyRunningError:
            new = schedule

            async def _update(_: Any, s: Any = new) -> ScheduleUpdate:
                return ScheduleUpdate(schedule=s)

            await client.get_schedule_handle(sid).update(_update)
            out[sid] = f"updated, every {interval}"
    return {"temporal": target, "task_queue": settings.fleet.task_queue, "schedules": out}


def approve(
    settings: Settings, target: str, workflow_id: str, plan_id: str, confirm_token: str | None = None
) -> dict[str, Any]:
    """Send the ``approve`` Update to a waiting tick (or allocation) workflow; its execution report.

    A tick's plan needs its confirm token: the Update carries only its hash (the token never enters the
    history), which the workflow's validator checks. The validator also refuses an unknown plan id, a second
    approval and a late one, so however many approvals arrive (CLI, MCP, a retry), the plan executes once.
    """
    from agent.services.fleet.approvals import proof

    arg = {"plan_id": plan_id, "proof": proof(confirm_token) if confirm_token else None}
    return asyncio.run(_approve(settings, target, workflow_id, arg))


async def _approve(settings: Settings, target: str, workflow_id: str, arg: dict[str, Any]) -> dict[str, Any]:
    from temporalio.client import WorkflowUpdateFailedError
    from temporalio.service import RPCError

    from agent.core.errors import ConfirmationError

    client: Any = await connect(target, settings.fleet.temporal_namespace)
    handle = client.get_workflow_handle(workflow_id)
    try:
        return dict(await handle.execute_update("approve", arg))
    except WorkflowUpdateFailedError as e:
        cause = getattr(e, "cause", None)
        raise ConfirmationError(f"approval refused: {getattr(cause, 'message', None) or e}") from None
    except RPCError as e:
        raise ConfirmationError(f"approval refused: {e.message}") from None

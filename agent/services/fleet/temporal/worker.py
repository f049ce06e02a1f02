"""``rebalancer fleet worker --temporal HOST:PORT``: a worker for the fleet's workflows and activities.

Run as many as needed, on as many machines: they share Temporal, the exchange and the store (``db``: a
PostgreSQL URL every machine reaches; with the SQLite default, run them on the machine that holds the files). The worker
connects first; an unreachable server is one line and exit 4, and nothing runs.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from agent.services.config import Settings
from agent.services.fleet.temporal import connect


def run_worker(
    settings: Settings,
    target: str,
    stop: threading.Event,
    *,
    on_ready: Callable[[], None] | None = None,
    say: Callable[[str], None] | None = None,
    approve_args: str = "",
) -> None:
    """Serve the fleet's task queue until ``stop``; ``say`` gets one line per round (default: stdout)."""
    from temporalio.worker import Worker
    from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

    from agent.services.fleet.temporal.activities import Activities
    from agent.services.fleet.temporal.workflows import AccountTick, Allocation

    kw: dict[str, Any] = {"say": say} if say is not None else {}
    # a config that cannot serve the workflows fails before connecting
    activities = Activities(settings, approve_args=approve_args, **kw)

    async def main() -> None:
        client = await connect(target, settings.fleet.temporal_namespace)
        with ThreadPoolExecutor(max_workers=settings.fleet.workers) as pool:
            worker = Worker(
                client,  # type: ignore[arg-type]
                task_queue=settings.fleet.task_queue,
                workflows=[AccountTick, Allocation],
                activities=activities.all(),
                activity_executor=pool,
                # The workflow module imports only temporalio and the standard library, but it lives in the
                # ``agent`` package (numpy, pydantic): those are passed through, not re-imported per run.
                workflow_runner=SandboxedWorkflowRunner(
                    restrictions=SandboxRestrictions.default.with_passthrough_modules("agent", "numpy", "pydantic")
                ),
            )
            async with worker:
                if on_ready is not None:
                    on_ready()
                while not stop.is_set():
                    await asyncio.sleep(0.2)

    asyncio.run(main())


def store_description(db: str) -> str:
    """Where the worker's store is, for its first line (a PostgreSQL URL without its password)."""
    from agent.adapters.store.postgres import is_url, redacted

    return redacted(db) if is_url(db) else f"{db} (SQLite: workers on this machine only)"

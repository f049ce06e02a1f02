"""Executions that outlive the call that started them: a TWAP leg works for minutes, a tool call may not.

``Runs.start`` runs the one execution use case (:func:`agent.services.trading.execution.execute`: token,
lease, journal, kill switch, cycle record, all as always) in a thread of this process and waits at most
``wait_s``. Finished by then: its report (or its refusal, raised as always). Still working: ``None``, and
the execution goes on in the background, holding the account's lease and journaling every order as
usual; :func:`progress` reads where it stands from the store (the plan's status, each leg's journal rows,
a TWAP's executed size) and, once it ended, its report from the cycle record; :func:`follow` watches it
for a while (an MCP ``get_plan`` whose client asked for progress). The thread ends with the
execution; a process stopped mid-run leaves a journal the next execution reconciles (a native TWAP keeps
working at the exchange and is followed to its end by its id).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from agent.core.errors import ConfirmationError

if TYPE_CHECKING:
    from agent.services.app import Services
    from agent.services.trading.reports import ExecutionReport

log = logging.getLogger(__name__)

#: Plan statuses while an execution works.
WORKING = ("confirmed", "executing")

Progress = dict[str, Any]


class Runs:
    """The executions this process started, by plan id (one ``Runs`` per ``Services``)."""

    def __init__(self) -> None:
        self._threads: dict[str, threading.Thread] = {}
        self._lock = threading.Lock()

    def start(
        self,
        svc: Services,
        plan_id: str,
        confirm_token: str,
        *,
        source: str,
        wait_s: float,
        on_progress: Callable[[Progress], None] | None = None,
        every_s: float = 1.0,
    ) -> ExecutionReport | None:
        """Execute ``plan_id`` in the background; its report if it ended within ``wait_s``, else None.

        A refusal or error raised within ``wait_s`` is raised here, as a direct call would. ``on_progress``
        gets :func:`progress` every ``every_s`` while waiting (an MCP client's progress notifications).
        """
        outcome: dict[str, Any] = {}
        done = threading.Event()

        def work() -> None:
            try:
                with svc.question():  # the execution is its own question, in its own thread
                    outcome["report"] = svc.execute(plan_id, confirm_token, source=source)
            except BaseException as e:  # handed to the caller if it still waits; recorded by execute anyway
                outcome["error"] = e
                log.info("background execution of %s ended: %s: %s", plan_id, type(e).__name__, e)
            finally:
                done.set()
                with self._lock:
                    self._threads.pop(plan_id, None)

        with self._lock:
            if plan_id in self._threads:
                raise ConfirmationError(f"plan {plan_id} is already executing; see get_plan for its progress")
            thread = threading.Thread(target=work, name=f"execute-{plan_id}", daemon=True)
            self._threads[plan_id] = thread
        thread.start()
        deadline = time.monotonic() + wait_s
        while not done.wait(max(0.0, min(every_s, deadline - time.monotonic()))):
            _tell(on_progress, svc, plan_id)
            if time.monotonic() >= deadline:
                return None
        if "error" not in outcome:
            _tell(on_progress, svc, plan_id)  # where it ended, before the answer
        if "error" in outcome:
            raise outcome["error"]
        return outcome.get("report")

    def running(self) -> list[str]:
        with self._lock:
            return sorted(self._threads)

    def wait(self, timeout: float | None = None) -> None:
        """Wait for the background executions (a server shutting down lets them end first)."""
        for thread in list(self._threads.values()):
            thread.join(timeout)


def follow(
    svc: Services,
    plan_id: str,
    *,
    wait_s: float,
    on_progress: Callable[[Progress], None],
    every_s: float = 1.0,
) -> Progress:
    """Where an execution stands, after following it for at most ``wait_s`` while it runs: ``on_progress``
    gets :func:`progress` at once and every ``every_s`` (from the store, so the execution may run in any
    process). Returns as soon as it is no longer ``running``."""
    deadline = time.monotonic() + wait_s
    state = progress(svc, plan_id)
    _send(on_progress, plan_id, state)
    while state["state"] == "running" and time.monotonic() < deadline:
        time.sleep(max(0.0, min(every_s, deadline - time.monotonic())))
        state = progress(svc, plan_id)
        _send(on_progress, plan_id, state)
    return state


def _tell(on_progress: Callable[[Progress], None] | None, svc: Services, plan_id: str) -> None:
    if on_progress is not None:
        _send(on_progress, plan_id, progress(svc, plan_id))


def _send(on_progress: Callable[[Progress], None], plan_id: str, state: Progress) -> None:
    try:
        on_progress(state)
    except Exception:  # a client that left must not stop the execution
        log.warning("progress for %s could not be sent", plan_id, exc_info=True)


def progress(svc: Services, plan_id: str) -> Progress:
    """Where an execution stands: ``state`` (``running`` while it works, else the plan's final status),
    each leg (coin, side, order type, size, executed size and fraction, journal state), and, once it
    ended, the report its cycle recorded."""
    stored = svc.store.plans.get(plan_id)
    if stored is None:
        raise ConfirmationError(f"unknown plan id {plan_id!r}")
    rows = svc.store.journal.rows(plan_id=plan_id)
    legs = []
    fractions: list[float] = []
    for index, a in enumerate(stored.plan.actions):
        mine = [r for r in rows if r.action_index == index]
        executed = sum(r.filled_sz for r in mine)
        fractions.append(min(1.0, executed / a.size) if a.size > 0 else 1.0)
        legs.append(
            {
                "index": index,
                "coin": a.coin,
                "side": a.side,
                "order_type": a.order_type,
                "twap_minutes": a.twap_minutes,
                "size": a.size,
                "executed": executed,
                "progress": fractions[-1],
                "state": (mine[-1].state.lower() if mine else "waiting"),
            }
        )
    status = stored.status
    cycle = svc.store.cycles.for_plan(plan_id)
    report = cycle.get("detail") if cycle and status not in WORKING else None
    # an execution's status moves before its cycle's report is written: until the report is there, it is
    # still finishing (a poller that stops at the first non-running state would otherwise see no report)
    finishing = status.startswith("executed") and report is None
    return {
        "plan_id": plan_id,
        "state": "running" if status in WORKING or finishing else status,
        "status": status,
        "legs": legs,
        "progress": sum(fractions) / len(fractions) if fractions else 1.0,
        "report": _loads(report),
    }


def _loads(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value

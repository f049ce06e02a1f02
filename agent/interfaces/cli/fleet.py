"""``rebalancer fleet …``: the accounts of ``[[accounts]]`` as one portfolio. Translation only.

``preview`` / ``execute`` / ``status`` / ``run`` (the embedded scheduler, one process) and ``worker`` /
``deploy`` (Temporal, past one machine).
"""

from __future__ import annotations

import json
import os
import shlex
import sys
from collections.abc import Callable
from datetime import datetime
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from agent.interfaces.cli.base import (
    ConfigOpt,
    JsonOpt,
    app,
    boundary,
    confirm_or_refuse,
    emit,
    progress,
    settings_from,
    stop_on_signals,
)
from agent.interfaces.render import console, print_copyable

if TYPE_CHECKING:  # the commands import what they run, so `--help` stays fast
    from agent.services.trading.heartbeat import TickResult

fleet_app = typer.Typer(no_args_is_help=True, help="Several accounts (master, subaccounts, vaults) as one portfolio.")
app.add_typer(fleet_app, name="fleet")
TemporalOpt = Annotated[str, typer.Option("--temporal", help="the Temporal frontend, HOST:PORT")]
F = TypeVar("F", bound=Callable[..., Any])


def temporal_command(func: F) -> F:
    """``boundary``, then leave the process at once: the Temporal SDK's core threads can abort a finishing
    interpreter (``PyGILState_Release`` at finalisation, about one run in five here), turning a clean exit
    code into 134. Output is flushed first; nothing is left to clean up (the client holds no files)."""
    guarded = boundary(func)

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        code = 0
        try:
            guarded(*args, **kwargs)
        except typer.Exit as e:
            code = e.exit_code
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)

    return wrapper  # type: ignore[return-value]


def _cfg(config: Path | None) -> str:
    """`` --config FILE`` when the command was given one: a printed command runs against the same fleet."""
    return f" --config {shlex.quote(str(config))}" if config else ""


def _pct(x: float) -> str:
    return f"{x:+.1%}" if x else "0.0%"


def _print_accounts(rows: list[dict[str, Any]], *, schedule: bool) -> None:
    head = f"{'account':<12} {'equity':>12} {'share':>7} {'target':>7} {'drift':>7}"
    if schedule:
        head += f"  {'last tick':<20} {'next tick':<20} {'pending':>7} paused"
    console.print(head, markup=False)
    for r in rows:
        line = (
            f"{r['name']:<12} {r['equity_usd']:>12,.2f} {r['share']:>7.1%} {r['target_share']:>7.1%} "
            f"{_pct(r['drift']):>7}"
        )
        if schedule:
            line += (
                f"  {(r['last_tick'] or '-')[:19]:<20} {(r['next_tick'] or '-')[:19]:<20} "
                f"{r['pending_approvals']:>7} {'yes' if r['paused'] else 'no'}"
            )
        console.print(line, markup=False)


@fleet_app.command("preview")
@boundary
def fleet_preview(config: ConfigOpt = None, as_json: JsonOpt = False) -> None:
    """Plan the transfers that bring each account to its target share; a plan id and a confirm token."""
    from agent.services.fleet import allocation
    from agent.services.fleet.accounts import open_fleet

    with open_fleet(settings_from(config)) as fleet:
        p = allocation.preview(fleet, source="cli")

    def human() -> None:
        console.print(f"Allocation ({p['method']}), total ${p['total_equity_usd']:,.2f}: {p['reason']}", markup=False)
        _print_accounts(p["accounts"], schedule=False)
        for t in p["transfers"]:
            way = "master → " + t["account"] if t["direction"] == "deposit" else t["account"] + " → master"
            console.print(f"  {t['index']}. {t['direction']:<8} ${t['usd']:>12,.2f}  {way}", markup=False)
        for name, usd in p["shortfalls_usd"].items():
            console.print(f"  {name}: ${usd:,.2f} is held in positions; its own plan must raise it first", markup=False)
        for alert in p["alerts"]:
            console.print(f"  alert: {alert}", markup=False)
        if p["confirm_token"]:
            console.print(f"Plan {p['plan_id']}; the token expires {p['expires_at']}. To execute:", markup=False)
            print_copyable(f"rebalancer fleet execute {p['plan_id']} --confirm {p['confirm_token']}{_cfg(config)}")
        else:
            console.print("Nothing to transfer.")

    emit(as_json, p, human)


@fleet_app.command("execute")
@boundary
def fleet_execute(
    plan_id: Annotated[str, typer.Argument(help="the allocation plan id from fleet preview")],
    confirm: Annotated[str, typer.Option("--confirm", help="the confirm token from fleet preview")],
    yes: Annotated[bool, typer.Option("--yes", help="do not ask (needed with --json or without a terminal)")] = False,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Execute a previewed allocation plan: its transfers, each once (asks first unless --yes)."""
    from agent.services.fleet import allocation
    from agent.services.fleet.accounts import open_fleet

    with open_fleet(settings_from(config)) as fleet:
        if not yes:

            def question() -> str:
                stored = fleet.store.fleet_plans.get(plan_id)
                return f"Send {len(stored.plan['transfers']) if stored else 0} transfers now?"

            confirm_or_refuse(as_json, question)
        with progress("transferring", as_json):
            report = allocation.execute(fleet, plan_id, confirm, source="cli")

    def human() -> None:
        for t in report["transfers"]:
            console.print(f"  {t['index']}. {t['account']:<12} ${t['usd']:>12,.2f}  {t['state']}", markup=False)
        console.print(f"Plan {report['plan_id']}: {report['status']}", markup=False)
        for e in report["errors"]:
            console.print(f"  {e}", markup=False)

    emit(as_json, report, human)
    if report["status"] != "executed":
        raise typer.Exit(4)


@fleet_app.command("status")
@boundary
def fleet_status(config: ConfigOpt = None, as_json: JsonOpt = False) -> None:
    """One row per account: equity, share against target, drift, last and next tick, pending approvals, paused."""
    from agent.services.fleet import allocation
    from agent.services.fleet.accounts import open_fleet

    with open_fleet(settings_from(config)) as fleet:
        s = allocation.status(fleet)

    def human() -> None:
        console.print(f"Total ${s['total_equity_usd']:,.2f} ({s['method']}): {s['reason']}", markup=False)
        _print_accounts(s["accounts"], schedule=True)
        for row in s["accounts"]:
            for a in row["approvals"]:
                wf = f" (Temporal workflow {a['workflow_id']})" if a["workflow_id"] else ""
                console.print(
                    f"pending: {row['name']} plan {a['plan_id']} until {a['expires_at'][:19]}: {a['summary']}{wf}",
                    markup=False,
                )
        for a in s.get("allocation_approvals", []):
            console.print(
                f"pending: allocation plan {a['plan_id']} until {a['expires_at'][:19]}: {a['summary']} "
                f"(Temporal workflow {a['workflow_id']})",
                markup=False,
            )
        for alert in s["alerts"]:
            console.print(f"alert: {alert}", markup=False)

    emit(as_json, s, human)


@fleet_app.command("run")
@boundary
def fleet_run(
    ctx: typer.Context,
    once: Annotated[bool, typer.Option("--once", help="one tick per account, then stop")] = False,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Tick every account on its own schedule in this process, within one shared rate budget."""
    from agent.services.fleet.accounts import open_fleet
    from agent.services.fleet.scheduler import FleetRunner

    stop = stop_on_signals(ctx)

    def on_tick(name: str, result: TickResult, next_at: datetime | None) -> None:
        command = None
        if result.plan_id and result.confirm_token:  # confirm mode: the plan waits for this command
            command = (
                f"rebalancer execute {result.plan_id} --confirm {result.confirm_token} "
                f"--account {shlex.quote(name)}{_cfg(config)}"
            )
        if as_json:
            line = {"account": name, **result.to_json(), "next_tick": next_at}
            print(json.dumps(line | ({"execute_command": command} if command else {}), default=str))
        else:
            nxt = f"; next {next_at.isoformat(timespec='seconds')}" if next_at else ""
            console.print(f"{name}: {result.cycle_id} {result.status}: {result.reason}{nxt}", markup=False)
            if command:
                console.print("  to execute:", markup=False)
                print_copyable(command)
        sys.stdout.flush()

    with open_fleet(settings_from(config)) as fleet:
        runner = FleetRunner(fleet, max_ticks=1 if once else None, on_tick=on_tick)
        runner.run(stop)
        spent = fleet.budget.spent
    if not as_json:
        console.print(f"stopped; {spent} weight used", markup=False)


@fleet_app.command("worker")
@temporal_command
def fleet_worker(ctx: typer.Context, temporal: TemporalOpt, config: ConfigOpt = None, as_json: JsonOpt = False) -> None:
    """Run a Temporal worker for the fleet's workflows and activities (as many as needed, anywhere)."""
    from agent.services.fleet.temporal.worker import run_worker, store_description

    stop = stop_on_signals(ctx)
    settings = settings_from(config)
    where = f"--temporal {temporal}{_cfg(config)}"

    def ready() -> None:
        print(
            f"worker on {temporal}, task queue {settings.fleet.task_queue}, store {store_description(settings.db)}",
            file=sys.stderr,
            flush=True,
        )

    run_worker(settings, temporal, stop, on_ready=ready, approve_args=where)


@fleet_app.command("deploy")
@temporal_command
def fleet_deploy(temporal: TemporalOpt, config: ConfigOpt = None, as_json: JsonOpt = False) -> None:
    """Create (or update) one Temporal Schedule per account, ticking its workflow at its interval."""
    from agent.services.fleet.temporal.deploy import deploy

    result = deploy(settings_from(config), temporal)

    def human() -> None:
        for k, v in result["schedules"].items():
            console.print(f"{k}: {v}", markup=False)

    emit(as_json, result, human)


@fleet_app.command("approve")
@temporal_command
def fleet_approve(
    workflow_id: Annotated[str, typer.Argument(help="the waiting workflow's id (a tick or the allocation)")],
    plan_id: Annotated[str, typer.Argument(help="the plan id it is waiting for")],
    temporal: TemporalOpt,
    confirm: Annotated[
        str | None, typer.Option("--confirm", help="the plan's confirm token (the worker printed it)")
    ] = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Approve a plan a Temporal tick or allocation waits for (an Update with the token's hash): it executes once."""
    from agent.services.fleet.temporal.deploy import approve

    report = approve(settings_from(config), temporal, workflow_id, plan_id, confirm)
    emit(as_json, report, lambda: console.print(f"{report.get('plan_id')}: {report.get('status')}", markup=False))
    if report.get("status") not in ("executed", "executed:ok"):
        raise typer.Exit(4)


@fleet_app.command("demo-snapshot")
@boundary
def fleet_demo_snapshot(
    out: Annotated[Path, typer.Option("--out", help="write the snapshot here")],
    as_json: JsonOpt = False,
) -> None:
    """Write the demo fleet (the demo account as master, two subaccounts) as a snapshot for `exchange serve`."""
    from agent.standin.subaccounts import demo_fleet_snapshot

    snap = demo_fleet_snapshot()
    out.write_text(json.dumps(snap))
    subs = {e["name"]: e["subAccountUser"] for e in snap["subAccounts"]}
    emit(
        as_json,
        {"out": str(out), "master": snap["user"], "subaccounts": subs},
        lambda: console.print(f"{out}: master {snap['user']}, subaccounts {subs}", markup=False),
    )

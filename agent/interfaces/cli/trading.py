"""Commands about the account: status, plan, decide, preview, execute, plans, orders, cancel, pause, resume."""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from agent.core import errors, problems
from agent.core.modes import MODES
from agent.interfaces import render
from agent.interfaces.cli.base import (
    AccountOpt,
    ConfigOpt,
    JsonOpt,
    SnapshotOpt,
    TargetOpt,
    app,
    boundary,
    confirm_or_refuse,
    emit,
    progress,
    read_target,
    runtime,
    settings_from,
)
from agent.interfaces.cli.portfolio import AllOpt, preview_all, status_all
from agent.interfaces.render import console

plans_app = typer.Typer(no_args_is_help=False, invoke_without_command=True, help="Stored plans.")
app.add_typer(plans_app, name="plans")


@app.command()
@boundary
def plan(
    snapshot: Annotated[Path, typer.Option(help="snapshot JSON (Hyperliquid /info responses)")],
    target: Annotated[Path, typer.Option(help="target JSON: weights or the strategist's answer")],
    mode: Annotated[str | None, typer.Option(help="|".join(MODES) + " (default: the config's)")] = None,
    position_threshold: Annotated[float | None, typer.Option(help="per-asset drift that triggers a trade")] = None,
    portfolio_threshold: Annotated[float | None, typer.Option(help="total drift that triggers a rebalance")] = None,
    band: Annotated[float | None, typer.Option(help="band half-width (band mode)")] = None,
    min_trade_value: Annotated[float | None, typer.Option(help="minimum order value, USD")] = None,
    max_slippage: Annotated[float | None, typer.Option(help="IOC protection, fraction of mid")] = None,
    calendar_days: Annotated[int | None, typer.Option(help="calendar mode: 3, 7 or 14 days")] = None,
    max_trades: Annotated[int | None, typer.Option(help="at most this many assets per cycle")] = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Plan a rebalance offline from a snapshot: no exchange, no orders (the config's rules, flags override)."""
    from pydantic import ValidationError as PydanticError

    from agent.services.config import RebalanceConfig
    from agent.services.runtime import plan_snapshot

    settings = settings_from(config)
    flags = {
        "mode": mode,
        "position_threshold": position_threshold,
        "portfolio_threshold": portfolio_threshold,
        "band": band,
        "min_trade_value": min_trade_value,
        "max_slippage": max_slippage,
        "calendar_days": calendar_days,
        "max_trades": max_trades,
    }
    given = {k: v for k, v in flags.items() if v is not None}
    if mode is not None and mode not in MODES:
        raise errors.ValidationError(f"--mode must be one of {', '.join(MODES)}, not {mode!r}")
    try:
        rebalance = RebalanceConfig.model_validate({**settings.rebalance.model_dump(), **given})
    except PydanticError as e:
        first = problems.first(e)
        name = "--" + str(first.loc[0]).replace("_", "-") if first.loc else "arguments"
        raise errors.ValidationError(f"{name}: {first.message}") from None
    settings = settings.model_copy(update={"rebalance": rebalance})
    result = plan_snapshot(snapshot, read_target(target), settings)
    emit(as_json, result.to_public(), lambda: render.print_plan(result))


@app.command()
@boundary
def status(
    config: ConfigOpt = None,
    snapshot: SnapshotOpt = None,
    target: TargetOpt = None,
    all_accounts: AllOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Show current vs target weights, drift, bands, and whether and why to rebalance."""
    if all_accounts:
        status_all(config, as_json)
        return
    with runtime(config, snapshot) as svc, svc.question():
        p = svc.plan(read_target(target) if target else None)
        kept = None if snapshot else svc.doctor_kept()
        failing, unchecked = (kept.failing, kept.unchecked) if kept else ([], [])

        def human() -> None:
            render.print_drift(p)
            if failing:
                names = ", ".join(failing)
                console.print(f"doctor: {len(failing)} check(s) failing ({names}): run `rebalancer doctor`")
            if unchecked:
                names = ", ".join(unchecked)
                console.print(f"doctor: not checked in the last day ({names}): run `rebalancer doctor`")

        public = {k: v for k, v in p.to_public().items() if k not in ("confirm_token", "expires_at")}
        emit(as_json, {**public, "doctor_failing": failing, "doctor_unchecked": unchecked}, human)


@app.command()
@boundary
def preview(
    config: ConfigOpt = None,
    snapshot: SnapshotOpt = None,
    target: TargetOpt = None,
    all_accounts: AllOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Plan a rebalance and store it with a single-use confirm token (nothing is traded)."""
    if all_accounts:
        preview_all(config, target, as_json)
        return
    with runtime(config, snapshot) as svc, svc.question():
        p = svc.preview(read_target(target) if target else None, source="cli")

        def human() -> None:
            render.print_plan(p)
            if p.confirm_token:
                console.print(f"Plan {p.plan_id}; the token expires {render.when(p.expires_at)}. To execute:")
                render.print_copyable(f"rebalancer execute {p.plan_id} --confirm {p.confirm_token}")
            else:
                console.print("Nothing to execute.")

        emit(as_json, p.to_public(), human)


@app.command()
@boundary
def execute(
    plan_id: Annotated[str, typer.Argument(help="the plan id from preview")],
    confirm: Annotated[str, typer.Option("--confirm", help="the confirm token from preview")],
    yes: Annotated[bool, typer.Option("--yes", help="do not ask (needed with --json or without a terminal)")] = False,
    account: AccountOpt = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Execute a previewed plan (asks first unless --yes)."""
    with runtime(config, account=account) as svc:
        if not yes:

            def question() -> str:
                detail = svc.plan_detail(plan_id)
                render.print_plan_detail(detail)
                return f"Execute {detail['num_trades']} orders now?"

            confirm_or_refuse(as_json, question)
        with progress("executing", as_json), svc.question():
            report = svc.start_execution(
                plan_id, confirm, source="cli", wait_s=math.inf, on_progress=_leg_lines(), every_s=2.0
            )
        assert report is not None  # waited to the end

        def human() -> None:
            render.print_execution(report)
            if report.status == "dry-run":
                console.print(f"Dry-run: {len(report.actions)} order intents journaled, nothing was sent.")
            else:
                console.print(
                    f"Cost: estimated ${report.estimated_cost_usd:,.2f}, realised ${report.realised_cost_usd:,.2f}"
                )

        emit(as_json, report.model_dump(mode="json"), human)
        if report.status not in ("ok", "dry-run"):
            raise typer.Exit(4)


def _leg_lines() -> Callable[[dict[str, Any]], None]:
    """Progress of a running execution's TWAP legs on stderr, one line whenever a leg moves."""
    shown: dict[int, str] = {}

    def show(progress: dict[str, Any]) -> None:
        for leg in progress["legs"]:
            if leg["order_type"] != "twap" or leg["state"] == "waiting":
                continue
            line = (
                f"{leg['coin']} {leg['side']} TWAP over {leg['twap_minutes']} min: {leg['progress']:.0%} "
                f"({leg['executed']:g} of {leg['size']:g}), {leg['state']}"
            )
            if shown.get(leg["index"]) != line:
                shown[leg["index"]] = line
                print(render.safe(line), file=sys.stderr, flush=True)

    return show


@app.command()
@boundary
def decide(
    provider: Annotated[str | None, typer.Option(help="offline|openai|anthropic|openai-compatible")] = None,
    base_url: Annotated[str | None, typer.Option(help="OpenAI-compatible server URL")] = None,
    model: Annotated[str | None, typer.Option(help="model name")] = None,
    config: ConfigOpt = None,
    snapshot: SnapshotOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Ask the strategist for a target allocation (validated; fails closed with exit 5)."""
    from pydantic import ValidationError as PydanticError

    from agent.services.config import StrategistConfig

    settings = settings_from(config)
    overrides = {k: v for k, v in (("provider", provider), ("base_url", base_url), ("model", model)) if v is not None}
    if overrides:
        try:
            strat = StrategistConfig.model_validate({**settings.strategist.model_dump(), **overrides})
        except PydanticError as e:
            raise errors.ValidationError(f"--provider/--base-url/--model: {problems.one_line(e)}") from None
        settings = settings.model_copy(update={"strategist": strat})
    with runtime(config, snapshot, settings=settings) as svc, progress("asking the strategist", as_json):
        d = svc.decide()
    payload = d.model_dump(mode="json")
    if d.target is not None:
        payload["target_allocation"] = d.target.allocations

    def human() -> None:
        if d.ok and d.target is not None:
            console.print(
                render.safe(
                    f"{d.selected_strategy} ({d.provider}): "
                    + ", ".join(f"{k} {v:.1%}" for k, v in d.target.allocations.items())
                )
            )
            console.print(render.safe(d.reasoning))
        else:
            console.print(render.safe(f"failed closed: {d.status}: {d.error}"))
        console.print(render.safe(render.history_line(d.history_as_of, d.history_source, d.usage)))

    emit(as_json, payload, human)
    if not d.ok:
        print(render.safe(f"error: strategist failed closed ({d.status}): {d.error}"), file=sys.stderr)
        raise typer.Exit(5)


@plans_app.callback()
@boundary
def plans(
    ctx: typer.Context,
    days: Annotated[int, typer.Option(help="how far back")] = 60,
    limit: Annotated[int, typer.Option(help="at most this many")] = 50,
    account: AccountOpt = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Stored plans, newest first (``plans show ID`` for one)."""
    if ctx.invoked_subcommand is not None:
        return
    with runtime(config, offline=True, account=account) as svc:
        rows = svc.plans(days=days, limit=limit)
    emit(as_json, rows, lambda: render.print_plans(rows))


@plans_app.command("show")
@boundary
def plans_show(
    plan_id: Annotated[str, typer.Argument(help="a plan id")],
    account: AccountOpt = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """One plan: its actions, status, cycle, decision, orders and fills."""
    with runtime(config, offline=True, account=account) as svc:
        detail = svc.plan_detail(plan_id)
    emit(as_json, detail, lambda: render.print_plan_detail(detail))


@plans_app.command("reject")
@boundary
def plans_reject(
    plan_id: Annotated[str, typer.Argument(help="a previewed plan's id")],
    reason: Annotated[str, typer.Option("--reason", help="why (shown to the next decision)")],
    account: AccountOpt = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Reject a previewed plan: its token is spent, and the reason goes to the next decision."""
    with runtime(config, offline=True, account=account) as svc:
        out = svc.reject_plan(plan_id, reason, source="cli")
    emit(as_json, out, lambda: console.print(render.safe(f"Plan {plan_id} rejected: {out['rejection']['reason']}")))


@app.command()
@boundary
def orders(config: ConfigOpt = None, as_json: JsonOpt = False) -> None:
    """The account's open orders (ours and the user's own)."""
    with runtime(config) as svc:
        found = svc.open_orders()
    emit(as_json, [o.model_dump(mode="json") for o in found], lambda: render.print_orders(found))


@app.command()
@boundary
def cancel(
    yes: Annotated[bool, typer.Option("--yes", help="do not ask")] = False,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Cancel every open order on the account (asks unless --yes)."""
    with runtime(config) as svc:
        if not yes:
            if as_json or not sys.stdin.isatty():
                raise errors.ConfirmationError("not confirmed: pass --yes to cancel without a prompt; nothing was sent")
            render.print_orders(svc.open_orders())
            try:
                confirmed = typer.confirm("Cancel every open order?", default=False)
            except typer.Abort:
                confirmed = False
            if not confirmed:
                raise errors.ConfirmationError("not confirmed; nothing was sent")
        result = svc.cancel_open_orders()
    emit(
        as_json,
        {"cancelled": result.cancelled, "count": result.count, "sent": result.sent, "detail": result.note},
        lambda: console.print(render.safe(result.note)),
    )


@app.command()
@boundary
def pause(
    reason: Annotated[str, typer.Option(help="why")] = "",
    account: AccountOpt = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Turn the kill switch on: no order is sent until resume (a running execution stops before its next order).

    The configured account's switch also pauses every [[accounts]] entry; --account pauses that one alone."""
    _switch(config, True, reason, as_json, account)


@app.command()
@boundary
def resume(
    reason: Annotated[str, typer.Option(help="why")] = "",
    account: AccountOpt = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Turn the kill switch off."""
    _switch(config, False, reason, as_json, account)


def _switch(config: Path | None, paused: bool, reason: str, as_json: bool, account: str | None = None) -> None:
    with runtime(config, offline=True, account=account) as svc:
        (svc.pause if paused else svc.resume)(reason)
    word = "paused" if paused else "resumed"
    emit(as_json, {"paused": paused, "reason": reason}, lambda: console.print(f"trading {word}"))

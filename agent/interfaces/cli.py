"""The ``rebalancer`` command line: translation only; the work happens in services.

Exit codes: 0 ok · 1 unexpected error · 2 bad input (arguments, files, config, target) ·
3 refused by a risk limit, the kill switch or a confirmation check · 4 exchange error ·
5 the strategist failed closed.
"""

from __future__ import annotations

import csv
import json
import logging
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from datetime import timedelta
from functools import partial, wraps
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from pydantic import ValidationError as PydanticError

from agent.core import errors
from agent.services.config import Settings, StrategistConfig, load_settings
from agent.core.domain import RebalancingPlan, TargetAllocation
from agent.adapters.hyperliquid.parsing import load_snapshot
from agent.core.planner import MODES, PortfolioRebalancer
from agent.interfaces.render import console, print_drift, print_execution, print_history, print_plan
from agent.services.runtime import dump_snapshot, open_runtime
from agent.services.app import Services
from agent.adapters.store.db import Store
from agent.core.targets import parse_target, pydantic_problems

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Keep a Hyperliquid portfolio at its target.",
)
exchange_app = typer.Typer(no_args_is_help=True, help="The local Hyperliquid stand-in.")
app.add_typer(exchange_app, name="exchange")

EXIT = {
    errors.ValidationError: 2,
    errors.ConfigError: 2,
    errors.RiskLimitError: 3,
    errors.TradingPaused: 3,
    errors.ConfirmationError: 3,
    errors.ExchangeError: 4,
    errors.StrategistError: 5,
}

F = TypeVar("F", bound=Callable[..., Any])
JsonOpt = Annotated[bool, typer.Option("--json", help="machine-readable output on stdout")]


def fail(message: str, code: int, as_json: bool) -> None:
    """One line on stderr (and a JSON error object on stdout with --json), then exit ``code``."""
    if as_json:
        print(json.dumps({"error": message, "exit_code": code}))
    print(f"error: {message}", file=sys.stderr)
    raise typer.Exit(code)


def boundary(func: F) -> F:
    """Turn our exceptions into a one-line reason and a documented exit code."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        as_json = bool(kwargs.get("as_json"))
        try:
            return func(*args, **kwargs)
        except errors.RebalancerError as e:
            code = next((c for cls, c in EXIT.items() if isinstance(e, cls)), 1)
            fail(str(e), code, as_json)
        except OSError as e:
            fail(f"{e.strerror or e}: {getattr(e, 'filename', '')}", 2, as_json)
        except (typer.Exit, typer.Abort, KeyboardInterrupt):
            raise
        except Exception as e:  # one line, no traceback: internals stay in the log
            logging.getLogger("rebalancer").debug("unexpected error", exc_info=True)
            fail(f"unexpected {type(e).__name__}: {str(e)[:200]}", 1, as_json)

    return wrapper  # type: ignore[return-value]


def read_target(path: Path) -> TargetAllocation:
    """A target file: a bare weight map or the strategist's answer."""
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise errors.ValidationError(f"{path}: no such file") from None
    except json.JSONDecodeError as e:
        raise errors.ValidationError(f"{path}: not valid JSON ({e.msg} at line {e.lineno})") from None
    try:
        return parse_target(data)
    except errors.TargetValidationError as e:
        raise errors.TargetValidationError([f"{path}: {p}" for p in e.problems]) from None


def progress(what: str, as_json: bool) -> Any:
    """A spinner on a terminal for long work (nothing with --json or when output is piped)."""
    return nullcontext() if as_json else console.status(what + "…")


def emit(as_json: bool, payload: Any, human: Callable[[], None]) -> None:
    if as_json:
        print(json.dumps(payload, indent=2, default=str))
    else:
        human()


@app.command()
@boundary
def plan(
    snapshot: Annotated[Path, typer.Option(help="snapshot JSON (Hyperliquid /info responses)")],
    target: Annotated[Path, typer.Option(help="target JSON: weights or the strategist's answer")],
    mode: Annotated[str, typer.Option(help="|".join(MODES))] = "threshold",
    position_threshold: Annotated[float, typer.Option(help="per-asset drift that triggers a trade")] = 0.05,
    portfolio_threshold: Annotated[float | None, typer.Option(help="total drift that triggers a rebalance")] = None,
    band: Annotated[float, typer.Option(help="band half-width (band mode)")] = 0.05,
    min_trade_value: Annotated[float, typer.Option(help="minimum order value, USD")] = 10.0,
    max_slippage: Annotated[float, typer.Option(help="IOC protection, fraction of mid")] = 0.005,
    calendar_days: Annotated[int, typer.Option(help="calendar mode: interval in days")] = 3,
    max_trades: Annotated[int | None, typer.Option(help="at most this many assets per cycle")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Plan a rebalance offline from a snapshot: no exchange, no orders."""
    if mode not in MODES:
        raise errors.ValidationError(f"--mode must be one of {', '.join(MODES)}, not {mode!r}")
    for name, value in (("--position-threshold", position_threshold), ("--max-slippage", max_slippage)):
        if not 0 <= value < 1:
            raise errors.ValidationError(f"{name} must be in [0, 1), not {value}")
    state, market = load_snapshot(snapshot)
    rebalancer = PortfolioRebalancer(
        min_trade_value=min_trade_value,
        max_slippage_pct=max_slippage,
        rebalance_threshold=position_threshold,
        portfolio_threshold=portfolio_threshold,
        mode=mode,
        band=band,
        calendar_interval=timedelta(days=calendar_days),
        max_trades=max_trades,
    )
    result: RebalancingPlan = rebalancer.create_rebalancing_plan(state, read_target(target), market)
    emit(as_json, result.to_public(), lambda: print_plan(result))


# -- commands over the services -------------------------------------------------------------------

ConfigOpt = Annotated[Path | None, typer.Option("--config", help="TOML config (default: ./rebalancer.toml if present)")]
SnapshotOpt = Annotated[Path | None, typer.Option("--snapshot", help="read this snapshot instead of the exchange")]
TargetOpt = Annotated[Path | None, typer.Option("--target", help="target JSON (default: the configured target)")]

DEMO_TARGET = {"UBTC/USDC": 0.25, "UETH/USDC": 0.30, "USOL/USDC": 0.25, "AVAX": 0.0, "USDC": 0.20}


def settings_from(config: Path | None) -> Settings:
    return load_settings(config)


@contextmanager
def runtime(config: Path | None, snapshot: Path | None = None) -> Iterator[Services]:
    with open_runtime(settings_from(config), snapshot=snapshot) as svc:
        yield svc


@app.command()
@boundary
def demo(
    target: TargetOpt = None,
    keep_db: Annotated[Path | None, typer.Option(help="keep the demo's history database here")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Run the whole loop on the local stand-in: seed 002's account, drift, plan, execution, cost vs estimate."""
    tgt = read_target(target) if target else TargetAllocation.from_json(DEMO_TARGET)
    with tempfile.TemporaryDirectory() as tmp:
        db = str(keep_db) if keep_db else str(Path(tmp) / "demo.db")
        settings = Settings(network="local", db=db, targets=tgt.allocations)
        with open_runtime(settings) as svc:
            started = time.perf_counter()
            plan = svc.preview(tgt, source="demo")
            if not as_json:
                console.print("Demo account (seed 002) on the local Hyperliquid stand-in, real SDK over loopback")
                print_plan(plan)
            with progress("executing through the SDK", as_json):
                report = svc.execute(plan.plan_id, plan.confirm_token or "")
            after = svc.plan(tgt)
            result = demo_result(plan, report, after, time.perf_counter() - started)
            if as_json:
                print(json.dumps(result, indent=2, default=str))
            else:
                print_execution(report)
                console.print("After")
                print_drift(after)
                c = result["cost"]
                console.print(
                    f"Cost: estimated ${c['estimated_usd']:,.2f}, realised ${c['realised_usd']:,.2f} "
                    f"(fees ${c['fees_usd']:,.2f}, slippage vs mid ${c['slippage_usd']:,.2f}) · "
                    f"{result['seconds']:.1f}s"
                )


def demo_result(plan: RebalancingPlan, report: Any, after: RebalancingPlan, seconds: float) -> dict[str, Any]:
    rep = report.model_dump(mode="json")
    return {
        "plan": plan.model_dump(mode="json", exclude={"confirm_token"}),
        "execution": rep,
        "after": {
            "rebalance_needed": after.rebalance_needed,
            "reason": after.reason,
            "weights": {r.coin: r.current_weight for r in after.rows},
            "drift": after.summary.drift_before,
        },
        "cost": {
            "estimated_usd": plan.estimated_cost.total_usd,
            "realised_usd": report.realised_cost_usd,
            "fees_usd": report.fees_usd,
            "slippage_usd": report.slippage_usd,
        },
        "seconds": round(seconds, 3),
    }


def strategist_target(svc: Services) -> TargetAllocation:
    """No target configured or stored: the strategist's (recorded), or a fail-closed error."""
    decision = svc.decide()
    if not decision.ok or decision.target is None:
        raise errors.StrategistFailedClosed(decision.error or "no valid target", status=decision.status)
    print(
        f"no target configured: using the {decision.provider} strategist's ({decision.selected_strategy})",
        file=sys.stderr,
    )
    return decision.target


@app.command()
@boundary
def status(
    config: ConfigOpt = None, snapshot: SnapshotOpt = None, target: TargetOpt = None, as_json: JsonOpt = False
) -> None:
    """Show current vs target weights, drift, bands, and whether and why to rebalance."""
    with runtime(config, snapshot) as svc:
        tgt = read_target(target) if target else svc.current_target() or strategist_target(svc)
        p = svc.plan(tgt)
        emit(
            as_json,
            {k: v for k, v in p.to_public().items() if k not in ("confirm_token", "expires_at")},
            lambda: print_drift(p),
        )


@app.command()
@boundary
def preview(
    config: ConfigOpt = None, snapshot: SnapshotOpt = None, target: TargetOpt = None, as_json: JsonOpt = False
) -> None:
    """Plan a rebalance and store it with a single-use confirm token (nothing is traded)."""
    with runtime(config, snapshot) as svc:
        tgt = read_target(target) if target else svc.current_target() or strategist_target(svc)
        p = svc.preview(tgt, source="cli")

        def human() -> None:
            print_plan(p)
            if p.actions:
                expires = f"{p.expires_at:%H:%M:%S} UTC" if p.expires_at else "?"
                console.print(
                    f"To execute: rebalancer execute {p.plan_id} --confirm {p.confirm_token} (expires {expires})"
                )

        emit(as_json, p.to_public(), human)


@app.command()
@boundary
def execute(
    plan_id: Annotated[str, typer.Argument(help="the plan id from preview")],
    confirm: Annotated[str, typer.Option("--confirm", help="the confirm token from preview")],
    yes: Annotated[bool, typer.Option("--yes", help="do not ask again")] = False,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Execute a previewed plan (asks first unless --yes)."""
    with runtime(config) as svc:
        plan_obj, _ = svc.stored_plan(plan_id)
        if not yes and not as_json:
            print_plan(plan_obj)
            try:
                confirmed = typer.confirm(f"Execute {len(plan_obj.actions)} orders now?", default=False)
            except typer.Abort:  # end of input counts as "no"
                confirmed = False
            if not confirmed:
                raise errors.ConfirmationError("not confirmed; nothing was sent")
        with progress("executing", as_json):
            report = svc.execute(plan_id, confirm)
        emit(as_json, report.model_dump(mode="json"), lambda: print_execution(report))
        if report.status not in ("ok",):
            raise typer.Exit(4)


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
    settings = settings_from(config)
    overrides = {k: v for k, v in (("provider", provider), ("base_url", base_url), ("model", model)) if v is not None}
    if overrides:
        try:
            strat = StrategistConfig.model_validate({**settings.strategist.model_dump(), **overrides})
        except PydanticError as e:
            raise errors.ValidationError(f"--provider/--base-url/--model: {pydantic_problems(e)}") from None
        settings = settings.model_copy(update={"strategist": strat})
    with open_runtime(settings, snapshot=snapshot) as svc, progress("asking the strategist", as_json):
        d = svc.decide()
    payload = d.model_dump(mode="json")
    if d.target is not None:
        payload["target_allocation"] = d.target.allocations

    def human() -> None:
        if d.ok and d.target is not None:
            console.print(
                f"{d.selected_strategy} ({d.provider}): "
                + ", ".join(f"{k} {v:.1%}" for k, v in d.target.allocations.items())
            )
            console.print(d.reasoning)
        else:
            console.print(f"failed closed: {d.status}: {d.error}")

    emit(as_json, payload, human)
    if not d.ok:
        print(f"error: strategist failed closed ({d.status}): {d.error}", file=sys.stderr)
        raise typer.Exit(5)


@app.command()
@boundary
def history(
    days: Annotated[int, typer.Option(help="how far back")] = 60,
    csv_out: Annotated[bool, typer.Option("--csv", help="CSV on stdout")] = False,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Past cycles: when, why, what it did, value before and after, realised 7-day return."""
    settings = settings_from(config)
    store = Store(settings.db)
    try:
        rows = Services(settings=settings, store=store, exchange=None, executor=None).history(days)
    finally:
        store.close()
    if csv_out:
        writer = csv.DictWriter(sys.stdout, fieldnames=HISTORY_FIELDS)
        writer.writeheader()
        writer.writerows(rows)
        return
    emit(as_json, rows, lambda: print_history(rows))


HISTORY_FIELDS = [
    "id",
    "started_at",
    "finished_at",
    "trigger",
    "autonomy",
    "status",
    "reason",
    "plan_id",
    "value_before",
    "value_after",
    "return_7d",
]

config_app = typer.Typer(no_args_is_help=True, help="Configuration.")
app.add_typer(config_app, name="config")


@config_app.command("show")
@boundary
def config_show(config: ConfigOpt = None, as_json: JsonOpt = False) -> None:
    """Print the effective configuration, secrets redacted."""
    data = settings_from(config).redacted()
    emit(as_json, data, lambda: console.print_json(json.dumps(data, default=str)))


@app.command()
@boundary
def pause(
    reason: Annotated[str, typer.Option(help="why")] = "", config: ConfigOpt = None, as_json: JsonOpt = False
) -> None:
    """Turn the kill switch on: no order is sent until resume."""
    _switch(config, True, reason, as_json)


@app.command()
@boundary
def resume(
    reason: Annotated[str, typer.Option(help="why")] = "", config: ConfigOpt = None, as_json: JsonOpt = False
) -> None:
    """Turn the kill switch off."""
    _switch(config, False, reason, as_json)


def _switch(config: Path | None, paused: bool, reason: str, as_json: bool) -> None:
    settings = settings_from(config)
    store = Store(settings.db)
    try:
        store.set_paused(paused, reason)
    finally:
        store.close()
    emit(as_json, {"paused": paused}, lambda: console.print("trading paused" if paused else "trading resumed"))


@app.command()
@boundary
def heartbeat(
    once: Annotated[bool, typer.Option("--once", help="one tick, then exit")] = False,
    interval: Annotated[str | None, typer.Option(help="e.g. 4h, 30m")] = None,
    autonomy: Annotated[str | None, typer.Option(help="advise|confirm|auto")] = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The autonomous loop: observe, trigger, decide, plan, gate, act by autonomy level."""
    from agent.services.config import parse_duration
    from agent.services.heartbeat import Heartbeat

    settings = settings_from(config)
    try:
        every = parse_duration(interval) if interval else None
    except ValueError as e:
        raise errors.ValidationError(f"--interval: {e}") from None
    if autonomy is not None and autonomy not in ("advise", "confirm", "auto"):
        raise errors.ValidationError(f"--autonomy must be advise, confirm or auto, not {autonomy!r}")
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    with open_runtime(settings) as svc:
        hb = Heartbeat(svc, autonomy=autonomy, interval=every)
        for r in hb.run(stop, once=once):
            line = f"{r.cycle_id}: {r.status} — {r.reason}"
            emit(as_json, r.to_json(), partial(console.print, line))


@app.command()
@boundary
def mcp(
    http: Annotated[bool, typer.Option("--http", help="streamable HTTP instead of stdio")] = False,
    host: Annotated[str, typer.Option(help="HTTP interface (loopback by default)")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="HTTP port")] = 8000,
    read_only: Annotated[bool, typer.Option("--read-only", help="do not register destructive tools")] = False,
    config: ConfigOpt = None,
) -> None:
    """Serve the tools over MCP (stdio by default; stdout belongs to the protocol)."""
    from tools.server import run

    settings = settings_from(config)
    with open_runtime(settings) as svc:
        run(svc, http=http, host=host, port=port, read_only=read_only or settings.mcp.read_only)


@app.command()
@boundary
def chat(config: ConfigOpt = None) -> None:
    """Talk to the agent: "what's my drift?", "what would you do?", "preview a risk-off rebalance"."""
    from agent.interfaces.chat import chat as run_chat

    with runtime(config) as svc:
        run_chat(svc)


@app.command()
@boundary
def snapshot(
    out: Annotated[Path, typer.Option("--out", help="where to write the snapshot JSON")],
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Dump the configured account and market as a snapshot (Hyperliquid /info responses, unchanged)."""
    with runtime(config) as svc:
        data = dump_snapshot(svc.exchange)
    out.write_text(json.dumps(data, indent=1))
    emit(as_json, {"out": str(out), "keys": sorted(data)}, lambda: console.print(f"wrote {out}"))


@exchange_app.command("serve")
@boundary
def exchange_serve(
    snapshot_file: Annotated[Path | None, typer.Option("--snapshot", help="seed (default: the demo account)")] = None,
    port: Annotated[int, typer.Option(help="port on 127.0.0.1")] = 8765,
) -> None:
    """Run the local Hyperliquid stand-in on loopback until Ctrl-C."""
    from agent.standin import load_demo_snapshot, serve_forever

    if snapshot_file is None:
        seed = load_demo_snapshot()
    else:
        try:
            seed = json.loads(snapshot_file.read_text())
        except FileNotFoundError:
            raise errors.ValidationError(f"{snapshot_file}: no such file") from None
        except json.JSONDecodeError as e:
            raise errors.ValidationError(f"{snapshot_file}: not valid JSON ({e.msg} at line {e.lineno})") from None
        load_snapshot(seed)  # a clear error now rather than a broken server later
    serve_forever(seed, host="127.0.0.1", port=port)


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(message)s", stream=sys.stderr)
    app()


if __name__ == "__main__":
    main()

"""Commands that run something: demo, heartbeat, mcp, chat, history, snapshot, config show, exchange serve."""

from __future__ import annotations

import csv
import json
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from agent.core import errors
from agent.core.durations import parse_duration
from agent.core.text import without_passwords
from agent.interfaces import render
from agent.interfaces.cli.base import (
    AccountOpt,
    ConfigOpt,
    JsonOpt,
    TargetOpt,
    app,
    boundary,
    emit,
    progress,
    read_json,
    read_target,
    runtime,
    settings_from,
    stop_on_signals,
)
from agent.interfaces.render import console

if TYPE_CHECKING:  # the commands import what they run, so `--help` stays fast
    from agent.core.domain import RebalancingPlan
    from agent.services.trading.heartbeat import TickResult
    from agent.services.trading.reports import ExecutionReport

exchange_app = typer.Typer(no_args_is_help=True, help="The local Hyperliquid stand-in.")
app.add_typer(exchange_app, name="exchange")
config_app = typer.Typer(no_args_is_help=True, help="Configuration.")
app.add_typer(config_app, name="config")
db_app = typer.Typer(no_args_is_help=True, help="The history database.")
app.add_typer(db_app, name="db")

#: the demo account's target (the demo's default): a fifth in cash, the rest in BTC, ETH and SOL, no AVAX.
DEMO_TARGET = {"UBTC/USDC": 0.25, "UETH/USDC": 0.30, "USOL/USDC": 0.25, "AVAX": 0.0, "USDC": 0.20}
VenueOpt = Annotated[str, typer.Option("--venue", help="hyperliquid | binance | binanceus (Binance.US)")]


def _venue(venue: str) -> str:
    if venue not in ("hyperliquid", "binance", "binanceus"):
        raise errors.ValidationError(f"--venue must be hyperliquid, binance or binanceus, not {venue!r}")
    return venue


@app.command()
@boundary
def demo(
    target: TargetOpt = None,
    keep_db: Annotated[Path | None, typer.Option(help="keep the demo's history database here")] = None,
    venue: VenueOpt = "hyperliquid",
    as_json: JsonOpt = False,
) -> None:
    """Run the whole loop on the local stand-in: the demo account, drift, plan, execution, cost vs estimate."""
    from agent.core.domain import TargetAllocation
    from agent.services.config import Settings

    binance = _venue(venue) != "hyperliquid"
    venue = "binanceus" if binance else venue  # the demo account holds USD: it is on Binance.US
    tgt = read_target(target) if target else (None if binance else TargetAllocation.from_json(DEMO_TARGET))
    with tempfile.TemporaryDirectory() as tmp:
        db = str(keep_db) if keep_db else str(Path(tmp) / "demo.db")
        # on Binance, without --target, the account's own rules decide (the signal rules: a 20 % cash reserve,
        # 5–30 % per asset, the weakest signal sold first, at most 3 trades a cycle)
        settings = Settings.model_validate(
            {"network": "local", "db": db, "targets": tgt.allocations if tgt else None, "exchange": {"venue": venue}}
            | ({} if tgt else {"signals": {"enabled": True}, "rebalance": {"max_trades": 3}})
        )
        with runtime(None, settings=settings, create_store=True) as svc:
            started = time.perf_counter()
            plan = svc.preview(None, source="demo")
            if not as_json:
                console.print(
                    "Demo account on the local Binance.US stand-in, ccxt over loopback"
                    if binance
                    else "Demo account on the local Hyperliquid stand-in, real SDK over loopback"
                )
                render.print_plan(plan)
            if not plan.confirm_token:
                raise errors.ValidationError("the demo account is already at this target: nothing to execute")
            with progress("executing through ccxt" if binance else "executing through the SDK", as_json):
                report = svc.execute(plan.plan_id, plan.confirm_token, source="demo")
            after = svc.plan(None)
            result = demo_result(plan, report, after, time.perf_counter() - started)
            if as_json:
                print(json.dumps(result, indent=2, default=str))
            else:
                render.print_execution(report)
                console.print("After")
                render.print_drift(after)
                c = result["cost"]
                console.print(
                    f"Cost: estimated ${c['estimated_usd']:,.2f}, realised ${c['realised_usd']:,.2f} "
                    f"(fees ${c['fees_usd']:,.2f}, slippage vs mid ${c['slippage_usd']:,.2f}) · "
                    f"{result['seconds']:.1f}s"
                )
                if keep_db:
                    console.print(f"History kept in {keep_db}: rebalancer history --config with db = that file")


def demo_result(
    plan: RebalancingPlan, report: ExecutionReport, after: RebalancingPlan, seconds: float
) -> dict[str, Any]:
    return {
        "plan": plan.model_dump(mode="json", exclude={"confirm_token"}),
        "execution": report.model_dump(mode="json"),
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


@app.command()
@boundary
def history(
    days: Annotated[int, typer.Option(help="how far back")] = 60,
    csv_out: Annotated[bool, typer.Option("--csv", help="CSV on stdout")] = False,
    account: AccountOpt = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Past cycles: when, why, what it did, value before and after, cost, realised 7-day return."""
    from agent.services.trading.records import CYCLE_FIELDS

    with runtime(config, offline=True, account=account) as svc:
        rows = svc.history(days)
        rejected = [] if as_json or csv_out else svc.rejected_plans(days)
    if csv_out:
        writer = csv.DictWriter(sys.stdout, fieldnames=CYCLE_FIELDS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
        return

    def human() -> None:
        render.print_history(rows)
        render.print_rejections(rejected)

    emit(as_json, rows, human)


@config_app.command("show")
@boundary
def config_show(config: ConfigOpt = None, as_json: JsonOpt = False) -> None:
    """Print the effective configuration: stored settings applied (each with its source and the file's value),
    secrets redacted."""
    from agent.services import preferences

    data = preferences.shown(settings_from(config))
    emit(as_json, data, lambda: console.print_json(json.dumps(data, default=str)))


@db_app.command("init")
@boundary
def db_init(config: ConfigOpt = None, as_json: JsonOpt = False) -> None:
    """Create the history database at the configured path on purpose (an existing one is brought up to date)."""
    from agent.services.runtime import init_store

    path, version = init_store(settings_from(config))
    emit(as_json, {"db": path, "schema_version": version}, lambda: console.print(f"{path}: schema version {version}"))


@app.command()
@boundary
def heartbeat(
    ctx: typer.Context,
    once: Annotated[bool, typer.Option("--once", help="one tick, then exit")] = False,
    interval: Annotated[str | None, typer.Option(help="e.g. 4h, 30m")] = None,
    autonomy: Annotated[str | None, typer.Option(help="advise|confirm|auto")] = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The autonomous loop: observe, trigger, decide, plan, gate, act by autonomy level (one line per tick)."""
    from agent.services.trading.heartbeat import AUTONOMY, Heartbeat, may_create_store

    settings = settings_from(config)
    try:
        every = parse_duration(interval) if interval else None
    except ValueError as e:
        raise errors.ValidationError(f"--interval: {e}") from None
    if autonomy is not None and autonomy not in AUTONOMY:
        raise errors.ValidationError(f"--autonomy must be advise, confirm or auto, not {autonomy!r}")
    stop = stop_on_signals(ctx)

    def on_tick(r: TickResult, next_at: datetime | None) -> None:
        if as_json:
            print(json.dumps({**r.to_json(), "next_tick_at": next_at.isoformat() if next_at else None}), flush=True)
            return
        line = f"{r.cycle_id}: {r.status} — {r.reason}"
        console.print(render.safe(line))
        if r.status == "pending-confirm" and r.plan_id and r.confirm_token:
            render.print_copyable(f"rebalancer execute {r.plan_id} --confirm {r.confirm_token}")
        if next_at is not None:
            console.print(f"next tick at {render.when(next_at)} (Ctrl-C to stop)")
        sys.stdout.flush()

    with runtime(config, settings=settings, create_store=may_create_store(settings, autonomy)) as svc:
        hb = Heartbeat(svc, autonomy=autonomy, interval=every)
        if not as_json:
            console.print(f"heartbeat: {hb.autonomy}, every {hb.interval}; database {without_passwords(settings.db)}")
        results = hb.run(stop, once=once, on_tick=on_tick)
    if not as_json and not once:
        console.print(f"heartbeat stopped after {len(results)} tick(s)")


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
    if http:
        settings.mcp.check_host(host)  # before anything starts
    with runtime(config, settings=settings) as svc:
        run(svc, http=http, host=host, port=port, read_only=read_only or settings.mcp.read_only)


@app.command("mcp-token")
@boundary
def mcp_token(
    read_only: Annotated[bool, typer.Option("--read-only", help="a token for the read-only tools only")] = False,
    config: ConfigOpt = None,
) -> None:
    """Issue a bearer token for `rebalancer mcp --http` (printed once; only its hash is stored)."""
    from agent.services import mcp_tokens

    with runtime(config, offline=True) as svc:
        token = mcp_tokens.issue(svc.store, "read" if read_only else "full")
    print(token)
    print("shown once: only its hash is stored", file=sys.stderr)


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
    from agent.services.runtime import snapshot_of

    with runtime(config) as svc:
        data = snapshot_of(svc)
    out.write_text(json.dumps(data, indent=1))
    emit(as_json, {"out": str(out), "keys": sorted(data)}, lambda: console.print(f"wrote {out}"))


@exchange_app.command("serve")
@boundary
def exchange_serve(
    ctx: typer.Context,
    snapshot_file: Annotated[Path | None, typer.Option("--snapshot", help="seed (default: the demo account)")] = None,
    port: Annotated[int, typer.Option(help="port on 127.0.0.1")] = 8765,
    time_scale: Annotated[
        float, typer.Option("--time-scale", help="TWAP suborders, funding and replay run N times the wall clock")
    ] = 1.0,
    replay: Annotated[bool, typer.Option("--replay", help="prices follow the snapshot's real candles")] = False,
    mainnet_signatures: Annotated[
        bool,
        typer.Option("--mainnet-signatures", help="accept mainnet-signed actions only (default: testnet-signed)"),
    ] = False,
    venue: VenueOpt = "hyperliquid",
) -> None:
    """Run the local Hyperliquid stand-in (or, with --venue binance, the local Binance) on loopback until Ctrl-C."""
    from agent.services.runtime import read_snapshot
    from agent.standin import load_demo_snapshot, serve_forever

    if not 0 < port < 65536:
        raise errors.ValidationError(f"--port must be between 1 and 65535, not {port}")
    if _venue(venue) != "hyperliquid":
        _serve_binance(ctx, snapshot_file, port, venue)
        return
    if not 0 < time_scale <= 100_000:
        raise errors.ValidationError(f"--time-scale must be in (0, 100000], not {time_scale:g}")
    if snapshot_file is None:
        seed = load_demo_snapshot()
    else:
        seed = read_json(snapshot_file)
        read_snapshot(seed)  # a clear error now rather than a broken server later
    try:
        serve_forever(
            seed, host="127.0.0.1", port=port, time_scale=time_scale, replay=replay, mainnet=mainnet_signatures
        )
    except OSError as e:
        raise errors.ValidationError(f"cannot listen on 127.0.0.1:{port}: {e.strerror or e}") from None


def _serve_binance(ctx: typer.Context, snapshot_file: Path | None, port: int, venue: str) -> None:

    from agent.standin.binance.seed import DEMO_KEY, demo_snapshot, from_snapshot
    from agent.standin.binance.server import BinanceServer

    seed = read_json(snapshot_file) if snapshot_file else demo_snapshot(venue)
    try:
        state = from_snapshot(seed)
    except (KeyError, TypeError, ValueError, ArithmeticError) as e:
        raise errors.ValidationError(f"{snapshot_file}: not a Binance snapshot ({e!r})") from None
    try:
        server = BinanceServer(state, port=port)
    except OSError as e:
        raise errors.ValidationError(f"cannot listen on 127.0.0.1:{port}: {e.strerror or e}") from None
    stop = stop_on_signals(ctx)
    with server:
        sys.stderr.write(f"local Binance ({venue}) on {server.url}; demo API key {DEMO_KEY}; Ctrl-C stops it\n")
        sys.stderr.flush()
        stop.wait()

"""``rebalancer backtest`` (policies replayed over price files, optionally walk-forward) and ``decisions``
(the strategist's recorded decisions as a cassette a backtest replays)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from agent.core import errors
from agent.interfaces import render
from agent.interfaces.cli.base import ConfigOpt, JsonOpt, app, boundary, emit, read_target, runtime, settings_from
from agent.interfaces.render import console

if TYPE_CHECKING:  # the commands import what they run, so `--help` stays fast
    from agent.services.evidence.backtest import BacktestResult


@contextmanager
def progress_bars(as_json: bool) -> Iterator[Callable[[str, int], Callable[[int], None]] | None]:
    """rich progress on stderr (a terminal only): one bar per policy, advanced once per simulated day."""
    from rich.console import Console

    err_console = Console(stderr=True, highlight=False, markup=False)
    if as_json or not err_console.is_terminal:
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    ) as bars:

        def new(what: str, total: int) -> Callable[[int], None]:
            task = bars.add_task(what, total=total)
            return lambda k: bars.update(task, completed=k + 1)

        yield new


def _date(text: str | None, flag: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise errors.ValidationError(f"{flag}: {text!r} is not a YYYY-MM-DD date") from None


@app.command()
@boundary
def backtest(
    prices: Annotated[Path, typer.Option("--prices", help="CSV date,BTC,ETH,… (or a folder of daily files)")],
    policy: Annotated[list[str] | None, typer.Option("--policy", help="policy spec; repeat for several")] = None,
    target: Annotated[Path | None, typer.Option("--target", help="target JSON (default: the configured targets)")] = (
        None
    ),
    start: Annotated[str | None, typer.Option(help="first date, YYYY-MM-DD")] = None,
    end: Annotated[str | None, typer.Option(help="last date, YYYY-MM-DD")] = None,
    equity: Annotated[float, typer.Option(help="starting equity in USD")] = 100_000.0,
    fee_bps: Annotated[float, typer.Option(help="fee per trade, bp of notional")] = 4.5,
    half_spread_bps: Annotated[float, typer.Option(help="half the bid-ask spread, bp")] = 1.0,
    impact_k: Annotated[float, typer.Option(help="impact k in k·σ30·sqrt(N/V)")] = 0.1,
    match_drift: Annotated[str | None, typer.Option(help="tune the cost-aware policy to this policy's drift")] = None,
    plot: Annotated[Path | None, typer.Option(help="write the pictures as PNG (OUT.png, OUT-frontier.png, …)")] = None,
    html: Annotated[Path | None, typer.Option(help="write one self-contained HTML report")] = None,
    walk_forward: Annotated[
        bool, typer.Option("--walk-forward", help="fit each *:fit policy on the past only")
    ] = False,
    train_days: Annotated[int, typer.Option(help="walk-forward: days each fit looks back")] = 365,
    test_days: Annotated[int, typer.Option(help="walk-forward: days traded with each fit (refit interval)")] = 365,
    expanding: Annotated[bool, typer.Option(help="walk-forward: fit on all the past, not the trailing days")] = False,
    objective: Annotated[str, typer.Option(help="walk-forward: drift-budget (cheapest at monthly's drift), sharpe")] = (
        "drift-budget"
    ),
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Replay rebalancing policies over daily closes through the planner: drift, cost, returns per policy.

    With --walk-forward, each tunable policy (band:fit, band:fit:coin-edge, band:fit:target, threshold:fit,
    cost-aware:fit, strategist:fit) is fitted on the past only and traded on the next window; in-sample
    against out-of-sample.
    Nothing touches the exchange or the account's records.
    """
    from agent.core.simulation import TradingCosts
    from agent.services.evidence.backtest import load_prices, run_backtest

    chosen = read_target(target) if target else _configured_target(config)
    wide = any(s.startswith("strategist:") for s in policy or [])  # a strategist may pick any coin
    table = load_prices(prices, None if wide else list(chosen.weights))
    costs = TradingCosts(fee_bps=fee_bps, half_spread_bps=half_spread_bps, impact_k=impact_k)
    if walk_forward:
        if match_drift or plot or html:
            raise errors.ValidationError("--walk-forward: --match-drift, --plot and --html do not apply")
        from agent.services.evidence.backtest import policy_for
        from agent.services.evidence.walk_forward import walk_forward as fit

        with progress_bars(as_json) as bars:
            wf = fit(table, chosen, policy or [], policy_for, start=_date(start, "--start"), end=_date(end, "--end"),
                     train_days=train_days, test_days=test_days, expanding=expanding, objective=objective,
                     equity=equity, costs=costs, progress=bars)  # fmt: skip
        out = wf.to_json()
        emit(as_json, out, lambda: render_walk_forward(out))
        return
    with progress_bars(as_json) as bars:
        result = run_backtest(
            table,
            chosen,
            policy or [],
            start=_date(start, "--start"),
            end=_date(end, "--end"),
            equity=equity,
            costs=costs,
            match_drift=match_drift,
            progress=bars,
        )
    files = _pictures(result, plot, html)
    payload = result.to_json() | ({"files": files} if files else {})
    emit(as_json, payload, lambda: _print_backtest(payload))


def render_walk_forward(p: dict[str, Any]) -> None:
    """The walk-forward table: per policy, what was fitted, and the in-sample against out-of-sample figures."""
    w = p["walk_forward"]
    console.print(
        f"Walk-forward, {w['windows']} windows: fit on {w['train_days']} days, trade the next {w['test_days']}, "
        f"objective {w['objective']}; out of sample {w['out_of_sample'][0]} .. {w['out_of_sample'][1]} "
        f"({len(w['folds'])} folds), coins {', '.join(w['coins'])}"
    )

    def fig(m: dict[str, Any]) -> list[str]:
        def f(k: str, fmt: str) -> str:
            return "n/a" if m.get(k) is None else format(m[k], fmt)

        drift = "n/a" if m.get("mean_drift") is None else f"{m['mean_drift'] * 100:.2f}"
        return [f("cagr", "+.1%"), f("sharpe", ".2f"), f("max_drawdown", ".1%"), f("cost_bp_pa", ".2f"),
                f("turnover_pa", ".2f"), drift]  # fmt: skip

    rows = []
    for r in p["policies"]:
        fitted = ", ".join(f"{x['value']:.3g}" for x in r["folds"]) if r["tuned"] else "—"
        rows.append([r["spec"], fitted, *fig(r["in_sample"]), *fig(r["out_of_sample"])])
    cols = ["CAGR", "Sharpe", "max DD", "cost bp/yr", "turnover/yr", "drift pp"]
    head = ["policy", "fitted per fold", *(f"in {c}" for c in cols), *(f"out {c}" for c in cols)]
    render.table("In-sample (mean over folds) vs out-of-sample", head, rows, right=head[2:])
    console.print("turnover/yr counts every leg, USDC's included. Past prices, not a forecast.")


def _configured_target(config: Path | None) -> Any:
    from agent.core.targets import parse_target

    settings = settings_from(config)
    if not settings.targets:
        raise errors.ValidationError("no target: pass --target FILE or set [targets] in the config")
    return parse_target(dict(settings.targets))


def _pictures(result: BacktestResult, png: Path | None, html: Path | None) -> list[str]:
    if png is None and html is None:
        return []
    from agent.interfaces import plots

    return plots.backtest_pictures(result, png, html)


def _print_backtest(p: dict[str, Any]) -> None:
    w = p["window"]
    console.print(
        f"Backtest {w['start']} .. {w['end']} ({w['days']} days), coins {', '.join(w['coins'])}, "
        f"equity ${w['equity']:,.0f}; costs: fee {p['costs']['fee_bps']} bp, half-spread "
        f"{p['costs']['half_spread_bps']} bp, impact k {p['costs']['impact_k']}"
    )
    rows = []
    for r in p["policies"]:
        m = r["metrics"]
        ratio = m.get("cost_ratio_to_monthly")
        rows.append(
            [
                r["spec"],
                f"{m['mean_drift'] * 100:.2f}",
                f"{m['p95_drift'] * 100:.2f}",
                f"{m['cost_bp_pa']:.2f}",
                "" if ratio is None else f"{ratio:.2f}",
                f"{m['turnover_pa']:.2f}",
                f"{m['rebalances_pa']:.1f}",
                str(m["trades"]),
                f"{m['cagr']:+.1%}",
                f"{m['sharpe']:.2f}",
                f"{m['max_drawdown']:.1%}",
            ]
        )
    render.table(
        "Policies",
        [
            "policy",
            "drift pp",
            "p95 pp",
            "cost bp/yr",
            "×monthly",
            "turnover/yr",
            "rebal/yr",
            "trades",
            "CAGR",
            "Sharpe",
            "max DD",
        ],
        rows,
        right=[
            "drift pp",
            "p95 pp",
            "cost bp/yr",
            "×monthly",
            "turnover/yr",
            "rebal/yr",
            "trades",
            "CAGR",
            "Sharpe",
            "max DD",
        ],
    )
    if p.get("match_drift"):
        m = p["match_drift"]
        console.print(
            f"cost-aware drift aversion {m['drift_aversion']:.3g} matches {m['policy']}'s mean drift "
            f"{m['mean_drift'] * 100:.2f} pp"
        )
    for f in p.get("files", []):
        console.print(f"wrote {f}")
    console.print("turnover/yr counts every leg of every trade, USDC's included. Past prices, not a forecast.")


@app.command()
@boundary
def decisions(
    cassette: Annotated[Path, typer.Option("--cassette", help="write the recorded decisions here (JSON)")],
    account: Annotated[str | None, typer.Option(help="an [[accounts]] entry")] = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Write the strategist's recorded decisions as a cassette: backtest --policy strategist:cassette=FILE."""
    import json

    with runtime(config, offline=True, account=account) as svc:
        entries = svc.decision_cassette()
    try:
        cassette.write_text(json.dumps(entries, indent=1) + "\n", encoding="utf-8")
    except OSError as e:
        raise errors.ValidationError(f"--cassette {cassette}: cannot write ({e.strerror})") from None
    first, last = entries[0]["date"], entries[-1]["date"]
    out = {"cassette": str(cassette), "decisions": len(entries), "first": first, "last": last}
    emit(as_json, out, lambda: console.print(
        f"wrote {out['decisions']} decisions ({out['first']} .. {out['last']}) to {cassette}; replay them with "
        f"backtest --policy strategist:cassette={cassette}"))  # fmt: skip

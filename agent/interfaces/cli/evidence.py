"""Commands that show how the account and its target fare on recent history: sensitivity, risk, performance
(the backtest over price files is :mod:`.backtest`)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from agent.interfaces import render
from agent.interfaces.cli.base import ConfigOpt, JsonOpt, app, boundary, emit, read_target, runtime
from agent.interfaces.render import console

if TYPE_CHECKING:  # the commands import what they run, so `--help` stays fast
    pass


PlotOpt = Annotated[Path | None, typer.Option("--plot", help="write the chart as PNG")]


@app.command()
@boundary
def sensitivity(
    target: Annotated[Path | None, typer.Option("--target", help="target JSON (default: the target rule's)")] = None,
    days: Annotated[int, typer.Option(help="days of past closes")] = 90,
    plot: PlotOpt = None,
    config: ConfigOpt = None,
    snapshot: Annotated[Path | None, typer.Option("--snapshot", help="read this snapshot instead")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Stay put or rebalance: both over the last N days of real closes (past data, not a forecast)."""
    with runtime(config, snapshot) as svc, svc.question():
        report = svc.sensitivity(read_target(target) if target else None, days)
    files = []
    if plot is not None:
        from agent.interfaces import plots

        plots.save(plots.sensitivity_chart(report), plot)
        files.append(str(plot))

    def human() -> None:
        rows = []
        for key, label in (("current", "stay put"), ("rebalanced", "rebalance"), ("difference", "difference")):
            m = report[key]
            rows.append(
                [
                    label,
                    f"{m['total_return']:+.2%}",
                    f"{m['vol_pa']:.1%}",
                    f"{m['max_drawdown']:.1%}",
                    f"{m['sharpe']:.2f}",
                ]
            )
        w = report["window"]
        render.table(
            f"Sensitivity {w['start']} .. {w['end']} ({report['history_source']})",
            ["", "return", "vol/yr", "max DD", "Sharpe"],
            rows,
            right=["return", "vol/yr", "max DD", "Sharpe"],
        )
        console.print(render.safe(report["summary"]))
        if report["left_out"]:
            console.print(render.safe(f"No history for {', '.join(report['left_out'])}: left out."))
        for f in files:
            console.print(f"wrote {f}")

    emit(as_json, report | ({"files": files} if files else {}), human)


@app.command()
@boundary
def risk(
    plot: PlotOpt = None,
    config: ConfigOpt = None,
    snapshot: Annotated[Path | None, typer.Option("--snapshot", help="read this snapshot instead")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Correlation of the holdings (rolling, daily returns) and drawdown, against their limits."""
    with runtime(config, snapshot) as svc, svc.question():
        report = svc.risk()
    corr = report["correlation"]
    files = []
    if plot is not None and corr["matrix"]:
        import numpy as np

        from agent.interfaces import plots

        title = (
            f"Correlation of daily returns, last {corr['window_days']} days; "
            f"weighted average {corr['weighted_average']:.2f} (limit {report['max_correlation']:.2f})"
        )
        plots.save(plots.correlation_heatmap(corr["coins"], np.array(corr["matrix"]), title), plot)
        files.append(str(plot))

    def human() -> None:
        if corr["matrix"]:
            coins = corr["coins"]
            rows = [[c, *(f"{x:+.2f}" for x in row)] for c, row in zip(coins, corr["matrix"], strict=True)]
            render.table(
                f"Correlation of daily returns, last {corr['window_days']} days ({corr['history_source']})",
                ["", *coins],
                rows,
                right=coins,
            )
            flag = "ABOVE" if report["correlation_breach"] else "within"
            console.print(
                f"Average pairwise correlation {corr['average']:.2f}, weighted {corr['weighted_average']:.2f}"
                f": {flag} the limit {report['max_correlation']:.2f}"
            )
        else:
            console.print("Fewer than two held assets with history: no correlation to report.")
        dd, lim = report["drawdown"], report["max_drawdown"]
        state = "ACTIVE" if report["drawdown_protection_active"] else "not active"
        protection = "off" if lim is None else f"at {lim:.0%} ({state})"
        console.print(f"Drawdown {dd:.1%} from the peak ${report['peak_equity']:,.2f}; protection {protection}")
        for f in files:
            console.print(f"wrote {f}")

    emit(as_json, report | ({"files": files} if files else {}), human)


@app.command()
@boundary
def performance(
    days: Annotated[int, typer.Option(help="the window, in days")] = 30,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The account's real performance from the exchange's history: returns, risk, fees, funding, PnL."""
    with runtime(config) as svc, svc.question():
        report = svc.performance(days)

    def pct(x: float | None) -> str:
        return "n/a" if x is None else f"{x:+.2%}"

    def human() -> None:
        r = report["returns"]
        console.print(
            f"Returns: 1d {pct(r['1d'])} · 7d {pct(r['7d'])} · 30d {pct(r['30d'])} · all time {pct(r['all_time'])}"
        )
        vol, sharpe, dd = report["vol_pa"], report["sharpe"], report["max_drawdown"]
        console.print(
            f"Last {days} days: vol {'n/a' if vol is None else f'{vol:.1%}'} · Sharpe "
            f"{'n/a' if sharpe is None else f'{sharpe:.2f}'} · "
            f"max drawdown {'n/a' if dd is None else f'{dd:.1%}'}"
            f" · fees ${report['fees_paid']:,.2f} · funding ${report['funding']:+,.2f} · realised PnL "
            f"${report['realised_pnl']:+,.2f} · turnover {report['turnover'] or 0:.2f}"
        )
        rows = [
            [
                c,
                f"${a['realised_pnl']:+,.2f}",
                f"${a['unrealised_pnl']:+,.2f}",
                f"${a['funding']:+,.2f}",
                f"${a['fees']:,.2f}",
                f"{a['contribution']:+.2%}",
            ]
            for c, a in report["per_asset"].items()
        ]
        if rows:
            render.table(
                "Per asset",
                ["asset", "realised", "unrealised", "funding", "fees", "contribution"],
                rows,
                right=["realised", "unrealised", "funding", "fees", "contribution"],
            )
        if report["cycles_filled"]:
            console.print(f"Filled the realised 7-day return of {report['cycles_filled']} cycles.")

    emit(as_json, report, human)

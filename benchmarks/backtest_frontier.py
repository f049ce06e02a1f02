"""The cost–drift frontier of issue 11 on the two shared portfolios, with rich progress.

Run: ``python benchmarks/backtest_frontier.py [--prices FILE] [--plot-dir DIR]``. For A (BTC 40 / ETH 30 /
USDC 30) and B (ten coins at 10 %): calendar policies, fixed bands (to the edge) from 0.5 to 6 pp, and the
cost-aware policy tuned to calendar-monthly's mean drift; each policy's mean drift, cost in bp a year and
ratio to calendar-monthly, then the cheapest fixed band with no more drift than calendar-monthly.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from agent.adapters.prices import read_prices_csv
from agent.core.targets import parse_target
from agent.services.evidence.backtest import run_backtest

FIXTURE = Path(__file__).parents[1] / "tests" / "fixtures" / "backtest" / "daily_2021_2026.csv"
PORTFOLIOS = {
    "A": {"BTC": 0.4, "ETH": 0.3, "USDC": 0.3},
    "B": {c: 0.1 for c in ("BTC", "ETH", "SOL", "AVAX", "LINK", "DOGE", "LTC", "BNB", "XRP", "ADA")},
}
BANDS = [0.005, 0.0075, 0.01, 0.0125, 0.015, 0.02, 0.025, 0.03, 0.035, 0.04, 0.05, 0.06]
CALENDAR = ["calendar:weekly", "calendar:monthly", "calendar:quarterly", "calendar:7d", "calendar:14d"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--prices", default=str(FIXTURE))
    ap.add_argument("--plot-dir", default=None)
    args = ap.parse_args()
    console = Console()
    table_all = read_prices_csv(args.prices)
    for name, weights in PORTFOLIOS.items():
        target = parse_target(weights)
        specs = [*CALENDAR, *(f"band:{b:g}:edge" for b in BANDS), "threshold:0.05"]
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        ) as bars:

            def new(what: str, total: int, bars: Progress = bars, name: str = name) -> object:
                task = bars.add_task(f"{name} {what}", total=total)
                return lambda k: bars.update(task, completed=k + 1)

            result = run_backtest(table_all, target, specs, match_drift="calendar:monthly", progress=new)  # type: ignore[arg-type]
        rows = result.to_json()["policies"]
        monthly = next(r["metrics"] for r in rows if r["spec"] == "calendar:monthly")
        t = Table(title=f"Portfolio {name}: {', '.join(f'{c} {w:g}' for c, w in weights.items())}")
        for col in ("policy", "mean drift pp", "cost bp/yr", "× monthly"):
            t.add_column(col, justify="left" if col == "policy" else "right")
        for r in rows:
            m = r["metrics"]
            t.add_row(
                r["spec"], f"{m['mean_drift'] * 100:.2f}", f"{m['cost_bp_pa']:.2f}", f"{m['cost_ratio_to_monthly']:.2f}"
            )
        console.print(t)
        fixed = [
            r for r in rows if r["spec"].startswith("band:") and r["metrics"]["mean_drift"] <= monthly["mean_drift"]
        ]
        cheapest = min(fixed, key=lambda r: r["metrics"]["cost_bp_pa"]) if fixed else None
        ca = rows[-1]
        if cheapest:
            console.print(
                f"{name}: cheapest fixed band with no more drift than monthly: {cheapest['spec']} "
                f"{cheapest['metrics']['cost_ratio_to_monthly']:.2f}× monthly; {ca['spec']} "
                f"{ca['metrics']['cost_ratio_to_monthly']:.2f}× monthly "
                f"({ca['metrics']['cost_bp_pa'] / cheapest['metrics']['cost_bp_pa']:.2f}× that band)"
            )
        if args.plot_dir:
            from agent.interfaces import plots

            out = Path(args.plot_dir)
            out.mkdir(parents=True, exist_ok=True)
            plots.backtest_pictures(result, out / f"backtest-{name}.png", None)


if __name__ == "__main__":
    main()

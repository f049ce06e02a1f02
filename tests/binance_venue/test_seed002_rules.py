"""Seed 002's four scenarios with its numbers, and its guards, through the signal rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from agent.core.signals import CASH, Signal, SignalRules, apply

TOTAL = 12_632.0  # seed 002's total value


def weights(**usd: float) -> dict[str, float]:
    return {c: v / TOTAL for c, v in usd.items()}


RULES = SignalRules()  # 20 % min, 25 % target, 40 % max, 15 % floor; positions 5–30 %


def test_scenario_1_initial_rebalance_sells_2449_of_the_weakest_to_reach_20_percent_cash():
    # cash $77 of $12,632; the crypto within the position limits (so only the reserve rule acts)
    now = weights(BTC=3_175, ETH=3_700, SOL=3_462, AVAX=2_218, **{CASH: 77})
    sig = {
        "BTC": Signal("hold", 0.8),
        "ETH": Signal("hold", 0.5),
        "SOL": Signal("hold", 0.6),
        "AVAX": Signal("hold", 0.1),
    }
    out = apply(now, sig, RULES)
    assert out.cash * TOTAL == pytest.approx(2_526.4, abs=0.1)  # seed: cash $2,526 (20 %)
    sold = sum(now[c] - out.weights[c] for c in sig) * TOTAL
    assert sold == pytest.approx(2_449.4, abs=0.1)  # seed: sell $2,449
    assert out.weights["AVAX"] == 0  # the weakest went first ($2,218 of it) …
    assert (now["ETH"] - out.weights["ETH"]) * TOTAL == pytest.approx(2_449.4 - 2_218, abs=0.1)  # … then ETH


def test_scenario_2_a_sell_signal_sells_the_whole_holding_and_cash_waits_for_buy_signals():
    now = weights(BTC=3_175, ETH=4_607, SOL=3_462, AVAX=760, **{CASH: 77}) | {}
    now = {c: v * TOTAL / 12_081 for c, v in now.items()}  # the seed's holdings as its shares of the total
    sig = {"ETH": Signal("sell", -1.0, "MACD bearish")}
    out = apply(now, sig, SignalRules(max_position=0.40))
    assert out.weights["ETH"] == 0
    assert out.cash == pytest.approx(now[CASH] + now["ETH"])  # seed: cash $4,684 (37 %)
    assert out.reasons == ["sell signal (MACD bearish): sell 38.13% of ETH"]


def test_scenario_3_a_strong_buy_spends_the_cash_above_the_20_percent_reserve():
    now = weights(SOL=3_462, AVAX=760, ETH=3_726, **{CASH: 4_684})  # BTC not held: a new position
    out = apply(now, {"BTC": Signal("strong_buy", 1.0, "all strategies bullish")}, RULES)
    assert out.weights["BTC"] * TOTAL == pytest.approx(2_157.6, abs=0.1)  # seed: buy BTC with $2,158
    assert out.cash * TOTAL == pytest.approx(2_526.4, abs=0.1)  # seed: new cash $2,526 (20 %)


def test_scenario_4_rebalance_to_targets_trims_eth_to_30_then_raises_cash_to_20():
    now = {"BTC": 0.25, "ETH": 0.36, "SOL": 0.27, "AVAX": 0.06, CASH: 0.06}
    sig = {
        "BTC": Signal("hold", 0.7),
        "ETH": Signal("hold", 0.4),
        "SOL": Signal("hold", 0.5),
        "AVAX": Signal("hold", 0.1),
    }
    out = apply(now, sig, RULES)
    assert (now["ETH"] - 0.30) * TOTAL == pytest.approx(758, abs=1)  # seed: sell 6 % of ETH → $758
    assert out.weights["AVAX"] == 0  # the weakest holding goes (seed: sell all AVAX → $760)
    assert out.cash == pytest.approx(0.20)  # seed: final cash $2,530 (20 %)
    assert out.cash * TOTAL == pytest.approx(2_526, abs=5)


def test_min_hold_keeps_a_holding_bought_minutes_ago():
    now = {"ETH": 0.3, "BTC": 0.3, CASH: 0.4}
    t = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    out = apply(now, {"ETH": Signal("sell", -1)}, RULES, now=t, last_buy={"ETH": t - timedelta(minutes=3)})
    assert out.weights["ETH"] == 0.3
    assert out.held_back == ["min_hold_minutes: ETH was bought less than 5 min ago; not sold (sell signal)"]
    later = apply(now, {"ETH": Signal("sell", -1)}, RULES, now=t, last_buy={"ETH": t - timedelta(minutes=6)})
    assert later.weights["ETH"] == 0


def test_stop_loss_protection_holds_a_signal_sell_but_not_a_limit_sell():
    now = {"ETH": 0.36, "BTC": 0.24, CASH: 0.40}
    out = apply(now, {"ETH": Signal("sell", -1, "MACD bearish")}, RULES, loss_from_entry={"ETH": 0.12})
    assert out.weights["ETH"] == pytest.approx(0.30)  # the 30 % maximum still applies
    assert out.held_back[0].startswith("stop_loss_protection: ETH is 12.0% under its entry")


def test_the_cash_floor_is_never_crossed_by_a_buy():
    out = apply({"BTC": 0.1, CASH: 0.9}, {"ETH": Signal("strong_buy", 1), "SOL": Signal("buy", 0.5)}, RULES)
    assert out.cash >= RULES.min_cash - 1e-9
    assert out.weights["ETH"] == pytest.approx(0.30) and out.weights["SOL"] == pytest.approx(0.30)


@pytest.mark.parametrize("bad", [dict(min_cash=0.5, target_cash=0.25), dict(min_position=0.4)])
def test_inconsistent_rules_are_refused(bad):
    with pytest.raises(ValueError):
        SignalRules(**bad)

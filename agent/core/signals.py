"""Signal rules: a target from the holdings, their strategy signals and a cash reserve.

Inputs: the current weights (cash included), a :class:`Signal` per asset (``sell``, ``hold``, ``buy`` or
``strong_buy``, and a score: higher is stronger), and :class:`SignalRules`. The rules, in order:

1. **Sell on signal**: a holding with a ``sell`` signal goes to cash, unless a guard holds it (below).
2. **Position limits**: a holding above ``max_position`` comes down to it; one below ``min_position`` is sold.
3. **Cash reserve**: while cash is under ``min_cash``, the weakest holdings (lowest score first, never one with
   a ``buy`` signal while another remains) are sold until cash reaches ``min_cash``; the reserve never goes
   below ``cash_floor``.
4. **Buy on signal**: when cash is above ``target_cash``, the cash above ``min_cash`` (buys may use the excess
   down to the minimum reserve) goes to ``strong_buy`` assets (equally, each up to ``max_position``); above
   ``max_cash``, ``buy`` signals qualify too.

Guards (each named in the reasons when it holds a trade back):

- ``min_hold_minutes``: a holding bought less than this ago is not sold (the time of its last buy);
- ``stop_loss_protection``: no *signal* sell while a holding is more than this fraction under its entry price
  (it waits for recovery or the stop-loss); limit and reserve sells still happen.

Pure: weights in, weights and reasons out. The planner turns the target into trades; its ``max_trades``
spreads a large rebalance over several cycles.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

SignalKind = Literal["sell", "hold", "buy", "strong_buy"]
CASH = "USDC"
EPS = 1e-9


@dataclass(frozen=True)
class Signal:
    kind: SignalKind = "hold"
    score: float = 0.0
    why: str = ""


@dataclass(frozen=True)
class SignalRules:
    min_cash: float = 0.20
    target_cash: float = 0.25
    max_cash: float = 0.40
    cash_floor: float = 0.15
    min_position: float = 0.05
    max_position: float = 0.30
    sell_on_signal: bool = True
    min_hold_minutes: float = 5.0
    stop_loss_protection: float | None = 0.10

    def __post_init__(self) -> None:
        if not 0 <= self.cash_floor <= self.min_cash <= self.target_cash <= self.max_cash <= 1:
            raise ValueError("cash bounds must satisfy 0 ≤ floor ≤ min ≤ target ≤ max ≤ 1")
        if not 0 <= self.min_position <= self.max_position <= 1:
            raise ValueError("position bounds must satisfy 0 ≤ min ≤ max ≤ 1")


@dataclass
class SignalTarget:
    weights: dict[str, float]
    reasons: list[str] = field(default_factory=list)
    held_back: list[str] = field(default_factory=list)

    @property
    def cash(self) -> float:
        return self.weights.get(CASH, 0.0)


def apply(
    current: dict[str, float],
    signals: dict[str, Signal],
    rules: SignalRules,
    *,
    now: datetime | None = None,
    last_buy: dict[str, datetime] | None = None,
    loss_from_entry: dict[str, float] | None = None,
) -> SignalTarget:
    """The target weights (``USDC`` = cash) that the signal rules give from ``current`` weights."""
    w = {c: max(0.0, x) for c, x in current.items() if c != CASH}
    cash = max(0.0, current.get(CASH, 1.0 - sum(w.values())))
    out = SignalTarget(weights={})
    last_buy, loss_from_entry = last_buy or {}, loss_from_entry or {}

    def recently_bought(c: str) -> bool:
        t = last_buy.get(c)
        return now is not None and t is not None and now - t < timedelta(minutes=rules.min_hold_minutes)

    def sell(c: str, amount: float, why: str) -> float:
        nonlocal cash
        if recently_bought(c):
            out.held_back.append(
                f"min_hold_minutes: {c} was bought less than {rules.min_hold_minutes:g} min ago; not sold ({why})"
            )
            return 0.0
        amount = min(amount, w[c])
        w[c] -= amount
        cash += amount
        out.reasons.append(f"{why}: sell {amount:.2%} of {c}")
        return amount

    # 1. sell on signal (guarded by the stop-loss protection)
    if rules.sell_on_signal:
        for c in sorted(w):
            s = signals.get(c, Signal())
            if s.kind != "sell" or w[c] <= EPS:
                continue
            down = loss_from_entry.get(c, 0.0)
            if rules.stop_loss_protection is not None and down > rules.stop_loss_protection:
                out.held_back.append(
                    f"stop_loss_protection: {c} is {down:.1%} under its entry; no signal sell "
                    f"({s.why or 'sell signal'})"
                )
                continue
            sell(c, w[c], f"sell signal{f' ({s.why})' if s.why else ''}")
    # 2. position limits
    for c in sorted(w):
        if w[c] > rules.max_position + EPS:
            sell(c, w[c] - rules.max_position, f"over the {rules.max_position:.0%} maximum")
        elif EPS < w[c] < rules.min_position - EPS:
            sell(c, w[c], f"under the {rules.min_position:.0%} minimum")
    # 3. the cash reserve: sell the weakest first
    if cash < rules.min_cash - EPS:
        order = sorted(
            (c for c in w if w[c] > EPS),
            key=lambda c: (signals.get(c, Signal()).kind in ("buy", "strong_buy"), signals.get(c, Signal()).score, c),
        )
        for c in order:
            need = rules.min_cash - cash
            if need <= EPS:
                break
            sell(c, min(need, w[c]), f"cash {cash:.1%} under the {rules.min_cash:.0%} reserve (weakest signal)")
        if cash < rules.cash_floor - EPS:
            out.held_back.append(
                f"cash {cash:.1%} stays under the {rules.cash_floor:.0%} floor: nothing more can be sold"
            )
    # 4. buy on signal with the cash above the reserve
    elif cash > rules.target_cash + EPS:
        kinds = ("strong_buy", "buy") if cash > rules.max_cash + EPS else ("strong_buy",)
        buys = sorted((c for c, s in signals.items() if s.kind in kinds), key=lambda c: -signals[c].score)
        spend = cash - rules.min_cash
        room = {c: max(0.0, rules.max_position - w.get(c, 0.0)) for c in buys}
        while spend > EPS and any(r > EPS for r in room.values()):
            open_ = [c for c in buys if room[c] > EPS]
            each = spend / len(open_)
            for c in open_:
                add = min(each, room[c])
                w[c] = w.get(c, 0.0) + add
                room[c] -= add
                spend -= add
                cash -= add
        for c in buys:
            if w.get(c, 0.0) > current.get(c, 0.0) + EPS:
                out.reasons.append(
                    f"{signals[c].kind.replace('_', ' ')} signal: buy {w[c] - current.get(c, 0.0):.2%}"
                    f" of {c} with the cash above the {rules.min_cash:.0%} reserve"
                )
    out.weights = {**{c: round(x, 12) for c, x in w.items()}, CASH: round(max(0.0, cash), 12)}
    return out


# -- signals from daily closes ----------------------------------------------------------------------


def _ema(x: list[float], span: int) -> list[float]:
    a, out = 2.0 / (span + 1), [x[0]]
    for v in x[1:]:
        out.append(a * v + (1 - a) * out[-1])
    return out


def from_closes(closes: list[float]) -> Signal:
    """An asset's signal from its daily closes (oldest first; at least 60 days, else ``hold``):

    - ``sell``: the MACD (12, 26) crossed under its 9-day signal line within the last 3 days, below zero;
    - ``strong_buy``: 30-day momentum (return over its volatility) above 1, the close above its 50-day mean
      and the MACD above its signal line; ``buy``: momentum above 0.5 and the close above its 50-day mean;
    - score: the 90-day (or available) return over its volatility, the strength the reserve rule ranks by.
    """
    xs = [float(v) for v in closes if v == v and v > 0]
    if len(xs) < 60:
        return Signal("hold", 0.0, "not enough history")
    rets = [xs[i] / xs[i - 1] - 1 for i in range(1, len(xs))]

    def ratio(n: int) -> float:
        r = rets[-n:]
        mean = sum(r) / len(r)
        vol = (sum((v - mean) ** 2 for v in r) / max(1, len(r) - 1)) ** 0.5
        total = xs[-1] / xs[-n - 1] - 1
        return total / (vol * len(r) ** 0.5) if vol > 0 else 0.0

    macd = [a - b for a, b in zip(_ema(xs, 12), _ema(xs, 26), strict=True)]
    line = _ema(macd, 9)
    crossed_down = any(macd[-k - 1] >= line[-k - 1] and macd[-k] < line[-k] for k in (1, 2, 3))
    momentum, score = ratio(30), ratio(min(90, len(rets)))
    above = xs[-1] > sum(xs[-50:]) / 50
    if crossed_down and macd[-1] < 0:
        return Signal("sell", score, "MACD bearish cross")
    if momentum > 1.0 and above and macd[-1] > line[-1]:
        return Signal("strong_buy", score, f"momentum {momentum:.2f}, above the 50-day mean, MACD rising")
    if momentum > 0.5 and above:
        return Signal("buy", score, f"momentum {momentum:.2f}, above the 50-day mean")
    return Signal("hold", score, f"momentum {momentum:.2f}")

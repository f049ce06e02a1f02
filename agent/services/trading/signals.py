"""The signal rules as a target source: each holding's signal from its daily closes, the last buy of each
asset (``min_hold_minutes``) and how far each is under its entry (``stop_loss_protection``) from the account's
fills, then :func:`agent.core.signals.apply`. Used when ``[signals] enabled`` and no target is given,
configured or stored (instead of the strategist); every plan made from it says ``target_source = "signals"``
and names the rules that held a trade back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import numpy as np

from agent.core import signals as rules
from agent.core.domain import CASH, Market, PortfolioState, TargetAllocation
from agent.core.errors import ExchangeError
from agent.services.market_history import daily_history

if TYPE_CHECKING:
    from agent.services.context import AccountContext

HISTORY_DAYS = 120
FILLS_LOOKBACK = timedelta(days=90)


def signal_target(acct: AccountContext, state: PortfolioState, market: Market) -> tuple[TargetAllocation, list[str]]:
    """The rules' target from the holdings now, and the lines that explain it (reasons and guards)."""
    cfg = acct.settings.signals
    current = {c: w for c, w in state.weights(market).items() if c == CASH or w > 0}
    held = [c for c in current if c != CASH and c in market.assets]
    candidates = sorted(set(held) | {c for c, i in market.assets.items() if i.market == "spot"} - {CASH})
    hist = daily_history(acct, candidates, HISTORY_DAYS, market) if candidates else None
    sigs: dict[str, rules.Signal] = {}
    if hist is not None:
        for j, coin in enumerate(hist.table.coins):
            col = hist.table.close[:, j]
            sigs[coin] = rules.from_closes([float(v) for v in col if np.isfinite(v)])
    now = acct.clock()
    last_buy: dict[str, datetime] = {}
    loss: dict[str, float] = {}
    try:
        fills = acct.exchange.fills_since(int((now - FILLS_LOOKBACK).timestamp() * 1000))
    except ExchangeError:
        fills = []
    by_wire = {i.wire_name: c for c, i in market.assets.items()}
    cost: dict[str, list[float]] = {}
    for f in fills:
        coin = by_wire.get(f.coin, f.coin)
        if f.side == "B":
            t = datetime.fromtimestamp(f.time / 1000, UTC)
            last_buy[coin] = max(last_buy.get(coin, t), t)
            q = cost.setdefault(coin, [0.0, 0.0])
            q[0] += f.px * f.sz
            q[1] += f.sz
    for coin, (usd, qty) in cost.items():
        if qty > 0 and coin in market.assets:
            entry = usd / qty  # the average buy price of the window (the seed's entry when known)
            loss[coin] = max(0.0, 1 - market.assets[coin].mid / entry)
    r = cfg.rules()
    out = rules.apply(current, sigs, r, now=now, last_buy=last_buy, loss_from_entry=loss)
    weights = {c: w for c, w in out.weights.items() if w > 1e-9 or c in held}
    why = [*out.reasons, *out.held_back] or ["signal rules: holdings and cash within their bounds"]
    named = ", ".join(f"{c} {s.kind}" for c, s in sorted(sigs.items()) if s.kind != "hold")
    reasoning = "signal rules" + (f" ({named})" if named else "") + ": " + "; ".join(why)
    return TargetAllocation(allocations=weights, strategy_id="signal-rules", reasoning=reasoning), out.held_back

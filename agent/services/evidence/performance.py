"""Performance of the real account: returns, risk, fees, funding, realised PnL, turnover, per-asset contribution.

``performance(svc, days=30)`` is the one call (CLI ``performance``, MCP ``get_performance``). It reads
Hyperliquid's ``portfolio`` (account value and PnL history), ``userFills`` and ``userFunding`` through the
read port, and fills in each recorded cycle's realised 7-day return (shown in the history) from that value history:
PnL over the 7 days after the cycle started, over the value then (deposits are not returns).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from agent.core import performance as core
from agent.core.errors import ValidationError
from agent.services.ports import HistoryPort

if TYPE_CHECKING:
    from agent.services.app import Services

RETURN_DAYS = 7
SLACK_MS = 3_600_000


def performance(svc: Services, days: int = 30) -> dict[str, Any]:
    if not isinstance(days, int) or not 1 <= days <= 3650:
        raise ValidationError("days must be between 1 and 3650")
    ex = svc.exchange
    if not isinstance(ex, HistoryPort):
        raise ValidationError(
            "performance needs the exchange's account history (Hyperliquid or the local stand-in), "
            "not a snapshot or paper account"
        )
    now = svc.clock()
    now_ms = int(now.timestamp() * 1000)
    series = ex.value_history()
    start_ms = now_ms - days * core.DAY_MS
    fills = ex.fills_since(start_ms)
    funding = ex.funding_since(start_ms)
    state, market = svc.observe()
    names = {info.wire_name: coin for coin, info in market.assets.items()}
    unrealized = {c: p.unrealized_pnl for c, p in state.positions.items() if p.unrealized_pnl}
    out = core.report(series, fills, funding, now_ms=now_ms, days=days, unrealized=unrealized, names=names)
    out["cycles_filled"] = fill_cycle_returns(svc, series)
    out["as_of"] = now.isoformat()
    out["source"] = "the exchange's account history (portfolio, userFills, userFunding)"
    return out


def fill_cycle_returns(svc: Services, series: core.Series | None = None) -> int:
    """The realised 7-day return of every cycle at least 7 days old, from the value history."""
    before = (svc.clock() - timedelta(days=RETURN_DAYS)).isoformat()
    pending = svc.store.cycles.missing_returns(before)
    if not pending:
        return 0
    if series is None:
        if not isinstance(svc.exchange, HistoryPort):
            return svc.store.cycles.fill_returns(RETURN_DAYS)
        series = svc.exchange.value_history()
    filled = 0
    span = RETURN_DAYS * core.DAY_MS
    for row in pending:
        t0 = int(datetime.fromisoformat(row["started_at"]).timestamp() * 1000)
        pts = core.covering(series, t0, span)
        if pts and 0 < pts[0].ms - t0 <= SLACK_MS:  # the history's first sample came just after the cycle began
            t0 = pts[0].ms
        r = core.window_return(pts, t0, t0 + RETURN_DAYS * core.DAY_MS)
        if r is not None:
            svc.store.cycles.update(row["id"], return_7d=r)
            filled += 1
    return filled

"""Correlation and risk monitors: what the holdings do together, and drawdown protection.

- ``risk_report(svc)``: the rolling correlation matrix of the held assets' daily returns over
  ``[risk] correlation_window`` days (the exchange's candles; the shipped history offline), the average
  pairwise correlation (plain and weighted by |w_i·w_j|), the drawdown from the recorded peak, and
  whether either passes its limit. CLI ``rebalancer risk``, MCP ``get_risk``.

The rules themselves (the drawdown clamp every plan goes through, the heartbeat's correlation trigger) are
:mod:`agent.services.trading.guards`; this module reports them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agent.core.protection import drawdown
from agent.services.trading.guards import correlation_of, peak_equity

if TYPE_CHECKING:
    from agent.services.app import Services


def risk_report(svc: Services) -> dict[str, Any]:
    """Correlation of the holdings and drawdown, each against its configured limit."""
    state, market = svc.observe()
    equity = state.equity(market)
    cfg = svc.settings.risk
    corr = correlation_of(svc.context, state, market)
    peak = peak_equity(svc.context, equity)
    dd = drawdown(peak, equity)
    avg = corr["weighted_average"]
    return {
        "correlation": corr,
        "max_correlation": cfg.max_correlation,
        "correlation_breach": avg is not None and avg > cfg.max_correlation,
        "equity": equity,
        "peak_equity": peak,
        "drawdown": dd,
        "max_drawdown": cfg.max_drawdown,
        "drawdown_exposure": cfg.drawdown_exposure,
        "drawdown_protection_active": cfg.max_drawdown is not None and dd >= cfg.max_drawdown,
        "as_of": market.timestamp.isoformat(),
    }

"""The risk rules trading applies on its own: the drawdown clamp every plan goes through, and the heartbeat's
correlation trigger (its alert has the alerter's cooldown).

- ``protect(acct, target, equity)``: the drawdown clamp (``agent.core.protection``) from the recorded peak;
- ``correlation_breach(acct, state, market)``: a message when the holdings' weighted average pairwise
  correlation passes ``[risk] max_correlation``.

The peak is the highest equity a heartbeat tick or a plan has recorded (``peak_equity``). The report that
shows both (``rebalancer risk``) is :mod:`agent.services.evidence.risk`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from agent.core.domain import CASH, Market, PortfolioState, TargetAllocation
from agent.core.metrics import average_pairwise, correlation
from agent.core.protection import clamp_for_drawdown, drawdown
from agent.services.market_history import daily_history

if TYPE_CHECKING:
    from agent.services.context import AccountContext


def peak_equity(acct: AccountContext, equity: float) -> float:
    return max(float(acct.store.records.get("peak_equity", 0.0) or 0.0), equity)


def correlation_of(acct: AccountContext, state: PortfolioState, market: Market) -> dict[str, Any]:
    weights = {c: w for c, w in state.weights(market).items() if c != CASH and abs(w) > 1e-9}
    coins = sorted(weights)
    window = acct.settings.risk.correlation_window
    hist = daily_history(acct, coins, window, market) if coins else None
    table = hist.table if hist else None
    if table is None or len(table.dates) < 4 or len(table.coins) < 2:
        return {
            "coins": list(table.coins) if table else coins,
            "matrix": [],
            "average": None,
            "weighted_average": None,
            "window_days": window,
            "history_source": hist.source if hist else None,
            "left_out": list(hist.missing) if hist else [],
        }
    r = np.diff(np.log(table.close), axis=0)
    corr = correlation(r)
    w = np.array([weights[c] for c in table.coins])
    return {
        "coins": list(table.coins),
        "matrix": np.round(corr, 4).tolist(),
        "average": average_pairwise(corr),
        "weighted_average": average_pairwise(corr, w),
        "window_days": len(table.dates) - 1,
        "window": {"start": table.dates[0].isoformat(), "end": table.dates[-1].isoformat()},
        "history_source": hist.source if hist else None,
        "left_out": list(hist.missing) if hist else [],
        "as_of": hist.as_of.isoformat() if hist and hist.as_of else None,
        "source": hist.source if hist else None,
    }


def correlation_breach(acct: AccountContext, state: PortfolioState, market: Market) -> str | None:
    """The heartbeat's trigger: a message when the holdings' weighted average correlation passes the limit."""
    corr = correlation_of(acct, state, market)
    avg, limit = corr["weighted_average"], acct.settings.risk.max_correlation
    if avg is None or avg <= limit:
        return None
    return f"average pairwise correlation {avg:.2f} of {', '.join(corr['coins'])} is above {limit:.2f}"


def protect(acct: AccountContext, target: TargetAllocation, equity: float) -> tuple[TargetAllocation, str | None]:
    """The drawdown clamp on ``target`` (see ``agent.core.protection``)."""
    cfg = acct.settings.risk
    dd = drawdown(peak_equity(acct, equity), equity)
    return clamp_for_drawdown(target, dd, cfg.max_drawdown, cfg.drawdown_exposure)

"""The sensitivity panel: the account as held against the account rebalanced, over the last 90 days.

The computation belongs to the services (``Services.sensitivity``: the last ``DAYS`` days of real closes,
the holdings as they are against the target); this module only draws what it returns. Where the services
cannot compute it (no target, no history for a held coin) the panel says why it is not available.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from markupsafe import Markup

from agent.core.errors import RebalancerError
from agent.core.text import safe
from agent.interfaces.web.charts import line_chart

if TYPE_CHECKING:
    from agent.core.domain import Market, RebalancingPlan
    from agent.services.app import Services

DAYS = 90


@dataclass(frozen=True)
class Series:
    """Daily account value held as is (``current``) and rebalanced to the target (``rebalanced``)."""

    current: Sequence[tuple[datetime, float]]
    rebalanced: Sequence[tuple[datetime, float]]
    note: str = ""


def series(svc: Services, plan: RebalancingPlan | None = None, market: Market | None = None) -> Series | str:
    """The services' sensitivity for the last ``DAYS`` days of ``plan`` (the one the page shows), or why there
    is none."""
    try:
        found = svc.sensitivity(days=DAYS, plan=plan, market=market)
    except RebalancerError as e:
        return safe(str(e))
    paths = found["paths"]
    dates = [datetime.fromisoformat(d) for d in paths["dates"]]
    return Series(  # drawn as the growth of $100
        current=[(d, 100 * v) for d, v in zip(dates, paths["current"], strict=True)],
        rebalanced=[(d, 100 * v) for d, v in zip(dates, paths["rebalanced"], strict=True)],
        note=f"{found['summary'].rstrip('. ')}. Market data as of {found.get('as_of') or '?'} "
        f"({found.get('source') or '?'}).",
    )


def panel(svc: Services, plan: RebalancingPlan | None = None, market: Market | None = None) -> dict[str, object]:
    found = series(svc, plan, market)
    if isinstance(found, str):
        message = f"Sensitivity ({DAYS} days, current against rebalanced): not available ({found})."
        return {"available": False, "message": message}
    chart: Markup = line_chart(
        {"as held": found.current, "rebalanced": found.rebalanced},
        title=f"$100 held as is against rebalanced, last {DAYS} days",
    )
    return {"available": True, "chart": chart, "note": found.note}

"""The sensitivity panel (seed 000): the account as held against the account rebalanced, over the last 90 days.

The computation belongs to the services (the evidence issue's ``sensitivity``); this module only draws
what it returns. Until the services offer it, the panel says "not available yet". Wiring it in is one
change, in :func:`series`: return ``Series`` built from ``svc.sensitivity(days=DAYS)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from markupsafe import Markup

from agent.interfaces.web.charts import line_chart

if TYPE_CHECKING:
    from agent.services.app import Services

DAYS = 90


@dataclass(frozen=True)
class Series:
    """Daily account value held as is (``current``) and rebalanced to the target (``rebalanced``)."""

    current: Sequence[tuple[datetime, float]]
    rebalanced: Sequence[tuple[datetime, float]]
    note: str = ""


def series(svc: Services) -> Series | None:
    """The services' sensitivity for the last ``DAYS`` days; None while the services have none."""
    return None  # the one change: return Series(...) from svc.sensitivity(days=DAYS)


def panel(svc: Services) -> dict[str, object]:
    found = series(svc)
    if found is None:
        message = f"Sensitivity ({DAYS} days, current against rebalanced): not available yet."
        return {"available": False, "message": message}
    chart: Markup = line_chart(
        {"as held": found.current, "rebalanced": found.rebalanced},
        title=f"Current against rebalanced, last {DAYS} days",
    )
    return {"available": True, "chart": chart, "note": found.note}

"""Recorded strategist decisions → a cassette that ``backtest --policy strategist:cassette=FILE`` replays.

A cassette is a JSON list of ``{"date": "YYYY-MM-DD", "target_allocation": {…}, "selected_strategy": …,
"reasoning": …}``, oldest first, each target in force from its date. Only decisions that produced a target
(status ``ok``) go in; of several on one day, the last one made that day (as the live loop would have kept it).
A decision's date is the UTC day it was recorded.
"""

from __future__ import annotations

from typing import Any

from agent.core.errors import ValidationError

MAX_DECISIONS = 100_000


def cassette_from_decisions(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Decision rows as the store returns them (any order) → the cassette's entries, oldest first."""
    by_day: dict[str, tuple[tuple[str, int], dict[str, Any]]] = {}
    for r in rows:
        if r.get("status") != "ok" or not r.get("target"):
            continue
        when = str(r["created_at"])
        key = (when, int(r.get("id") or 0))
        day = when[:10]
        entry = {
            "date": day,
            "target_allocation": dict(r["target"]),
            "selected_strategy": r.get("selected_strategy"),
            "reasoning": r.get("reasoning") or "",
            "provider": r.get("provider"),
            "model": r.get("model"),
        }
        if day not in by_day or key > by_day[day][0]:
            by_day[day] = (key, entry)
    return [by_day[d][1] for d in sorted(by_day)]


def recorded_cassette(records: Any) -> list[dict[str, Any]]:
    """Every recorded decision of this account's store (``records``: its decision records) as a cassette."""
    entries = cassette_from_decisions(records.decisions(limit=MAX_DECISIONS))
    if not entries:
        raise ValidationError("no recorded decision with a target yet (run `rebalancer decide` first)")
    return entries

"""The default strategist's backtested figures, as the benchmark computed and shipped them.

``benchmarks/strategist_baselines.py --write`` stores them in ``agent/data/strategist_backtest.json`` with
the date it ran; nothing here runs a backtest (a preview must not wait seconds for one). The figures are of
the rule as shipped (``trend-following``), so they are quoted only when that rule set the target.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib.resources import files
from typing import Any

RULE = "trend-following"


@lru_cache(maxsize=1)
def shipped() -> dict[str, Any] | None:
    """The stored figures, or None when the file is missing or unreadable (the line is then left out)."""
    try:
        data = json.loads((files("agent") / "data" / "strategist_backtest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and isinstance(data.get("histories"), dict) else None


def _fig(m: dict[str, Any]) -> str:
    return f"{m['cagr']:+.1%}/yr, Sharpe {m['sharpe']:.2f}, max DD {m['max_drawdown']:.0%}"


def backtest_line() -> str | None:
    """``backtest 2018-01-01–2026-04-26 (computed DAY): <history> +x%/yr, Sharpe y, max DD z% vs equal weight …``."""
    data = shipped()
    if data is None:
        return None
    parts = []
    span = None
    try:
        for name, h in data["histories"].items():
            p = h["policies"]
            span = f"{h['window']['start']}–{h['window']['end']}"
            label = name.split(",")[0]
            parts.append(f"{label} {_fig(p['strategist:offline'])} vs equal weight {_fig(p['equal weight (monthly)'])}")
    except (KeyError, TypeError, ValueError):
        return None
    if not parts:
        return None
    return f"backtest {span} (computed {data.get('computed', '?')}, monthly decisions): " + "; ".join(parts)

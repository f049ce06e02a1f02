"""The planner's rebalancing modes, by name (a module of its own so the command line can list them cheaply)."""

from __future__ import annotations

from typing import Literal

Mode = Literal["threshold", "band", "calendar", "cash-flow", "cost-aware"]
MODES: tuple[Mode, ...] = ("threshold", "band", "calendar", "cash-flow", "cost-aware")

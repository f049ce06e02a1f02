"""Durations as people write them: ``90s``, ``15m``, ``4h``, ``3d``, ``1w``."""

from __future__ import annotations

import math
import re
from datetime import timedelta

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str | int | float) -> timedelta:
    """'90s', '15m', '4h', '3d', '1w' (or seconds as a number) → timedelta."""
    if isinstance(text, int | float):
        seconds = float(text)
    else:
        m = _DURATION.match(text)
        if not m:
            raise ValueError(f"{text!r} is not a duration like 90s, 15m, 4h, 3d or 1w")
        seconds = float(m.group(1)) * _UNITS[m.group(2)]
    if not math.isfinite(seconds) or seconds <= 0:
        raise ValueError("a duration must be positive")
    return timedelta(seconds=seconds)

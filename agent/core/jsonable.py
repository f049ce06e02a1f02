"""Values made plain JSON, the one way every boundary does it (tool results, model tool data, reports).

Pydantic models are dumped in JSON mode, dataclasses become dicts, mappings get string keys, sequences
and sets become lists, non-finite floats become ``null`` (JSON has no NaN), a ``timedelta`` its seconds,
dates and times ISO text, anything else its string form.

Example::

    >>> from datetime import UTC, datetime, timedelta
    >>> jsonable({"at": datetime(2026, 1, 2, tzinfo=UTC), "gap": timedelta(minutes=1), "x": float("nan")})
    {'at': '2026-01-02T00:00:00+00:00', 'gap': 60.0, 'x': None}
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from datetime import date, time, timedelta
from typing import Any

from pydantic import BaseModel


def jsonable(value: Any) -> Any:
    """``value`` as plain JSON types (see the module's rules)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, str | int | bool):
        return value
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    if isinstance(value, BaseModel):
        return jsonable(value.model_dump(mode="json"))
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return jsonable(dataclasses.asdict(value))
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)

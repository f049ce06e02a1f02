"""What every repository of the store writes into a row: the time now, and JSON text.

The repositories import these from here, not from :mod:`agent.adapters.store.db`, so the database
module can import its repositories without a cycle.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any


def now_iso() -> str:
    """The current UTC time as ISO text with milliseconds, the format of every ``*_at`` column."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def dumps(value: Any) -> str:
    """``value`` as JSON text with sorted keys (values JSON cannot hold are written as text)."""
    return json.dumps(value, default=str, sort_keys=True)

"""Which IOC outcomes are worth another attempt, and how many.

- An IOC that matched nothing ("could not immediately match") is tried again at a fresh protected price
  (the current mid × (1 ± max_slippage), never past the plan's slippage bound), a bounded number of times.
- "Only post-only orders allowed immediately after a network upgrade" is temporary: tried again after a
  short wait, also bounded.

Every retry is a new attempt of the executor: a new deterministic cloid, journaled before it is sent, and
an unknown outcome looked up by cloid before anything else (the executor's own rules).
"""

from __future__ import annotations

RETRYABLE = {
    "could not immediately match": "miss",
    "only post-only orders allowed immediately after a network upgrade": "upgrade",
}


def retry_kind(error: str | None) -> str | None:
    """``"miss"``, ``"upgrade"`` or None for an order error."""
    text = (error or "").lower()
    return next((kind for needle, kind in RETRYABLE.items() if needle in text), None)

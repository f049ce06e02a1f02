"""The same account in another mode: a snapshot rewritten as standard, unified or portfolio margin.

Moving a standard account to unified mode moves its perp cash into the spot USDC balance; its positions,
their entry prices and so its equity do not change. Going back to standard, ``perp_usdc`` says how much
of the USDC becomes perp margin. The answers are rendered by the stand-in itself in the new mode's
shapes (see :mod:`agent.standin.unified`), so the snapshot reads exactly as the stand-in serves it.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from agent.standin import views
from agent.standin.engine import ABSTRACTIONS, StandIn
from agent.standin.rules import ZERO


def with_mode(snapshot: Mapping[str, Any], mode: str, *, perp_usdc: Decimal = ZERO) -> dict[str, Any]:
    """``snapshot`` as the same account in ``mode`` (a ``userAbstraction`` value)."""
    if mode not in ABSTRACTIONS:
        raise ValueError(f"unknown account mode {mode!r}")
    out = copy.deepcopy(dict(snapshot))
    time_ms = out.get("time")
    kwargs: dict[str, Any] = {"clock": (lambda: time_ms / 1000)} if isinstance(time_ms, int) else {}
    ex = StandIn.from_snapshot(out, **kwargs)
    ex.account.abstraction = mode
    if perp_usdc and not ex.account.unified:
        ex.account.balances[0].total -= perp_usdc
        ex.account.raw_usd += perp_usdc
    if mode in ("disabled", "default") and "userAbstraction" in out:
        del out["userAbstraction"]  # a snapshot without it is a standard account
    else:
        out["userAbstraction"] = mode
    out["clearinghouseState"] = views.clearinghouse_state(ex, {}, True)
    out["spotClearinghouseState"] = views.spot_clearinghouse_state(ex, {}, True)
    for dex, answers in (out.get("dexes") or {}).items():
        answers["clearinghouseState"] = views.clearinghouse_state(ex, {"dex": dex}, True)
    served = StandIn.from_snapshot(out, **kwargs)  # as the stand-in reads it back: the ledgers it seeds
    out["clearinghouseState"] = views.clearinghouse_state(served, {}, True)
    out["spotClearinghouseState"] = views.spot_clearinghouse_state(served, {}, True)
    for dex, answers in (out.get("dexes") or {}).items():
        answers["clearinghouseState"] = views.clearinghouse_state(served, {"dex": dex}, True)
    return out

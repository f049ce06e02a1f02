"""Open orders and cancelling them, under the same execution mode as the executor.

In dry-run (or on a snapshot) nothing reaches the exchange: the cancel is recorded as what it would have
done. Every cancel is recorded as an alert.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agent.services.context import AccountContext


@dataclass
class CancelResult:
    cancelled: list[dict[str, Any]] = field(default_factory=list)
    sent: bool = True
    note: str = ""

    @property
    def count(self) -> int:
        return len(self.cancelled)


def cancel_open_orders(ctx: AccountContext) -> CancelResult:
    """Cancel every open order on the account; returns what was (or, in dry-run, would be) cancelled."""
    found = ctx.exchange.open_orders()
    rows = [{"coin": o.coin, "oid": o.oid, "side": o.side, "size": o.sz, "limit_px": o.limit_px} for o in found]
    if ctx.trade is None:
        note = f"{ctx.settings.execution_mode}: would cancel {len(rows)} open orders; nothing was sent"
        ctx.store.records.add_alert("cancel", note)
        return CancelResult(cancelled=rows, sent=False, note=note)
    done = [r for o, r in zip(found, rows, strict=True) if ctx.trade.cancel(o.coin, o.oid)]
    note = f"cancelled {len(done)} of {len(rows)} open orders"
    ctx.store.records.add_alert("cancel", note)
    return CancelResult(cancelled=done, sent=True, note=note)

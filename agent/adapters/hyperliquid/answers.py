"""Reading Hyperliquid's answers about orders: /exchange order statuses, ``orderStatus`` lookups, fills, open orders.

``/exchange`` answering ``status: "ok"`` is not success: each order has its own status (``resting``,
``filled`` with ``totalSz``/``avgPx``/``oid``, or ``error``); a whole request can fail with ``status: "err"``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from agent.adapters.hyperliquid.parsing import number
from agent.core.errors import OrderOutcomeUnknown, SnapshotError
from agent.core.orders import Fill, OpenOrder, OrderIntent, OrderResult

_f = number  # a finite float from an exchange answer, or SnapshotError naming the field


def _unparseable(resp: Any) -> bool:
    return isinstance(resp, dict) and set(resp) == {"error"} and str(resp["error"]).startswith("Could not parse JSON")


# -- answer classification (pure, reused by tests on recorded answers) ----------------------------------


def classify_order_answer(answer: Any, orders: list[OrderIntent]) -> list[OrderResult]:
    """An /exchange ``order`` answer → one result per order; raises OrderOutcomeUnknown if unreadable."""
    if _unparseable(answer) or not isinstance(answer, Mapping):
        raise OrderOutcomeUnknown(f"unreadable /exchange answer: {str(answer)[:200]}")
    status = answer.get("status")
    if status == "err":
        text = str(answer.get("response"))
        return [
            OrderResult(cloid=o.cloid, status="rejected", error=text, requested_sz=o.size, raw_status="err")
            for o in orders
        ]
    if status != "ok":
        raise OrderOutcomeUnknown(f"unexpected /exchange status {status!r}")
    try:
        statuses = answer["response"]["data"]["statuses"]
    except (KeyError, TypeError):
        raise OrderOutcomeUnknown("/exchange answer without per-order statuses") from None
    if not isinstance(statuses, list) or len(statuses) != len(orders):
        raise OrderOutcomeUnknown(f"/exchange answered {len(statuses)} statuses for {len(orders)} orders")
    return [classify_order_status(s, o) for s, o in zip(statuses, orders, strict=True)]


def classify_order_status(entry: Any, order: OrderIntent) -> OrderResult:
    """One per-order status entry (``resting`` / ``filled`` / ``error`` / a bare string)."""
    base = {"cloid": order.cloid, "requested_sz": order.size}
    if isinstance(entry, Mapping):
        if "error" in entry:
            return OrderResult(**base, status="rejected", error=str(entry["error"]), raw_status="error")
        if "filled" in entry:
            f = entry["filled"]
            total = _f(f.get("totalSz"), "filled.totalSz")
            avg = _f(f.get("avgPx"), "filled.avgPx")
            oid = int(f["oid"]) if f.get("oid") is not None else None
            full = total >= order.size * (1 - 1e-9) - 1e-12
            status = "filled" if full else "partial"
            return OrderResult(**base, status=status, oid=oid, filled_sz=total, avg_px=avg, raw_status="filled")
        if "resting" in entry:
            r = entry["resting"]
            oid = int(r["oid"]) if "oid" in r else None
            return OrderResult(**base, status="resting", oid=oid, raw_status="resting")
    if entry in ("waitingForFill", "waitingForTrigger"):
        return OrderResult(**base, status="resting", raw_status=str(entry))
    return OrderResult(**base, status="unknown", error=f"unrecognised order status {str(entry)[:100]}")


_REJECTED_WORDS = ("rejected", "Rejected")


def classify_order_lookup(answer: Any, cloid: str, fills: list[Fill] | None = None) -> OrderResult | None:
    """An ``orderStatus`` answer → a result, or None for ``unknownOid`` (the exchange never saw it)."""
    if not isinstance(answer, Mapping):
        raise SnapshotError(f"orderStatus: unexpected answer {str(answer)[:200]}")
    if answer.get("status") == "unknownOid":
        return None
    if answer.get("status") != "order":
        raise SnapshotError(f"orderStatus: unexpected status {answer.get('status')!r}")
    wrapper = answer["order"]
    order, word = wrapper["order"], str(wrapper["status"])
    orig = _f(order.get("origSz", order.get("sz")), "orderStatus.origSz")
    remaining = _f(order.get("sz", 0), "orderStatus.sz")
    filled = max(0.0, orig - remaining)
    oid = int(order["oid"])
    own = [f for f in fills or [] if f.oid == oid]
    avg = sum(f.px * f.sz for f in own) / sum(f.sz for f in own) if own else None
    if own:
        filled = max(filled, sum(f.sz for f in own))
    if word == "filled":
        status = "filled"
    elif word == "open" or word == "triggered":
        status = "open" if filled == 0 else "partial"
    elif word.endswith(_REJECTED_WORDS):
        status = "rejected"
    else:  # canceled, marginCanceled, scheduledCancel, ... (an IOC remainder is "canceled")
        status = "partial" if filled > 0 else "canceled"
    if avg is None and filled > 0 and word == "filled":
        avg = _f(order.get("limitPx"), "orderStatus.limitPx")  # upper bound; fills give the real price
    return OrderResult(
        cloid=cloid,
        status=status,
        oid=oid,
        filled_sz=filled,
        avg_px=avg,
        requested_sz=orig,
        error=None if status not in ("rejected",) else word,
        raw_status=word,
    )


def parse_fill(raw: Mapping[str, Any]) -> Fill:
    return Fill(
        coin=str(raw["coin"]),
        px=_f(raw["px"], "fill.px"),
        sz=_f(raw["sz"], "fill.sz"),
        side="B" if raw.get("side") == "B" else "A",
        time=int(raw["time"]),
        fee=_f(raw.get("fee", 0), "fill.fee"),
        fee_token=str(raw.get("feeToken") or "USDC"),
        oid=int(raw["oid"]) if raw.get("oid") is not None else None,
        tid=str(raw["tid"]) if raw.get("tid") is not None else None,
        cloid=str(raw["cloid"]).lower() if raw.get("cloid") else None,
        closed_pnl=_f(raw.get("closedPnl", 0), "fill.closedPnl"),
        raw=dict(raw),
    )


def parse_open_order(o: Mapping[str, Any]) -> OpenOrder:
    """An ``openOrders`` / ``frontendOpenOrders`` row (or ``historicalOrders[].order``)."""
    return OpenOrder(
        coin=str(o["coin"]),
        oid=int(o["oid"]),
        cloid=str(o["cloid"]).lower() if o.get("cloid") else None,
        side="B" if o.get("side") == "B" else "A",
        limit_px=_f(o["limitPx"], "limitPx"),
        sz=_f(o["sz"], "sz"),
        orig_sz=_f(o["origSz"], "origSz") if o.get("origSz") is not None else None,
        reduce_only=bool(o.get("reduceOnly", False)),
        timestamp=int(o.get("timestamp", 0)),
    )

"""Fills after an execution: recorded in the journal (idempotent on ``tid``), and each order's fee (USD)
attached to its journal row, found by cloid or else by the exchange's order id."""

from __future__ import annotations

from agent.adapters.store.journal import CANCELED, FILLED, PARTIAL, Journal
from agent.core.errors import ExchangeError
from agent.services.ports import ReadPort


def sync(exchange: ReadPort, journal: Journal, since_ms: int, errors: list[str]) -> None:
    """Record fills since ``since_ms`` and attach each order's fee; a read that fails is added to ``errors``."""
    try:
        fills = exchange.fills_since(since_ms)
    except ExchangeError as exc:
        errors.append(f"could not read fills: {exc}")
        return
    journal.record_fills(fills)
    by_cloid: dict[str, float] = {}
    by_oid: dict[int, float] = {}
    for f in fills:
        if f.cloid:
            by_cloid[f.cloid] = by_cloid.get(f.cloid, 0.0) + f.fee_usd
        if f.oid is not None:
            by_oid[f.oid] = by_oid.get(f.oid, 0.0) + f.fee_usd
    for row in journal.rows(states=[FILLED, PARTIAL, CANCELED]):
        fee = by_cloid.get(row.cloid, by_oid.get(row.oid, 0.0) if row.oid is not None else 0.0)
        if fee and (row.fee is None or abs(row.fee - fee) > 1e-12):
            journal.set_fee(row.cloid, fee)

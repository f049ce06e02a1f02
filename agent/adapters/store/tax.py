"""Tax records: each account's acquisitions and disposals (from its fills, or imported), perp PnL and funding,
and the lots a sale named before it was sent (specific identification, keyed by the order's cloid)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from agent.adapters.store.rows import dumps, now_iso

if TYPE_CHECKING:
    from agent.adapters.store.db import Store

#: kinds of event: spot lots, and the perp lines reported beside them
KINDS = ("acquisition", "disposal", "perp_pnl", "funding")


@dataclass(frozen=True)
class TaxEvent:
    account: str
    id: str
    kind: str
    asset: str
    time: str  # ISO 8601, UTC
    quantity: float
    usd: float
    source: str  # "fill" | "import" | "funding"
    cloid: str | None = None
    raw: dict[str, Any] | None = None


class TaxRecords:
    def __init__(self, store: Store) -> None:
        self.store = store

    def add_events(self, events: list[TaxEvent]) -> int:
        """Store events not seen before (by account and id) in one transaction; returns how many were new."""
        new = 0
        with self.store.tx() as c:
            for e in events:
                cur = c.execute(
                    "INSERT OR IGNORE INTO tax_events (account, id, kind, asset, time, quantity, usd, source, cloid,"
                    " raw) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        e.account,
                        e.id,
                        e.kind,
                        e.asset,
                        e.time,
                        e.quantity,
                        e.usd,
                        e.source,
                        e.cloid,
                        dumps(e.raw) if e.raw is not None else None,
                    ),
                )
                new += cur.rowcount
        return new

    def events(self, account: str, kinds: tuple[str, ...] = KINDS) -> list[TaxEvent]:
        marks = ",".join("?" * len(kinds))
        rows = self.store.query(
            f"SELECT * FROM tax_events WHERE account = ? AND kind IN ({marks}) ORDER BY time, id",  # noqa: S608
            (account, *kinds),
        )
        return [
            TaxEvent(
                r["account"],
                r["id"],
                r["kind"],
                r["asset"],
                r["time"],
                r["quantity"],
                r["usd"],
                r["source"],
                r["cloid"],
                json.loads(r["raw"]) if r["raw"] else None,
            )
            for r in rows
        ]

    def latest_fill_ms(self, account: str) -> int | None:
        rows = self.store.query(
            "SELECT raw FROM tax_events WHERE account = ? AND source = 'fill' ORDER BY time DESC LIMIT 1", (account,)
        )
        if not rows or not rows[0]["raw"]:
            return None
        return int(json.loads(rows[0]["raw"]).get("time", 0)) or None

    # -- specific identification ------------------------------------------------------------------

    def choose(self, account: str, cloid: str, asset: str, picks: list[tuple[str, float]]) -> None:
        """Record the lots an order sells, before it is signed (a retry under the same cloid keeps the first)."""
        with self.store.tx() as c:
            c.execute(
                "INSERT OR IGNORE INTO tax_lot_choices (account, cloid, asset, picks, created_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (account, cloid.lower(), asset, dumps([[lot, q] for lot, q in picks]), now_iso()),
            )

    def choices(self) -> dict[str, list[tuple[str, float]]]:
        """Every recorded choice in this database, by cloid (cloids are unique per plan, action and attempt)."""
        rows = self.store.query("SELECT cloid, picks FROM tax_lot_choices")
        return {r["cloid"]: [(str(lot), float(q)) for lot, q in json.loads(r["picks"])] for r in rows}

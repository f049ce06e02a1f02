"""Where a person sees the lots: open lots with their unrealised gain, the yearly report of disposals (with
perp PnL and funding beside them), Form 8949's columns, and importing the basis of coins that arrived by
transfer. Read-only against the exchange; ``import_basis`` writes to the account's own records only.

The CLI (``rebalancer tax lots|report|import``) and MCP (``get_tax_lots``, ``get_tax_report``) call these.
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
from collections import defaultdict
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agent.adapters.store.tax import TaxEvent
from agent.core import lots as core
from agent.core.errors import ExchangeError, ValidationError
from agent.services.ports import HistoryPort
from agent.services.trading import lots

if TYPE_CHECKING:
    from agent.services.app import Services

FORM_8949 = [
    "(a) Description of property",
    "(b) Date acquired",
    "(c) Date sold or disposed of",
    "(d) Proceeds",
    "(e) Cost or other basis",
    "(f) Code(s)",
    "(g) Amount of adjustment",
    "(h) Gain or (loss)",
    "Part",
]


def _jurisdiction(svc: Services, override: str | None) -> core.Jurisdiction:
    j = override or svc.settings.tax.jurisdiction
    if j not in core.JURISDICTIONS:
        raise ValidationError(f"unknown jurisdiction {j!r} (one of {', '.join(core.JURISDICTIONS)})")
    return "us" if j == "none" else j  # type: ignore[return-value]


def _book(svc: Services, jurisdiction: core.Jurisdiction) -> core.Book:
    cfg = svc.settings.tax
    lots.sync(svc.context)
    method = "fifo" if (jurisdiction == "de" and cfg.lot_selection is None) or cfg.method == "spec" else cfg.method
    return core.run(
        lots.lot_events(svc.context),
        method=method,
        jurisdiction=jurisdiction,
        long_term_preference=cfg.long_term_preference,
    )


def tax_lots(svc: Services, *, jurisdiction: str | None = None) -> dict[str, Any]:
    """The account's open lots: quantity, basis, value at mid, unrealised gain, and days to long-term."""
    j = _jurisdiction(svc, jurisdiction)
    the_book = _book(svc, j)
    market = svc.exchange.market()
    mids = {i.base_token: i.mid for i in market.assets.values() if i.market == "spot" and i.base_token}
    now = svc.exchange_now()
    rows: list[dict[str, Any]] = []
    for lot in the_book.open_lots():
        mid = mids.get(lot.asset)
        value = mid * lot.remaining if mid is not None else None
        rows.append(
            {
                "asset": lot.asset,
                "lot": lot.id,
                "acquired": lot.acquired.isoformat(),
                "source": lot.source,
                "quantity": lot.remaining,
                "cost_usd": round(lot.remaining_cost, 2),
                "unit_cost_usd": lot.unit_cost,
                "value_usd": round(value, 2) if value is not None else None,
                "unrealised_usd": round(value - lot.remaining_cost, 2) if value is not None else None,
                "term_now": "pool" if j == "uk" else core.term_of(lot.acquired, now, j),
                "days_to_long_term": None if j == "uk" else core.days_to_long_term(lot.acquired, now),
            }
        )
    return {
        "account": svc.account,
        "jurisdiction": j,
        "as_of": now.isoformat(),
        "lots": rows,
        "cost_usd": round(sum(float(r["cost_usd"]) for r in rows), 2),
        "unrealised_usd": round(sum(float(r["unrealised_usd"] or 0.0) for r in rows), 2),
    }


def tax_report(svc: Services, year: int, *, jurisdiction: str | None = None) -> dict[str, Any]:
    """Each disposal of ``year`` (acquired, sold, quantity, proceeds, cost, gain, term), totals, perp PnL and
    funding. ``de`` adds the taxable amount after the yearly exemption limit."""
    if not 2009 <= year <= 2100:
        raise ValidationError(f"year {year} is out of range")
    j = _jurisdiction(svc, jurisdiction)
    the_book = _book(svc, j)
    rows = [m for m in the_book.matches if m.sold.year == year]
    disposals = [
        {
            "asset": m.asset,
            "lot": m.lot_id,
            "acquired": m.acquired.date().isoformat(),
            "sold": m.sold.date().isoformat(),
            "quantity": m.quantity,
            "proceeds_usd": round(m.proceeds_usd, 2),
            "cost_usd": round(m.cost_usd, 2),
            "gain_usd": round(m.gain_usd, 2),
            "term": m.term,
        }
        for m in sorted(rows, key=lambda m: (m.sold, m.asset, m.acquired))
    ]
    totals = {k: round(v, 2) for k, v in core.totals(rows).items()}
    perp: dict[str, float] = defaultdict(float)
    for e in svc.store.tax.events(svc.account, ("perp_pnl",)):
        if e.time.startswith(str(year)):
            perp[e.asset] += e.usd
    funding: dict[str, float] | None = None  # None: the exchange keeps no funding history here (a snapshot)
    if isinstance(svc.exchange, HistoryPort):
        start = int(datetime(year, 1, 1, tzinfo=UTC).timestamp() * 1000)
        end = int(datetime(year + 1, 1, 1, tzinfo=UTC).timestamp() * 1000)
        try:
            per: dict[str, float] = defaultdict(float)
            for f in svc.exchange.funding_since(start):
                if f.ms < end:
                    per[f.coin] += f.usdc
            funding = per
        except ExchangeError:
            funding = None
    out: dict[str, Any] = {
        "account": svc.account,
        "year": year,
        "jurisdiction": j,
        "disposals": disposals,
        "totals": totals,
        "perp_realised_pnl_usd": {k: round(v, 2) for k, v in sorted(perp.items())},
        "funding_usd": None if funding is None else {k: round(v, 2) for k, v in sorted(funding.items())},
    }
    if j == "de":
        limit = svc.settings.tax.de_exemption_limit
        out["de_exemption_limit"] = limit
        out["de_taxable_usd"] = round(core.de_taxable(totals.get("taxable_gain_usd", 0.0), limit), 2)
    return out


def form_8949_csv(report: dict[str, Any]) -> str:
    """The report's disposals in Form 8949's columns (Part I short-term, Part II long-term)."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(FORM_8949)
    for d in report["disposals"]:
        part = "II" if d["term"] in ("long", "exempt") else "I"
        w.writerow(
            [
                f"{d['quantity']:.8g} {d['asset']}",
                d["acquired"],
                d["sold"],
                f"{d['proceeds_usd']:.2f}",
                f"{d['cost_usd']:.2f}",
                "",
                "",
                f"{d['gain_usd']:.2f}",
                part,
            ]
        )
    return buf.getvalue()


def import_basis(svc: Services, path: Path) -> dict[str, Any]:
    """Acquisitions from a CSV (``date, asset, quantity, cost_usd``; a header row). Every row is checked
    first; one bad row refuses the file (with its line number) and nothing is imported."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ValidationError(f"{path}: cannot read ({e.__class__.__name__})") from None
    reader = csv.reader(io.StringIO(text))
    header = [h.strip().lower() for h in next(reader, [])]
    want = ["date", "asset", "quantity", "cost_usd"]
    if header[:4] != want and header[:4] != ["date", "asset", "quantity", "cost"]:
        raise ValidationError(f"{path}:1: the header must be {','.join(want)}")
    today = svc.exchange_now().date()
    events = []
    for line, row in enumerate(reader, start=2):
        if not row or all(not c.strip() for c in row):
            continue
        if len(row) < 4:
            raise ValidationError(f"{path}:{line}: expected 4 columns, got {len(row)}")
        raw_date, asset, raw_q, raw_cost = (c.strip() for c in row[:4])
        try:
            when = date.fromisoformat(raw_date)
        except ValueError:
            raise ValidationError(f"{path}:{line}: {raw_date!r} is not a YYYY-MM-DD date") from None
        if when > today:
            raise ValidationError(f"{path}:{line}: {raw_date} is in the future")
        if not asset or not asset.replace("/", "").replace("-", "").isalnum():
            raise ValidationError(f"{path}:{line}: {asset!r} is not an asset name")
        try:
            q, cost = float(raw_q), float(raw_cost)
        except ValueError:
            raise ValidationError(f"{path}:{line}: quantity and cost must be numbers") from None
        if not (math.isfinite(q) and q > 0):
            raise ValidationError(f"{path}:{line}: quantity must be positive, got {raw_q}")
        if not (math.isfinite(cost) and cost >= 0):
            raise ValidationError(f"{path}:{line}: cost must not be negative, got {raw_cost}")
        key = hashlib.sha256(f"{line}|{raw_date}|{asset}|{raw_q}|{raw_cost}".encode()).hexdigest()[:16]
        at = datetime(when.year, when.month, when.day, tzinfo=UTC).isoformat(timespec="milliseconds")
        events.append(TaxEvent(svc.account, f"import:{key}", "acquisition", asset.split("/")[0], at, q, cost, "import"))
    if not events:
        raise ValidationError(f"{path}: no rows to import")
    added = svc.store.tax.add_events(events)
    return {"account": svc.account, "rows": len(events), "imported": added, "already_there": len(events) - added}

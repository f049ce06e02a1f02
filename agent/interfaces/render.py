"""Human output: the drift table, the plan and its summary, history, plans, orders.

Two rules for a terminal:
- text a person copies (the confirm command) is printed whole, on its own line, never wrapped;
- a table that does not fit the width is folded into one block per row (``name value`` pairs), never
  printed with cut-off headers.

Exchange and model text (coin names, reasons) is data: rich markup is off, and control and
bidirectional-override characters are escaped by :func:`safe`.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING, Any

from agent.core.text import safe
from agent.strategist import track_record

if TYPE_CHECKING:
    from rich.console import Console

    from agent.core.domain import RebalancingPlan


# markup off: reasons, coin names and model text are data, never rich markup
# soft_wrap: sentences are not cut into lines by us (the terminal wraps them); tables fit or fold (``table``)
# no ``file``: rich writes to whatever ``sys.stdout`` is at the time (Typer's test runner replaces it)
@cache
def _console() -> Console:
    from rich.console import Console  # on first output: importing rich costs more than `--help` does

    return Console(highlight=False, markup=False, soft_wrap=True)


class _FirstUse:
    """Stands for the process's rich ``Console`` and makes it on first use."""

    def __getattr__(self, name: str) -> Any:
        return getattr(_console(), name)


console: Console = _FirstUse()  # type: ignore[assignment]


def pct(x: float) -> str:
    return f"{x * 100:+.1f}%" if x else "0.0%"


def money(v: float | None) -> str:
    return f"${v:,.2f}" if v is not None else ""


def when(t: datetime | str | None) -> str:
    if t is None:
        return "?"
    text = t.isoformat() if isinstance(t, datetime) else str(t)
    return text[:19].replace("T", " ") + " UTC"


def table(title: str, columns: Sequence[str], rows: Sequence[Sequence[str]], *, right: Sequence[str] = ()) -> None:
    """A table when it fits the width, else one folded block per row; headers are never cut."""
    cells = [[safe(c) for c in row] for row in rows]
    widths = [max([len(h), *(len(r[i]) for r in cells)]) for i, h in enumerate(columns)]
    natural = sum(widths) + 3 * len(columns) + 1
    if natural <= console.width:
        from rich.table import Table

        t = Table(title=title, title_justify="left")
        for col in columns:
            t.add_column(col, justify="right" if col in right else "left", no_wrap=True)
        for row in cells:
            t.add_row(*row)
        console.print(t)
        return
    console.print(title)
    for row in cells:
        console.print("  " + " · ".join(f"{h} {v.strip()}" for h, v in zip(columns, row, strict=True) if v.strip()))


def print_drift(plan: RebalancingPlan | Mapping[str, Any]) -> None:
    """The drift table, from a plan or from the drift data ``get_drift`` returns (``drift_view``)."""
    from agent.core.domain import RebalancingPlan
    from agent.core.plan_report import drift_view

    view: Mapping[str, Any] = drift_view(plan) if isinstance(plan, RebalancingPlan) else plan
    all_rows = list(view.get("rows") or [])
    if view.get("target") is None:
        rows = [[str(r["coin"]), f"{r['current_weight'] * 100:.1f}%"] for r in all_rows]
        table("Current weights (no target yet)", ("Asset", "Weight"), rows, right=("Weight",))
        console.print(safe(str(view.get("reason") or "")))
        console.print(safe(f"Exchange data {when(view.get('as_of'))}"))
        return
    rows = []
    for r in all_rows:
        if r["market"] == "cash":
            continue
        inside = r["band_low"] - 1e-9 <= r["current_weight"] <= r["band_high"] + 1e-9
        rows.append(
            [
                r["coin"],
                f"{r['current_weight'] * 100:.1f}%",
                f"{r['target_weight'] * 100:.1f}%",
                pct(r["drift"]) + ("" if inside else " ←"),
                f"{r['band_low'] * 100:.1f}–{r['band_high'] * 100:.1f}%",
                money(r["value_usd"]),
                r["action"],
            ]
        )
    cash = next((r for r in all_rows if r["market"] == "cash"), None)
    if cash is not None:
        rows.append(
            [
                "USDC",
                f"{cash['current_weight'] * 100:.1f}%",
                f"{cash['target_weight'] * 100:.1f}%",
                pct(cash["drift"]),
                f"≥{cash['band_low'] * 100:.0f}%",
                money(cash["value_usd"]),
                "",
            ]
        )
        equity = view.get("equity_usd") or 1.0
        pools = (("  spot USDC", "spot_usdc"), ("  perp margin", "perp_margin"), ("  unified USDC", "unified_usdc"))
        cash_pools = view.get("cash_pools") or {}
        for name, key in pools:
            if key in cash_pools:
                v = cash_pools[key]
                rows.append([name, f"{v / equity * 100:.1f}%", "", "", "", money(v), ""])
    table(
        "Current vs target",
        ("Asset", "Current", "Target", "Drift", "Band", "Value", "Action"),
        rows,
        right=("Current", "Target", "Drift", "Band", "Value"),
    )
    reason = str(view.get("reason") or "")
    reason = reason[0].upper() + reason[1:] if reason else ""
    console.print(safe(f"Rebalance needed: {reason}" if view.get("rebalance_needed") else reason))
    console.print(safe(context_line(view)))


def history_line(as_of: object, source: object, usage: Any = None) -> str:
    """``Market data as of DAY (SOURCE)``, and the model's requests, tokens and seconds when it made any."""
    line = f"Market data as of {as_of or '?'} ({source or 'no history'})"
    calls = getattr(usage, "model_calls", 0)
    if calls:
        line += (
            f" · {calls} model request{'s' if calls != 1 else ''}, {usage.prompt_tokens} tokens in, "
            f"{usage.completion_tokens} out, {usage.latency_s:.1f}s"
        )
    return line


def context_line(plan: RebalancingPlan | Mapping[str, Any]) -> str:
    """Where the target came from, the time of the exchange data, and whether trading is paused."""
    from agent.core.domain import RebalancingPlan
    from agent.core.plan_report import drift_view

    if isinstance(plan, RebalancingPlan):
        plan = drift_view(plan)
    target_source, strategy_id = str(plan.get("target_source") or ""), plan.get("strategy_id")
    source = {
        "argument": "given",
        "config": "the config's [targets]",
        "stored": "the stored target",
        "strategist": "the strategist's",
    }.get(target_source, target_source or "?")
    strategy = f" ({strategy_id})" if strategy_id else ""
    paused = " · TRADING PAUSED" if plan.get("paused") else ""
    line = f"Target: {source}{strategy} · exchange data {when(_as_of(plan.get('as_of')))}{paused}"
    if target_source == "strategist" and strategy_id == track_record.RULE and (record := track_record.backtest_line()):
        line += f" · {record}"
    return line


def _as_of(value: object) -> datetime | str | None:
    return value if value is None or isinstance(value, datetime | str) else str(value)


def print_plan(plan: RebalancingPlan) -> None:
    print_drift(plan)
    if plan.clamps:
        console.print(safe("Limits applied: " + "; ".join(plan.clamps)))
    if plan.actions:
        table(
            "Plan (in order: capital-freeing first)",
            ("#", "Side", "Kind", "Asset", "Size", "Notional", "IOC limit", "Reduce-only"),
            [
                [
                    str(n),
                    a.side,
                    a.kind,
                    a.coin,
                    f"{a.size:g}",
                    money(a.notional_usd),
                    f"{a.limit_px:g}",
                    "yes" if a.reduce_only else "",
                ]
                for n, a in enumerate(plan.actions, 1)
            ],
        )
        for n, a in enumerate(plan.actions, 1):
            console.print(safe(f"  {n}. {a.reason}"))
    for skip in plan.skipped:
        console.print(safe(f"skipped {skip.coin} (${skip.wanted_notional_usd:,.2f}): {skip.reason}"))
    s, c = plan.summary, plan.estimated_cost
    console.print(
        f"Sells ${s.total_sells_usd:,.2f} · buys ${s.total_buys_usd:,.2f} · {s.num_trades} trades · "
        f"drift {s.drift_before:.1%} → {s.drift_after:.1%} · max weight {s.max_weight_before:.1%} → "
        f"{s.max_weight_after:.1%} · est. cost ${c.total_usd:,.2f} (fees ${c.fees_usd:,.2f}, "
        f"slippage ${c.slippage_usd:,.2f})"
    )
    if plan.sensitivity:
        console.print(safe(plan.sensitivity))
    for line in tax_lines(plan):
        console.print(safe(line))


def tax_lines(plan: RebalancingPlan) -> list[str]:
    """With ``[tax]`` on: the estimated realised gain (in all, per sell, by term) and harvesting proposals."""
    t = plan.tax
    if not t:
        return []

    def terms(by: dict[str, float]) -> str:
        return ", ".join(f"{k} ${v:+,.2f}" for k, v in sorted(by.items()))

    lines = [
        f"Tax ({t['jurisdiction']}, {t['method']}): estimated realised gain ${t['gain_usd']:+,.2f}"
        + (f" ({terms(t['by_term'])})" if t["by_term"] else "")
    ]
    for sell in t["sells"]:
        lines.append(
            f"  sell {sell['quantity']:g} {sell['asset']}: ${sell['gain_usd']:+,.2f}"
            f" ({terms(sell['by_term'])}) from {len(sell['lots'])} lot(s)"
        )
    for h in t.get("harvest") or []:
        lines.append(
            f"  harvest: {h['quantity']:g} {h['coin']} (lot {h['lot']}) is ${h['unrealised_loss_usd']:,.2f}"
            f" under its basis; selling it would save about ${h['saves_usd']:,.2f}"
        )
    return lines


def print_copyable(line: str) -> None:
    """A command to copy: whole, on its own line, whatever the terminal width (no rich wrapping)."""
    sys.stdout.write(safe(line) + "\n")
    sys.stdout.flush()


def print_execution(report: Any) -> None:
    """The executor's report: per order what happened, then the totals."""
    table(
        f"Execution: {report.status}",
        ("#", "Asset", "Side", "Wanted", "Filled", "Avg px", "State", "Note"),
        [
            [
                str(n),
                o.coin,
                o.side,
                f"{o.intended_sz:g}",
                f"{o.filled_sz:g}",
                f"{o.avg_px:g}" if o.avg_px else "",
                o.state,
                o.error or o.note or "",
            ]
            for n, o in enumerate(report.actions, 1)
        ],
    )
    for e in [*report.errors, *report.notes]:
        console.print(safe(f"  {e}"))


def print_history(rows: list[dict[str, Any]]) -> None:
    table(
        "Rebalance history",
        ("Started (UTC)", "Status", "Source", "Value before", "Value after", "Cost", "7-day return"),
        [
            [
                str(r["started_at"])[:16].replace("T", " "),
                r["status"],
                r.get("source") or r.get("trigger") or "",
                money(r["value_before"]),
                money(r["value_after"]),
                money(r.get("realised_cost_usd")),
                f"{r['return_7d']:+.2%}" if r["return_7d"] is not None else "pending",
            ]
            for r in rows
        ],
    )
    for r in rows:
        plan = f" (plan {r['plan_id']})" if r["plan_id"] else ""
        console.print(safe(f"  {r['id']}{plan}: {r['reason'] or ''}"))


def print_rejections(rows: list[Any]) -> None:
    """Previews the person rejected or let expire (``Rejection``s), with their reasons."""
    if not rows:
        return
    table(
        "Rejected previews",
        ("Rejected (UTC)", "Plan", "By", "Trades", "Reason"),
        [[str(r.at)[:16].replace("T", " "), r.plan_id, r.by, r.plan, r.reason] for r in rows],
    )


def print_plans(rows: list[dict[str, Any]]) -> None:
    table(
        "Plans",
        ("Plan", "Created (UTC)", "Status", "Source", "Trades", "Turnover", "Est. cost"),
        [
            [
                r["plan_id"],
                str(r["created_at"])[:16].replace("T", " "),
                r["status"] + (f": {r['rejection']['reason']}" if r.get("rejection") else ""),
                r["source"] or "",
                str(r["num_trades"]),
                money(r["turnover_usd"]),
                money(r["estimated_cost_usd"]),
            ]
            for r in rows
        ],
    )


def print_plan_detail(d: dict[str, Any]) -> None:
    console.print(safe(f"Plan {d['plan_id']}: {d['status']} (from {d['source']}, created {when(d['created_at'])})"))
    if d.get("reason"):
        console.print(safe(f"  {d['reason']}"))
    if d.get("rejection"):
        r = d["rejection"]
        console.print(safe(f"  Rejected ({r['by']}, {when(r['at'])}): {r['reason']}"))
    from agent.core.domain import RebalancingPlan

    print_plan(RebalancingPlan.model_validate(d["plan"]))
    if d["orders"]:
        table(
            "Orders (the journal)",
            ("cloid", "Asset", "Side", "Size", "Filled", "Avg px", "State"),
            [
                [
                    o["cloid"],
                    o["coin"],
                    o["side"],
                    f"{o['size']:g}",
                    f"{o['filled_sz']:g}",
                    f"{o['avg_px']:g}" if o["avg_px"] else "",
                    o["state"],
                ]
                for o in d["orders"]
            ],
        )
    if d["cycle"]:
        c = d["cycle"]
        console.print(
            safe(f"Cycle {c['id']}: {c['status']} · value {money(c['value_before'])} → {money(c['value_after'])}")
        )


def print_orders(orders: list[Any]) -> None:
    if not orders:
        console.print("No open orders.")
        return
    table(
        "Open orders",
        ("Asset", "oid", "Side", "Size", "Limit", "cloid"),
        [
            [o.coin, str(o.oid), "buy" if o.side == "B" else "sell", f"{o.sz:g}", f"{o.limit_px:g}", o.cloid or ""]
            for o in orders
        ],
    )

"""Human output: the drift table (seed 004), the plan and its summary (seed 000), with rich."""

from __future__ import annotations

import sys
from typing import Any

from rich.console import Console
from rich.table import Table

from agent.core.domain import RebalancingPlan

# markup off: reasons, coin names and model text are data, never rich markup
console = Console(file=sys.stdout, highlight=False, markup=False)


def pct(x: float) -> str:
    return f"{x * 100:+.1f}%" if x else "0.0%"


def drift_table(plan: RebalancingPlan) -> Table:
    table = Table(title="Current vs target", title_justify="left")
    for col in ("Asset", "Current", "Target", "Drift", "Band", "Value", "Action"):
        table.add_column(col, justify="left" if col in ("Asset", "Action") else "right", no_wrap=col != "Action")
    for r in plan.rows:
        flag = " ←" if r.market != "cash" and not (r.band_low - 1e-9 <= r.current_weight <= r.band_high + 1e-9) else ""
        band = f"{r.band_low * 100:.1f}–{r.band_high * 100:.1f}%" if r.market != "cash" else f"≥{r.band_low * 100:.0f}%"
        table.add_row(
            r.coin,
            f"{r.current_weight * 100:.1f}%",
            f"{r.target_weight * 100:.1f}%",
            pct(r.drift) + flag,
            band,
            f"${r.value_usd:,.2f}",
            r.action,
        )
    return table


def print_drift(plan: RebalancingPlan) -> None:
    console.print(drift_table(plan))
    reason = plan.reason[0].upper() + plan.reason[1:]
    console.print(f"Rebalance needed: {reason}" if plan.rebalance_needed else reason)


def print_plan(plan: RebalancingPlan) -> None:
    print_drift(plan)
    if plan.clamps:
        console.print("Limits applied: " + "; ".join(plan.clamps))
    if plan.actions:
        t = Table(title="Plan (in order: capital-freeing first)", title_justify="left")
        for col in ("#", "Side", "Kind", "Asset", "Size", "Notional", "IOC limit", "Reduce-only"):
            t.add_column(col, no_wrap=True)
        for n, a in enumerate(plan.actions, 1):
            t.add_row(
                str(n),
                a.side,
                a.kind,
                a.coin,
                f"{a.size:g}",
                f"${a.notional_usd:,.2f}",
                f"{a.limit_px:g}",
                "yes" if a.reduce_only else "",
            )
        console.print(t)
        for n, a in enumerate(plan.actions, 1):
            console.print(f"  {n}. {a.reason}")
    for skip in plan.skipped:
        console.print(f"skipped {skip.coin} (${skip.wanted_notional_usd:,.2f}): {skip.reason}")
    s, c = plan.summary, plan.estimated_cost
    console.print(
        f"Sells ${s.total_sells_usd:,.2f} · buys ${s.total_buys_usd:,.2f} · {s.num_trades} trades · "
        f"drift {s.drift_before:.1%} → {s.drift_after:.1%} · max weight {s.max_weight_before:.1%} → "
        f"{s.max_weight_after:.1%} · est. cost ${c.total_usd:,.2f} (fees ${c.fees_usd:,.2f}, "
        f"slippage ${c.slippage_usd:,.2f})"
    )


def print_execution(report: Any) -> None:
    """The executor's report: per order what happened, then the totals."""
    t = Table(title=f"Execution: {report.status}", title_justify="left")
    for col in ("#", "Asset", "Side", "Wanted", "Filled", "Avg px", "State", "Note"):
        t.add_column(col)
    for n, o in enumerate(report.actions, 1):
        t.add_row(
            str(n),
            o.coin,
            o.side,
            f"{o.intended_sz:g}",
            f"{o.filled_sz:g}",
            f"{o.avg_px:g}" if o.avg_px else "",
            o.state,
            o.error or o.note or "",
        )
    console.print(t)


def print_history(rows: list[dict[str, Any]]) -> None:
    t = Table(title="Rebalance history", title_justify="left")
    for col in ("Started (UTC)", "Status", "Value before", "Value after", "7-day return"):
        t.add_column(col, no_wrap=True)

    def money(v: float | None) -> str:
        return f"${v:,.2f}" if v is not None else ""

    for r in rows:
        t.add_row(
            str(r["started_at"])[:16].replace("T", " "),
            r["status"],
            money(r["value_before"]),
            money(r["value_after"]),
            f"{r['return_7d']:+.2%}" if r["return_7d"] is not None else "pending",
        )
    console.print(t)
    for r in rows:
        plan = f" (plan {r['plan_id']})" if r["plan_id"] else ""
        console.print(f"  {r['id']}{plan}: {r['reason'] or ''}", markup=False)

"""What each page shows, from the services' answers: template contexts and the HTML they render. Translation only.

Templates are Jinja2 with autoescape on: exchange and model text (coin names, reasons, raw replies) is
data and always rendered as text.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, PackageLoader, select_autoescape

from agent.core.domain import CASH, Market, PortfolioState, RebalancingPlan
from agent.interfaces.web import charts, sensitivity
from agent.services.evidence import advisor

if TYPE_CHECKING:
    from agent.services.app import Services
    from agent.services.trading.reports import ExecutionReport


def pct(x: float | None, signed: bool = False) -> str:
    if x is None:
        return "—"
    return f"{x * 100:+.1f} %" if signed else f"{x * 100:.1f} %"


def money(x: float | None) -> str:
    if x is None:
        return "—"
    return f"−${-x:,.2f}" if x < 0 else f"${x:,.2f}"


def when(t: datetime | str | None) -> str:
    if t is None:
        return "—"
    text = t.isoformat() if isinstance(t, datetime) else str(t)
    return text[:19].replace("T", " ") + " UTC"


def size(x: float) -> str:
    return f"{x:g}"


env = Environment(
    loader=PackageLoader("agent.interfaces.web", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
env.filters.update(pct=pct, money=money, when=when, size=size)


def render(name: str, **context: Any) -> str:
    return env.get_template(name).render(**context)


def _comparison_cell(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "%":
        return pct(value)
    if unit == "usd":
        return money(value)
    if unit == "score":
        return f"{value:+.3f}"
    return f"{value:g}"


def advisor_page(
    svc: Services,
    plan: RebalancingPlan | None,
    market: Market | None = None,
    *,
    csrf: str,
    read_only: bool,
    previewed: bool = False,
    report: ExecutionReport | None = None,
    error: str | None = None,
    notice: str | None = None,
    state: PortfolioState | None = None,
) -> str:
    """The advisor: header, comparison, the three columns, actions, and after a Confirm the fills."""
    ctx: dict[str, Any] = {
        "csrf": csrf,
        "read_only": read_only,
        "error": error,
        "notice": notice,
        "plan": plan,
        "previewed": previewed,
        "report": report,
        "sensitivity": sensitivity.panel(svc, plan, market),  # of the plan shown: not planned again
        "paused": svc.is_paused(),
        "tax": tax_panel(plan),
    }
    if plan is not None:
        flags = advisor.flags(svc, plan)
        rows = [r for r in plan.rows if r.coin != CASH]
        cash = next((r for r in plan.rows if r.coin == CASH), None)
        ctx.update(
            header=advisor.header(svc, plan, state),
            comparison=[
                (
                    c.metric,
                    _comparison_cell(c.current, c.unit),
                    _comparison_cell(c.target, c.unit),
                    _comparison_cell(c.planned, c.unit),
                )
                for c in advisor.comparison(plan, advisor.average_scores(svc, plan, market) if market else None)
            ],
            current=[r for r in rows if abs(r.current_weight) > 1e-9],
            target=[r for r in rows if abs(r.target_weight) > 1e-9],
            cash=cash,
            flags=flags,
            trades=advisor.trades(plan),
            confirm=advisor.confirm_offered(svc, plan, read_only=read_only) and previewed,
            bars=charts.weight_bars([(r.coin, r.current_weight, r.target_weight, r.planned_weight) for r in plan.rows]),
        )
    return render("advisor.html", page="advisor", **ctx)


def settings_page(
    svc: Services,
    *,
    csrf: str,
    read_only: bool,
    errors: dict[str, str] | None = None,
    entered: dict[str, str] | None = None,
    notice: str | None = None,
) -> str:
    views = svc.settings_fields()
    entered = entered or {}
    fields = [
        {
            "key": v.field.key,
            "label": v.field.label,
            "help": v.field.help,
            "kind": v.field.kind,
            "choices": v.field.choices,
            "value": entered.get(v.field.key, v.field.show(v.value)),
            "source": v.source,
            "configured": v.field.show(v.configured) or "none",
            "error": (errors or {}).get(v.field.key),
        }
        for v in views
    ]
    return render(
        "settings.html",
        page="settings",
        csrf=csrf,
        read_only=read_only,
        fields=fields,
        errors=errors or {},
        notice=notice,
        paused=svc.is_paused(),
        allow_loosen=(svc.configured or svc.settings).web.allow_loosen,
    )


def history_page(svc: Services, *, csrf: str, read_only: bool, days: int = 60) -> str:
    from agent.services.fleet.approvals import everywhere

    cycles = svc.history(days)
    waiting = everywhere(svc)
    details = {c["id"]: svc.cycle_detail(c["id"]) for c in cycles}
    value: list[tuple[datetime, float]] = []
    for c in cycles:  # before each cycle, and after it where it traded
        if c["value_before"]:
            value.append((datetime.fromisoformat(c["started_at"]), c["value_before"]))
        if c["value_after"]:
            value.append((datetime.fromisoformat(c["finished_at"] or c["started_at"]), c["value_after"]))
    chart = charts.line_chart({"account value": value}, title=f"Account value, last {days} days")
    return render(
        "history.html",
        page="history",
        csrf=csrf,
        read_only=read_only,
        cycles=cycles,
        details=details,
        chart=chart,
        days=days,
        approvals=waiting,
        paused=svc.is_paused(),
        rejected=svc.rejected_plans(days),
    )


def tax_panel(plan: RebalancingPlan | None) -> dict[str, Any] | None:
    """With ``[tax]`` on: the plan's estimated realised gain (total, by term, per sell with its lots) and the
    harvesting proposals, from the plan itself (no other read)."""
    t = plan.tax if plan is not None else None
    if not t:
        return None
    return {
        "heading": f"{t['jurisdiction'].upper()}, {t['method']}",
        "gain": money(t["gain_usd"]),
        "by_term": [(k, money(v)) for k, v in sorted(t["by_term"].items())],
        "sells": [
            (
                s["asset"],
                f"{s['quantity']:g}",
                money(s["gain_usd"]),
                ", ".join(f"{k} {money(v)}" for k, v in sorted(s["by_term"].items())),
                len(s["lots"]),
            )
            for s in t["sells"]
        ],
        "harvest": [
            (h["coin"], f"{h['quantity']:g}", money(h["unrealised_loss_usd"]), h["term"], money(h["saves_usd"]))
            for h in t.get("harvest") or []
        ],
    }

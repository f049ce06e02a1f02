"""``rebalancer tax``: the account's lots, the yearly report of disposals, and importing a basis."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from agent.interfaces import render
from agent.interfaces.cli.base import ConfigOpt, JsonOpt, app, boundary, emit, runtime
from agent.interfaces.render import console

tax_app = typer.Typer(no_args_is_help=True, help="Tax lots: open lots, the yearly report, importing a basis.")
app.add_typer(tax_app, name="tax")

AccountOpt = Annotated[str | None, typer.Option("--account", help="an [[accounts]] name (default: the account)")]
JurisdictionOpt = Annotated[
    str | None, typer.Option("--jurisdiction", help="us | de | uk (default: [tax] jurisdiction)")
]
SnapshotOpt = Annotated[Path | None, typer.Option("--snapshot", help="read a snapshot (its userFills) instead")]


@tax_app.command("lots")
@boundary
def tax_lots(
    account: AccountOpt = None,
    jurisdiction: JurisdictionOpt = None,
    snapshot: SnapshotOpt = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Open lots: quantity, basis, value at mid, unrealised gain, days to long-term."""
    from agent.services.evidence.tax import tax_lots as lots_of

    with runtime(config, snapshot) as svc:
        report = lots_of(svc.for_account(account), jurisdiction=jurisdiction)

    def human() -> None:
        rows = [
            [
                r["asset"],
                r["lot"],
                r["acquired"][:10],
                f"{r['quantity']:.8g}",
                f"${r['cost_usd']:,.2f}",
                "n/a" if r["value_usd"] is None else f"${r['value_usd']:,.2f}",
                "n/a" if r["unrealised_usd"] is None else f"${r['unrealised_usd']:+,.2f}",
                r["term_now"],
                "" if r["days_to_long_term"] is None else str(r["days_to_long_term"]),
            ]
            for r in report["lots"]
        ]
        render.table(
            f"Open lots ({report['jurisdiction']})",
            ["asset", "lot", "acquired", "quantity", "basis", "value", "unrealised", "term", "days to long"],
            rows,
            right=["quantity", "basis", "value", "unrealised", "days to long"],
        )
        console.print(f"Basis ${report['cost_usd']:,.2f}; unrealised ${report['unrealised_usd']:+,.2f}", markup=False)

    emit(as_json, report, human)


@tax_app.command("report")
@boundary
def tax_report(
    year: Annotated[int, typer.Option("--year", help="the tax year")],
    account: AccountOpt = None,
    jurisdiction: JurisdictionOpt = None,
    csv: Annotated[bool, typer.Option("--csv", help="the disposals as CSV (Form 8949's columns for us)")] = False,
    snapshot: SnapshotOpt = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Each disposal of the year (acquired, sold, quantity, proceeds, cost, gain, term), totals, perp PnL, funding."""
    from agent.services.evidence.tax import form_8949_csv
    from agent.services.evidence.tax import tax_report as report_of

    with runtime(config, snapshot) as svc:
        report = report_of(svc.for_account(account), year, jurisdiction=jurisdiction)
    if csv:
        print(form_8949_csv(report), end="")
        return

    def human() -> None:
        rows = [
            [
                d["asset"],
                d["acquired"],
                d["sold"],
                f"{d['quantity']:.8g}",
                f"${d['proceeds_usd']:,.2f}",
                f"${d['cost_usd']:,.2f}",
                f"${d['gain_usd']:+,.2f}",
                d["term"],
            ]
            for d in report["disposals"]
        ]
        render.table(
            f"Disposals {year} ({report['jurisdiction']})",
            ["asset", "acquired", "sold", "quantity", "proceeds", "cost", "gain", "term"],
            rows,
            right=["quantity", "proceeds", "cost", "gain"],
        )
        t = report["totals"]
        terms = ", ".join(
            f"{k.removesuffix('_gain_usd')} ${v:+,.2f}"
            for k, v in t.items()
            if k.endswith("_gain_usd") and k != "gain_usd"
        )
        console.print(
            f"Proceeds ${t.get('proceeds_usd', 0):,.2f} · cost ${t.get('cost_usd', 0):,.2f} · "
            f"gain ${t.get('gain_usd', 0):+,.2f}" + (f" ({terms})" if terms else ""),
            markup=False,
        )
        if "de_taxable_usd" in report:
            console.print(
                f"Taxable after the ${report['de_exemption_limit']:,.0f} limit: ${report['de_taxable_usd']:,.2f}",
                markup=False,
            )
        perp = report["perp_realised_pnl_usd"]
        if perp:
            console.print("Perp realised PnL: " + ", ".join(f"{c} ${v:+,.2f}" for c, v in perp.items()), markup=False)
        if report["funding_usd"]:
            console.print(
                "Funding: " + ", ".join(f"{c} ${v:+,.2f}" for c, v in report["funding_usd"].items()), markup=False
            )

    emit(as_json, report, human)


@tax_app.command("import")
@boundary
def tax_import(
    file: Annotated[Path, typer.Argument(help="CSV: date,asset,quantity,cost_usd (a header row)")],
    account: AccountOpt = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Import the basis of coins that arrived by transfer or before the fills history (nothing on a bad row)."""
    from agent.services.evidence.tax import import_basis

    with runtime(config) as svc:
        result = import_basis(svc.for_account(account), file)
    emit(
        as_json,
        result,
        lambda: console.print(
            f"Imported {result['imported']} of {result['rows']} rows ({result['already_there']} already there).",
            markup=False,
        ),
    )

"""`status --all` and `preview --all`: every ``[[accounts]]`` entry as one portfolio, holdings added up by
underlying across venues."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from agent.core import errors
from agent.interfaces import render
from agent.interfaces.cli.base import emit, read_target, runtime
from agent.interfaces.render import console

AllOpt = Annotated[bool, typer.Option("--all", help="every [[accounts]] entry as one portfolio, by underlying")]


def status_all(config: Path | None, as_json: bool) -> None:
    from agent.services.fleet.portfolio import across

    with runtime(config) as svc:
        s = across(svc)

    def human() -> None:
        accounts = [a["name"] for a in s["accounts"]]
        rows = [
            [
                a["asset"],
                f"{a['weight']:.1%}",
                render.money(a["value_usd"]),
                *[render.money(a["accounts"].get(n, 0.0)) for n in accounts],
            ]
            for a in s["assets"]
        ]
        rows.append(
            [
                "cash",
                f"{s['cash_weight']:.1%}",
                render.money(s["cash_usd"]),
                *[render.money(a["cash_usd"]) for a in s["accounts"]],
            ]
        )
        render.table(
            f"All accounts: {render.money(s['total_equity_usd'])}",
            ["asset", "weight", "value", *[f"{a['name']} ({a['venue']})" for a in s["accounts"]]],
            rows,
            right=["weight", "value", *[f"{a['name']} ({a['venue']})" for a in s["accounts"]]],
        )

    emit(as_json, s, human)


def preview_all(config: Path | None, target: Path | None, as_json: bool) -> None:
    from agent.services.fleet.portfolio import preview_across

    if target is None:
        raise errors.ValidationError("preview --all needs --target FILE (weights by underlying: BTC, ETH, …)")
    with runtime(config) as svc:
        out = preview_across(svc, read_target(target), source="cli")
    public = {
        "targets": out["targets"],
        "unreachable": out["unreachable"],
        "plans": {n: p.to_public() for n, p in out["plans"].items()},
    }

    def human() -> None:
        for name, p in out["plans"].items():
            console.print(f"Account {name}", markup=False)
            render.print_plan(p)
            if p.confirm_token:
                render.print_copyable(
                    f"rebalancer execute {p.plan_id} --confirm {p.confirm_token} --account {name}"
                    + (f" --config {config}" if config else "")
                )
        for line in out["unreachable"]:
            console.print(f"unreachable: {line}", markup=False)

    emit(as_json, public, human)

"""``rebalancer doctor``: the account's wiring checks, one line each. Translation only."""

from __future__ import annotations

import json

import typer

from agent.interfaces.cli.base import ConfigOpt, JsonOpt, app, boundary, runtime
from agent.interfaces.render import console, safe

#: exit code when a check fails (the configuration or the account needs attention).
FAILING = 2


@app.command()
@boundary
def doctor(config: ConfigOpt = None, as_json: JsonOpt = False) -> None:
    """Check the account's wiring: master vs API wallet, signer, mode, dexes, orders, dead-man switch, budget.

    One line per check; exits 0 only when every check passes (2 otherwise). Reads only.
    """
    with runtime(config) as svc, svc.question():
        checks = svc.doctor()  # always afresh (and kept for `status`)
    for c in checks:
        if as_json:
            print(json.dumps(c.to_public()))
        else:
            mark = "ok  " if c.ok else "FAIL"
            console.print(safe(f"{mark} {c.check}: {c.detail}" + ("" if c.ok or not c.fix else f" — fix: {c.fix}")))
    if not all(c.ok for c in checks):
        raise typer.Exit(FAILING)

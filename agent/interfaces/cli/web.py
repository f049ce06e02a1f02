"""``rebalancer web``: the Rebalance Advisor in a browser, over the same services as every command."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from agent.interfaces.cli.base import ConfigOpt, app, boundary, runtime, settings_from, stop_on_signals


@app.command()
@boundary
def web(
    ctx: typer.Context,
    host: Annotated[str | None, typer.Option(help="interface to listen on (default [web] host: 127.0.0.1)")] = None,
    port: Annotated[int | None, typer.Option(help="port (default [web] port: 8780)")] = None,
    read_only: Annotated[bool, typer.Option("--read-only", help="no Confirm, no settings writes")] = False,
    config: ConfigOpt = None,
) -> None:
    """Serve the Rebalance Advisor page; prints its address with a per-launch session token."""
    from agent.interfaces.web import WebServer

    settings = settings_from(config)
    cfg = settings.web
    host = host or cfg.host
    cfg.check_host(host)  # a non-loopback host needs [web] allow_remote = true (exit 2)
    with runtime(config, settings=settings) as svc:
        server = WebServer(
            svc, host=host, port=cfg.port if port is None else port, read_only=read_only or cfg.read_only
        )
        print(f"Advisor: {server.url}", flush=True)
        print("(the token is this launch's; Ctrl-C stops the page)", file=sys.stderr, flush=True)
        stop_on_signals(ctx, lambda: None)  # uvicorn stops on them, then raises them again: end with 0
        server.run()
    print("advisor stopped", file=sys.stderr)

"""The ``rebalancer`` command line: translation only; the work happens in the services.

``base`` holds the app, its exit codes and the shared helpers; ``trading`` the commands about the account
(status, plan, decide, preview, execute, plans, orders, cancel, pause, resume); ``running`` those that run
something (demo, heartbeat, mcp, chat, history, snapshot, config show, exchange serve); ``web`` the advisor page.
"""

from __future__ import annotations

import logging
import sys

from agent.interfaces.cli import backtest, checks, evidence, fleet, running, tax, trading, web  # noqa: F401 - they register
from agent.interfaces.cli.base import app

__all__ = ["app", "main"]


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(message)s", stream=sys.stderr)
    app()

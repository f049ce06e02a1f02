"""A command that stops on SIGINT/SIGTERM (heartbeat, fleet run, worker, exchange serve, web) gives the
previous handlers back when it ends: run in process, its caller can still be interrupted."""

from __future__ import annotations

import signal

from clirun import made_db
from typer.testing import CliRunner

from agent.interfaces.cli import app


def test_heartbeat_run_in_process_gives_back_the_callers_signal_handlers(tmp_path):
    def mine(*_: object) -> None:  # the caller's own handler
        pass

    saved = {s: signal.signal(s, mine) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        cfg = tmp_path / "rebalancer.toml"
        cfg.write_text(f'network = "local"\ndb = "{made_db(tmp_path / "h.db")}"\n\n[targets]\nBTC = 0.5\nUSDC = 0.5\n')
        result = CliRunner().invoke(app, ["heartbeat", "--once", "--autonomy", "advise", "--config", str(cfg)])
        assert result.exit_code == 0, result.output
        assert signal.getsignal(signal.SIGINT) is mine and signal.getsignal(signal.SIGTERM) is mine
    finally:
        for s, h in saved.items():
            signal.signal(s, h)

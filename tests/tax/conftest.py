"""The demo account with a fills history (``userFills`` exactly as Hyperliquid returns it, newest first) that
explains its spot balances, and a config with ``[tax]`` on."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from clirun import made_db
from typer.testing import CliRunner

DEMO = Path(__file__).resolve().parents[2] / "agent" / "data" / "demo_snapshot.json"


def ms(day: str) -> int:
    return int(datetime.fromisoformat(day).replace(tzinfo=UTC).timestamp() * 1000)


def fill(coin, side, px, sz, day, fee="0.0", fee_token="USDC", tid=0):
    return {
        "coin": coin,
        "px": str(px),
        "sz": str(sz),
        "side": side,
        "time": ms(day),
        "startPosition": "0.0",
        "dir": "Buy" if side == "B" else "Sell",
        "closedPnl": "0.0",
        "hash": f"0x{tid:064x}",
        "oid": 1000 + tid,
        "crossed": True,
        "fee": fee,
        "tid": tid,
        "feeToken": fee_token,
    }


#: UBTC: an old cheap lot (long-term by the demo's day, 2026-02-14) and a recent dear one; UETH: one old lot;
#: USOL: bought, then partly sold at a loss on 2026-01-20 (inside a 30-day wash-sale window).
FILLS = [
    fill("@142", "B", 60_000, 0.02, "2024-11-01T10:00", fee="0.00001", fee_token="UBTC", tid=1),
    fill("@151", "B", 1_500, 1.54158, "2024-01-05T10:00", tid=2),
    fill("@156", "B", 200, 30, "2025-06-01T10:00", tid=3),
    fill("@142", "B", 100_000, 0.01483, "2025-10-01T10:00", tid=4),
    fill("@156", "A", 150, 4.889, "2026-01-20T10:00", fee="0.5", tid=5),
]


@pytest.fixture
def fills_snapshot(tmp_path) -> Path:
    snap = json.loads(DEMO.read_text())
    snap["userFills"] = sorted(FILLS, key=lambda f: -f["time"])
    out = tmp_path / "snap.json"
    out.write_text(json.dumps(snap))
    return out


@pytest.fixture
def tax_config(tmp_path, fills_snapshot):
    def make(extra: str = "", targets: str | None = None) -> Path:
        cfg = tmp_path / "rebalancer.toml"
        body = f'network = "local"\ndb = "{made_db(tmp_path / "h.db")}"\nlocal_snapshot = "{fills_snapshot}"\n'
        if targets:
            body += f"\n[targets]\n{targets}\n"
        body += f'\n[tax]\njurisdiction = "us"\n{extra}\n'
        cfg.write_text(body)
        return cfg

    return make


@pytest.fixture
def cli():
    """The CLI in-process, as the console script runs it (exit code, parsed JSON or text)."""
    from agent.interfaces.cli import app

    env = {k: None for k in os.environ if k.startswith(("REBALANCER_", "OPENAI_", "ANTHROPIC_"))}

    def invoke(*args: str) -> tuple[int, object]:
        r = CliRunner().invoke(app, list(args), env=env)
        out = r.stdout
        if "--json" in args and out.strip():
            try:
                return r.exit_code, json.loads(out)
            except json.JSONDecodeError:
                pass
        return r.exit_code, out + (r.stderr if r.stderr_bytes is not None else "")

    return invoke

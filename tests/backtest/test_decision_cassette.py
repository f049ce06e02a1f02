"""The strategist's recorded decisions replay as a backtest policy: ``decisions --cassette FILE`` writes what the
store holds, and ``backtest --policy strategist:cassette=FILE`` trades to each target from its date."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from clirun import invoke, invoke_json, made_db

from agent.adapters.store.db import Store
from agent.core.domain import TargetAllocation
from agent.services.evidence.cassette import cassette_from_decisions
from agent.strategist.base import Decision

PRICES = Path(__file__).parents[1] / "fixtures" / "backtest" / "shapes" / "project.csv"


@pytest.fixture
def config(tmp_path: Path) -> Path:
    cfg = tmp_path / "rebalancer.toml"
    cfg.write_text(f'network = "local"\ndb = "{made_db(tmp_path / "h.db")}"\n\n[targets]\nBTC = 0.5\nUSDC = 0.5\n')
    return cfg


def _record(db: Path, when: str, target: dict[str, float] | None, status: str = "ok") -> None:
    """A decision as the decide step records it, dated ``when`` (the store stamps the current time)."""
    store = Store(db)
    d = Decision(status=status, provider="openai-compatible", model="m", selected_strategy="s",  # type: ignore[arg-type]
                 target=TargetAllocation.from_json(target) if target else None, reasoning=f"on {when}")  # fmt: skip
    row = store.records.add_decision(d)
    with store.tx() as c:
        c.execute("UPDATE decisions SET created_at = ? WHERE id = ?", (when, row))
    store.close()


def test_recorded_decisions_replay_as_a_policy(tmp_path, config):
    db = tmp_path / "h.db"
    _record(db, "2025-01-01T08:00:00+00:00", {"BTC": 0.5, "USDC": 0.5})
    _record(db, "2025-02-03T08:00:00+00:00", {"BTC": 0.1, "ETH": 0.5, "USDC": 0.4})
    _record(db, "2025-02-03T20:00:00+00:00", {"ETH": 0.6, "USDC": 0.4})  # the later one that day wins
    _record(db, "2025-03-03T08:00:00+00:00", None, status="failed_invalid")  # no target: left out
    code, out = invoke_json("decide", "--config", str(config))  # a real decision, recorded today
    assert code == 0 and out["status"] == "ok", out
    tape = tmp_path / "tape.json"
    code, wrote = invoke_json("decisions", "--cassette", str(tape), "--config", str(config))
    assert code == 0 and wrote["decisions"] == 3 and wrote["first"] == "2025-01-01"
    entries = json.loads(tape.read_text())
    assert [e["date"] for e in entries][:2] == ["2025-01-01", "2025-02-03"]
    assert entries[1]["target_allocation"] == {"ETH": 0.6, "USDC": 0.4}
    assert entries[2]["target_allocation"] == out["target_allocation"]

    target = tmp_path / "target.json"
    target.write_text(json.dumps({"BTC": 0.5, "USDC": 0.5}))
    code, bt = invoke_json("backtest", "--prices", str(PRICES), "--target", str(target),
                           "--policy", f"strategist:cassette={tape}")  # fmt: skip
    assert code == 0, bt
    path = {d["date"]: d["weights"] for d in bt["policies"][0]["path"]}
    assert path["2025-01-01"]["BTC"] == pytest.approx(0.5)
    assert path["2025-02-02"]["ETH"] == 0  # before the second decision: BTC only
    assert path["2025-02-03"]["ETH"] == pytest.approx(0.6, abs=1e-3) and path["2025-02-03"]["BTC"] == pytest.approx(
        0, abs=1e-4
    )
    assert path["2025-03-31"]["BTC"] == pytest.approx(
        0, abs=1e-4
    )  # today's decision is after the history ends: not in force


def test_no_decision_yet_is_one_line_exit_2(tmp_path, config):
    p = invoke("decisions", "--cassette", str(tmp_path / "tape.json"), "--config", str(config))
    assert p.returncode == 2 and "no recorded decision" in p.stderr and len(p.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "tape.json").exists()


def test_cassette_keeps_the_last_ok_decision_of_each_day():
    rows = [
        {"id": 2, "created_at": "2025-01-01T10:00:00", "status": "ok", "target": {"BTC": 1.0}},
        {"id": 1, "created_at": "2025-01-01T09:00:00", "status": "ok", "target": {"ETH": 1.0}},
        {"id": 3, "created_at": "2025-01-02T09:00:00", "status": "failed_transport", "target": None},
    ]
    assert [e["target_allocation"] for e in cassette_from_decisions(rows)] == [{"BTC": 1.0}]

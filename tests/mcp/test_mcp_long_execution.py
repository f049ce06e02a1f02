"""A long execution does not block a tool call: ``execute_rebalance`` with TWAP legs answers within 10 s
with the plan ``running`` and each leg's progress, the execution goes on in the server, ``get_plan``
reports its progress and then its report, and a client that asks gets progress notifications. The CLI's
``execute`` shows a running TWAP's progress.

Everything as a user runs it: ``rebalancer exchange serve --time-scale 20`` (a 30-minute TWAP takes 18 s),
``rebalancer mcp --http`` on it with ``twap_over_usd = 500`` (every leg over $500 is a TWAP), and the
official ``mcp`` client over HTTP.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest
from clirun import SCRIPT, clean_env, made_db, run, run_json
from http_support import REBALANCER, free_port, serve_http

pytestmark = [
    pytest.mark.slow,  # two TWAPs run ~35 s on the accelerated stand-in
    pytest.mark.skipif(not REBALANCER.exists(), reason="the rebalancer console script is not installed"),
]

TARGET = '"UBTC/USDC" = 0.25\n"UETH/USDC" = 0.30\n"USOL/USDC" = 0.25\nAVAX = 0.0\nUSDC = 0.20\n'


@pytest.fixture
def standin(tmp_path: Path) -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen(
        [str(SCRIPT), "exchange", "serve", "--port", str(port), "--time-scale", "100"],
        env=clean_env(),
        stdout=subprocess.DEVNULL,
        stderr=(tmp_path / "standin.log").open("w"),
    )
    try:
        from http_support import _wait

        _wait(port, proc)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _config(tmp_path: Path, url: str) -> Path:
    cfg = tmp_path / "rebalancer.toml"
    db = made_db(tmp_path / "h.db")
    cfg.write_text(f'network = "{url}"\ndb = "{db}"\n\n[rebalance]\ntwap_over_usd = 500\n\n[targets]\n{TARGET}')
    return cfg


def test_execute_answers_running_within_10s_and_get_plan_follows_it_to_its_report(tmp_path, standin):
    cfg = _config(tmp_path, standin)
    notes: list[tuple[float, float | None, str | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        notes.append((progress, total, message))

    with serve_http(tmp_path, "--config", str(cfg), env={"REBALANCER_NETWORK": standin}) as server:

        async def go():
            with anyio.fail_after(240):
                async with server.client() as client:
                    preview = (await client.call_tool("preview_rebalance", {})).structured_content
                    assert any(a["order_type"] == "twap" for a in preview["actions"]), preview["actions"]
                    started = time.monotonic()
                    answer = await client.call_tool(
                        "execute_rebalance",
                        {"plan_id": preview["plan_id"], "confirm_token": preview["confirm_token"]},
                        progress_callback=on_progress,
                    )
                    took = time.monotonic() - started
                    seen, later = [], []
                    while True:
                        mine: list[tuple[float, float]] = []

                        async def on_plan(p: float, total: float | None, m: str | None, mine=mine) -> None:
                            mine.append((time.monotonic() - started, p))

                        asked = time.monotonic()
                        state = (
                            await client.call_tool(
                                "get_plan", {"plan_id": preview["plan_id"]}, progress_callback=on_plan
                            )
                        ).structured_content
                        seen.append((time.monotonic() - asked, state))
                        later.append(mine)
                        if state["state"] != "running":
                            return preview, answer, took, seen, later

        preview, answer, took, seen, later = anyio.run(go)

    assert not answer.is_error, answer
    running = answer.structured_content
    assert took < 10, f"execute_rebalance took {took:.1f} s"
    assert running["status"] == "running" and running["report"] is None
    twaps = [leg for leg in running["progress"]["legs"] if leg["order_type"] == "twap"]
    assert twaps and all(0 <= leg["progress"] <= 1 for leg in twaps)
    assert notes and all(total == 1.0 and 0 <= p <= 1 for p, total, _ in notes)
    assert any("TWAP" in (m or "") or "%" in (m or "") for *_, m in notes)
    values = [p for p, _, _ in notes]
    assert values == sorted(set(values)), values  # each notification's progress increases (the spec's MUST)
    # get_plan with a progress token follows the running execution: notifications well past execute's answer,
    # increasing within each call, up to the end; each call still answers within 10 s
    assert all(calls and calls[0][1] >= 0 for calls in later)
    assert all([p for _, p in c] == sorted({p for _, p in c}) for c in later), later
    assert max(t for c in later for t, _ in c) > took + 5
    assert max(p for c in later for _, p in c) == pytest.approx(1.0, abs=0.01)
    assert all(waited < 10 for waited, _ in seen), [w for w, _ in seen]
    assert len(seen) < 10  # followed, not busy-polled
    final = seen[-1][1]
    assert final["status"] == "executed:ok", final
    assert final["report"]["status"] == "ok" and final["report"]["orders_sent"] >= len(preview["actions"])
    assert all(leg["progress"] == pytest.approx(1.0, abs=0.01) for leg in final["legs"])
    code, rows = run_json("history", "--config", str(cfg))  # one cycle, recorded as every execution is
    assert code == 0 and [r["plan_id"] for r in rows if r.get("plan_id") == preview["plan_id"]]


def test_the_cli_execute_shows_a_running_twaps_progress(tmp_path, standin):
    cfg = _config(tmp_path, standin)
    code, plan = run_json("preview", "--config", str(cfg))
    assert code == 0 and any(a["order_type"] == "twap" for a in plan["actions"])
    p = run("execute", plan["plan_id"], "--confirm", plan["confirm_token"], "--yes", "--config", str(cfg), timeout=300)
    assert p.returncode == 0, p.stderr
    lines = [line for line in p.stderr.splitlines() if "TWAP over" in line]
    assert lines, p.stderr
    assert any("resting" in line for line in lines) and any("100%" in line for line in lines), lines

"""One read per question: what a page load, a preview and confirm, ``status`` and a heartbeat tick spend at the
exchange (the stand-in's weight accounting, as Hyperliquid counts it) and how many plans they make.

Budgets: the advisor's ``GET /`` ≤ 40 weight and ≤ 1 plan once today's candles are kept; a preview and its
confirm ≤ 2 plans; ``status`` ≤ 1 plan and ≤ 2 × (one account read + one market read) once the doctor's answers
are kept; a heartbeat tick 1 plan; no identical /info request twice within one question.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from clirun import made_db
from typer.testing import CliRunner

from agent.adapters import readscope
from agent.adapters.hyperliquid.client import HyperliquidExchange
from agent.core.planner import PortfolioRebalancer
from agent.interfaces.cli import app
from agent.interfaces.web import WebServer
from agent.services.config import load_settings
from agent.services.runtime import open_runtime
from agent.services.trading.heartbeat import Heartbeat
from agent.standin import DEMO_ACCOUNT_ADDRESS, load_demo_snapshot, serve
from agent.standin.server import StandInServer
from agent.standin.weights import Request, duplicates

TARGETS = '"UBTC/USDC" = 0.25\n"UETH/USDC" = 0.30\n"USOL/USDC" = 0.25\nAVAX = 0.0\nUSDC = 0.20\n'
COINS = ["AVAX", "UBTC/USDC", "UETH/USDC", "USOL/USDC"]


@dataclass
class Spent:
    requests: list[Request] = field(default_factory=list)
    plans: int = 0

    @property
    def weight(self) -> int:
        return sum(r.weight for r in self.requests)

    def kinds(self) -> list[str | None]:
        return [r.kind for r in self.requests]


@pytest.fixture
def standin() -> Iterator[StandInServer]:
    with serve(load_demo_snapshot()) as server:
        yield server


@pytest.fixture
def measure(standin: StandInServer, monkeypatch: pytest.MonkeyPatch) -> Callable[[], Any]:
    """``with measure() as spent:`` → the requests the stand-in received and the plans made inside the block."""
    plans = [0]
    original = PortfolioRebalancer.create_rebalancing_plan

    def counted(self: PortfolioRebalancer, *a: Any, **kw: Any) -> Any:
        plans[0] += 1
        return original(self, *a, **kw)

    monkeypatch.setattr(PortfolioRebalancer, "create_rebalancing_plan", counted)

    @contextmanager
    def block() -> Iterator[Spent]:
        start, before, out = len(standin.requests), plans[0], Spent()
        yield out
        out.requests, out.plans = standin.requests.since(start), plans[0] - before

    return block


def config(tmp_path: Path, url: str) -> Path:
    cfg = tmp_path / "rebalancer.toml"
    made_db(tmp_path / "h.db")
    cfg.write_text(f'network = "{url}"\ndb = "{tmp_path / "h.db"}"\n\n[targets]\n{TARGETS}')
    return cfg


def field_of(html: str, name: str) -> str:
    return html.split(f'name="{name}" value="', 1)[1].split('"', 1)[0]


def test_advisor_page_preview_and_confirm_within_budget(tmp_path, standin, measure):
    settings = load_settings(config(tmp_path, standin.url), env={})
    with open_runtime(settings) as svc:
        web = WebServer(svc, host="127.0.0.1", port=0).start()
        try:
            with httpx.Client(base_url=web.base, timeout=60) as c:
                with measure() as first:
                    page = c.get(web.url, follow_redirects=True)  # the session; today's candles are kept
                assert page.status_code == 200 and first.plans == 1
                with measure() as load:
                    c.get("/").raise_for_status()
                assert load.weight <= 40 and load.plans <= 1, load.kinds()
                assert "candleSnapshot" not in load.kinds() and duplicates(load.requests) == []
                csrf = field_of(page.text, "csrf")
                with measure() as preview:
                    shown = c.post("/preview", data={"csrf": csrf})
                shown.raise_for_status()
                plan_id, token = field_of(shown.text, "plan_id"), field_of(shown.text, "confirm_token")
                with measure() as confirm:
                    done = c.post("/execute", data={"csrf": csrf, "plan_id": plan_id, "confirm_token": token})
                assert 'id="exec-status">ok<' in done.text
        finally:
            web.stop()
    assert preview.plans + confirm.plans <= 2
    assert duplicates(preview.requests) == [] and duplicates(confirm.requests) == []
    # the confirm reads the account afresh, once, before it sends anything
    before_orders = confirm.kinds()[: confirm.kinds().index("order")]
    assert before_orders.count("clearinghouseState") == 1 and before_orders.count("spotClearinghouseState") == 1


def test_status_reads_the_account_and_market_once_and_keeps_the_doctor(tmp_path, standin, measure):
    with measure() as reference, readscope.question():  # one account read and one market read, fresh client
        ex = HyperliquidExchange(standin.url, account_address=DEMO_ACCOUNT_ADDRESS)
        ex.market(books=sorted(set(ex.account_state().positions) | set(COINS)))
    cfg = config(tmp_path, standin.url)
    runs = []
    for _ in range(2):
        with measure() as spent:
            result = CliRunner().invoke(app, ["status", "--config", str(cfg), "--json"])
        assert result.exit_code == 0, result.output
        runs.append(spent)
    first, second = runs
    assert first.plans == second.plans == 1
    assert "userRateLimit" in first.kinds()  # the doctor's checks of the interval, asked once and kept
    assert "userRole" not in first.kinds()  # the wiring (60 weight alone) is read by `doctor` only
    assert "userRole" not in second.kinds() and "userRateLimit" not in second.kinds()
    assert first.weight <= 2 * reference.weight and second.weight <= 2 * reference.weight
    assert duplicates(first.requests) == [] and duplicates(second.requests) == []


def test_a_heartbeat_tick_plans_once(tmp_path, standin, measure):
    settings = load_settings(config(tmp_path, standin.url), env={})
    with open_runtime(settings) as svc:
        with measure() as tick:
            result = Heartbeat(svc, autonomy="confirm").tick()
        stored = svc.store.plans.get(result.plan_id or "")
    assert result.status == "pending-confirm" and result.confirm_token
    assert tick.plans == 1 and duplicates(tick.requests) == []
    assert stored is not None and stored.plan.target_source == "config"  # the plan is the config's target's


def test_reads_within_a_question_are_made_once_and_polled_reads_every_time(standin):
    ex = HyperliquidExchange(standin.url, account_address=DEMO_ACCOUNT_ADDRESS)
    start = len(standin.requests)
    ex.account_state()
    ex.account_state()
    outside = [r.kind for r in standin.requests.since(start)]
    assert outside.count("clearinghouseState") == 2  # no question: every read goes out
    start = len(standin.requests)
    with readscope.question():
        ex.account_state()
        ex.market(books=["AVAX"])
        ex.order_status("0x" + "0" * 32)
        ex.order_status("0x" + "0" * 32)
        readscope.forget()  # what an action does
        ex.account_state()
    inside = [r.kind for r in standin.requests.since(start)]
    assert inside.count("clearinghouseState") == 2 and inside.count("allMids") == 2
    assert inside.count("orderStatus") == 2  # polled: never answered from the question
    with readscope.question():
        before = ex.server_time_ms(fresh=True)
        assert ex.server_time_ms(fresh=True) >= before  # fresh: asked again
    assert [r.kind for r in standin.requests.since(start)].count("clearinghouseState") == 4

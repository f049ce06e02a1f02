"""Settings stored from the page only tighten the config file's: autonomy lower, max position lower,
thresholds higher (unless ``[web] allow_loosen = true``). Through Chromium, and ``config show`` through the
console script, which prints each setting's effective value, its source and the file's value.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from clirun import run_json
from web_support import Advisor, write_config

from agent.adapters.store.db import Store
from agent.interfaces.web import WebServer
from agent.services import preferences
from agent.services.config import load_settings
from agent.services.runtime import open_runtime

FILE = """
[heartbeat]
autonomy = "confirm"

[limits]
max_weight = 0.4

[rebalance]
position_threshold = 0.05
portfolio_threshold = 0.04
"""

THRESHOLD = "[id='rebalance.position_threshold']"


def _advisor(tmp_path: Path, extra: str) -> Iterator[Advisor]:
    cfg = write_config(tmp_path, extra=extra)
    settings = load_settings(cfg, env={})
    Store(settings.db, init=True).close()
    with open_runtime(settings) as svc:
        server = WebServer(svc, host="127.0.0.1", port=0).start()
        try:
            yield Advisor(svc, server, cfg)
        finally:
            server.stop()


@pytest.fixture
def strict(tmp_path: Path) -> Iterator[Advisor]:
    yield from _advisor(tmp_path, FILE)


@pytest.fixture
def loose(tmp_path: Path) -> Iterator[Advisor]:
    yield from _advisor(tmp_path, "[web]\nallow_loosen = true\n" + FILE)


def _open_settings(page, advisor: Advisor) -> None:
    assert page.goto(advisor.server.url).status == 200
    page.goto(advisor.base + "/settings")


def test_the_page_refuses_every_loosening_and_saves_nothing(strict, page):
    _open_settings(page, strict)
    assert "may only tighten" in page.inner_text("body")
    page.select_option("[id='heartbeat.autonomy']", "auto")
    page.fill("[id='limits.max_weight']", "")
    page.fill(THRESHOLD, "0")
    page.fill("[id='rebalance.portfolio_threshold']", "0")
    page.click("#save")
    assert page.locator("#not-saved").is_visible()
    errors = {
        key: page.locator(f"[id='error-{key}']").inner_text()
        for key in (
            "heartbeat.autonomy",
            "limits.max_weight",
            "rebalance.position_threshold",
            "rebalance.portfolio_threshold",
        )
    }
    assert errors["heartbeat.autonomy"].startswith("looser than the config file's confirm")
    assert errors["limits.max_weight"].startswith("looser than the config file's 40 %")
    assert errors["rebalance.position_threshold"].startswith("looser than the config file's 5 %")
    assert errors["rebalance.portfolio_threshold"].startswith("looser than the config file's 4 %")
    s = strict.svc.settings
    assert (s.heartbeat.autonomy, s.limits.max_weight, s.rebalance.position_threshold) == ("confirm", 0.4, 0.05)
    assert preferences.stored(strict.svc.store) == {}


def test_the_page_stores_a_tighter_value_and_shows_its_source_and_the_files(strict, page):
    _open_settings(page, strict)
    page.select_option("[id='heartbeat.autonomy']", "advise")
    page.fill("[id='limits.max_weight']", "25")
    page.fill(THRESHOLD, "8")
    page.click("#save")
    assert "saved" in page.locator("#notice").inner_text()
    page.reload()
    row = "tr[data-key='rebalance.position_threshold']"
    assert page.locator(THRESHOLD).input_value() == "8"
    assert page.locator(f"{row} .source").inner_text() == "stored"
    assert page.locator(f"{row} td").nth(3).inner_text() == "5"  # the file's value beside it
    s = strict.svc.settings
    assert (s.heartbeat.autonomy, s.limits.max_weight, s.rebalance.position_threshold) == ("advise", 0.25, 0.08)


def test_allow_loosen_in_the_file_lets_the_page_loosen(loose, page):
    _open_settings(page, loose)
    page.select_option("[id='heartbeat.autonomy']", "auto")
    page.fill(THRESHOLD, "1")
    page.click("#save")
    assert "saved" in page.locator("#notice").inner_text()
    assert loose.svc.settings.heartbeat.autonomy == "auto"
    assert loose.svc.settings.rebalance.position_threshold == pytest.approx(0.01)


def test_config_show_prints_effective_value_source_and_file_value_and_ignores_a_stored_loosening(tmp_path):
    cfg = write_config(tmp_path, extra=FILE)
    settings = load_settings(cfg, env={})
    store = Store(settings.db, init=True)
    # as an older version (or a file tightened since) could have left them: one looser, one tighter
    store.records.set(preferences.RECORD, {"heartbeat.autonomy": "auto", "rebalance.position_threshold": 0.07})
    store.close()
    code, shown = run_json("config", "show", "--config", str(cfg))
    assert code == 0
    rows = shown["stored_settings"]
    assert rows["heartbeat.autonomy"] == {"value": "confirm", "source": "config file", "config_file": "confirm"}
    assert rows["rebalance.position_threshold"] == {"value": 0.07, "source": "stored", "config_file": 0.05}
    assert shown["heartbeat"]["autonomy"] == "confirm" and shown["rebalance"]["position_threshold"] == 0.07

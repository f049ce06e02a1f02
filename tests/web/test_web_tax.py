"""The advisor page's Tax panel in Chromium: with [tax] on, the plan's estimated gain by term, each sell and its
lots, and the harvesting proposals; with it off, no panel."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from clirun import made_db
from web_support import WebServer, shot

from agent.services.config import load_settings
from agent.services.runtime import open_runtime

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tax.conftest import DEMO, FILLS

TARGETS = '"UBTC/USDC" = 0.10\n"UETH/USDC" = 0.37\n"USOL/USDC" = 0.245\nAVAX = 0.059\nUSDC = 0.226\n'


def serve(tmp_path, tax: str):
    snap = json.loads(DEMO.read_text())
    snap["userFills"] = sorted(FILLS, key=lambda f: -f["time"])
    cfg = tmp_path / "t.toml"
    made_db(tmp_path / "h.db")
    cfg.write_text(f'network = "local"\ndb = "{tmp_path / "h.db"}"\n[targets]\n{TARGETS}\n{tax}\n')
    return open_runtime(load_settings(cfg, env={}), standin_snapshot=snap)


def test_the_tax_panel_shows_the_plans_gain_and_harvesting(tmp_path, page):
    tax = '[tax]\njurisdiction = "us"\nlot_selection = "hifo"\nharvest = true\nharvest_min_loss_usd = 500\n'
    with serve(tmp_path, tax) as svc:
        server = WebServer(svc, host="127.0.0.1", port=0, read_only=False).start()
        try:
            page.goto(server.url)
            panel = page.locator("#tax")
            assert panel.locator("h2").text_content() == "Tax (US, hifo)"  # the page's CSS shows it in capitals
            text = panel.inner_text()
            assert "Estimated realised gain of this plan" in text
            assert "UBTC" in text and "long" in text
            assert "USOL/USDC" in text  # the harvesting proposal: the lot far under its basis
            shot(page, "web-tax.png")
        finally:
            server.stop()


def test_no_tax_panel_when_tax_is_off(tmp_path, page):
    with serve(tmp_path, "") as svc:
        server = WebServer(svc, host="127.0.0.1", port=0, read_only=False).start()
        try:
            page.goto(server.url)
            assert page.locator("#tax").count() == 0
        finally:
            server.stop()

"""Helpers and fixtures for the advisor tests (imported by name: a module called ``conftest`` would be
shadowed by another folder's).

The advisor page against the local stand-in: the real runtime, the real server on an ephemeral loopback
port, and Debian's Chromium driven by Playwright (skipped with a reason where /usr/bin/chromium is absent).

Screenshots go to ``artifacts/web/`` (gitignored); the README's come from there (``docs/web-*.png``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from clirun import made_db

from agent.interfaces.web import WebServer
from agent.services.app import Services
from agent.services.config import load_settings
from agent.services.runtime import open_runtime

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",  # CI runs as root
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "web"
TARGET = '"UBTC/USDC" = 0.25\n"UETH/USDC" = 0.30\n"USOL/USDC" = 0.25\nAVAX = 0.0\nUSDC = 0.20\n'


@dataclass
class Advisor:
    svc: Services
    server: WebServer
    config: Path

    @property
    def base(self) -> str:
        return self.server.base


def write_config(tmp_path: Path, targets: str | None = TARGET, extra: str = "") -> Path:
    """A local-stand-in config; ``targets=None`` leaves the target to the (offline) strategist."""
    cfg = tmp_path / "rebalancer.toml"
    body = f'network = "local"\ndb = "{made_db(tmp_path / "h.db")}"\n{extra}\n'
    cfg.write_text(body + (f"\n[targets]\n{targets}" if targets else ""))
    return cfg


def start(
    tmp_path: Path, *, read_only: bool = False, standin_snapshot: dict[str, Any] | None = None, targets: str = TARGET
) -> Iterator[Advisor]:
    cfg = write_config(tmp_path, targets)
    with open_runtime(load_settings(cfg, env={}), standin_snapshot=standin_snapshot) as svc:
        server = WebServer(svc, host="127.0.0.1", port=0, read_only=read_only).start()
        try:
            yield Advisor(svc, server, cfg)
        finally:
            server.stop()


@pytest.fixture
def advisor(tmp_path: Path) -> Iterator[Advisor]:
    yield from start(tmp_path)


@pytest.fixture
def read_only_advisor(tmp_path: Path) -> Iterator[Advisor]:
    yield from start(tmp_path, read_only=True)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is absent: `apt-get install chromium` (CI's .ci/run does) runs these tests")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1440, "height": 1100})
    try:
        yield context.new_page()
    finally:
        context.close()


def shot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path), full_page=True)
    return path


def script_named_snapshot() -> dict[str, Any]:
    """The demo account with its AVAX perp renamed to a coin name that carries a script."""
    from agent.standin import load_demo_snapshot

    text = json.dumps(load_demo_snapshot()).replace('"AVAX"', json.dumps(EVIL))
    return json.loads(text)


EVIL = "<script>alert(1)</script>"

"""The advisor over plain HTTP (no browser): read-only mode, the CLI's refusals, the page's headers."""

from __future__ import annotations

import re
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
from clirun import SCRIPT, clean_env, invoke

from agent.standin.demo import DEMO_SECRET_KEY


@contextmanager
def client(advisor) -> Iterator[httpx.Client]:
    """A client holding the session cookie the printed address gives."""
    with httpx.Client(base_url=advisor.base, follow_redirects=False, timeout=30) as c:
        first = c.get(advisor.server.url)
        assert first.status_code == 303 and first.headers["location"] == "/"
        cookie = first.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie
        yield c


def csrf_of(html: str) -> str:
    return html.split('name="csrf" value="', 1)[1].split('"', 1)[0]


def test_read_only_previews_but_offers_no_confirm_and_refuses_writes(read_only_advisor):
    advisor = read_only_advisor
    with client(advisor) as c:
        page = c.get("/")
        assert page.status_code == 200 and "read-only" in page.text and 'id="pause"' not in page.text
        csrf = csrf_of(page.text)
        previewed = c.post("/preview", data={"csrf": csrf})
        assert previewed.status_code == 200 and 'id="confirm"' not in previewed.text
        assert "Confirm is switched off" in previewed.text
        plan = advisor.svc.plans(days=1)[0]
        for path, form in (
            ("/execute", {"plan_id": plan["plan_id"], "confirm_token": "x"}),
            ("/settings", {"rebalance.position_threshold": "3"}),
            ("/settings/forget", {}),
            ("/pause", {}),
        ):
            r = c.post(path, data={"csrf": csrf, **form})
            assert r.status_code == 403 and "read-only" in r.text, path
        assert advisor.svc.settings.rebalance.position_threshold == pytest.approx(0.05)
        assert not advisor.svc.is_paused()
        assert advisor.svc.plan_detail(plan["plan_id"])["status"] == "previewed"  # never executed


def test_every_page_carries_the_safety_headers_and_never_the_key(advisor):
    with client(advisor) as c:
        for path in ("/", "/settings", "/history"):
            r = c.get(path)
            assert r.status_code == 200
            assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
            assert r.headers["referrer-policy"] == "no-referrer" and r.headers["x-frame-options"] == "DENY"
            assert DEMO_SECRET_KEY.removeprefix("0x") not in r.text
        assert c.put("/", content=b"").status_code == 403


def test_pause_from_the_page_refuses_the_next_preview_and_resume_lifts_it(advisor):
    with client(advisor) as c:
        csrf = csrf_of(c.get("/").text)
        assert c.post("/pause", data={"csrf": csrf}).status_code == 303
        assert advisor.svc.is_paused()
        refused = c.post("/preview", data={"csrf": csrf})
        assert refused.status_code == 409 and "trading is paused" in refused.text and 'id="confirm"' not in refused.text
        assert c.post("/resume", data={"csrf": csrf}).status_code == 303
        assert not advisor.svc.is_paused()


def test_web_refuses_a_non_loopback_host_without_allow_remote_and_a_bad_port(tmp_path):
    p = invoke("web", "--host", "0.0.0.0")
    assert p.returncode == 2 and "allow_remote" in p.stderr and p.stdout == ""
    p = invoke("web", "--port", "70000")
    assert p.returncode == 2 and "--port" in p.stderr


def test_the_console_script_prints_the_advisor_address_and_serves_it_until_sigterm(tmp_path):
    from web_support import write_config

    cfg = write_config(tmp_path)
    proc = subprocess.Popen(
        [str(SCRIPT), "web", "--port", "0", "--config", str(cfg)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=clean_env(),
    )
    try:
        line = proc.stdout.readline()
        assert re.fullmatch(r"Advisor: http://127\.0\.0\.1:\d+/\?token=[\w-]{40,}\n", line), line
        url = line.split(" ", 1)[1].strip()
        with httpx.Client(follow_redirects=True, timeout=30) as c:
            assert c.get(url.split("?")[0]).status_code == 403
            page = c.get(url)
            assert page.status_code == 200 and "Rebalance Advisor" in page.text and "UBTC/USDC" in page.text
        busy = invoke("web", "--port", url.split(":")[2].split("/")[0], "--config", str(cfg))
        assert busy.returncode == 2 and "cannot listen" in busy.stderr
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_the_advisor_page_shows_todays_market_data_date_and_its_source(advisor):
    from datetime import UTC, datetime

    with client(advisor) as c:
        page = c.get("/")
    assert page.status_code == 200
    today = datetime.now(UTC).date().isoformat()
    assert f"Market data as of {today}" in page.text and "stand-in" in page.text

"""The Rebalance Advisor in a real browser (Debian's Chromium via Playwright) against the local stand-in."""

from __future__ import annotations

import re

import pytest
from clirun import run_json
from web_support import EVIL, script_named_snapshot, shot, start

from agent.standin.demo import DEMO_SECRET_KEY


def pct(x: float) -> str:
    return f"{x * 100:.1f} %"


def money(x: float) -> str:
    return f"−${-x:,.2f}" if x < 0 else f"${x:,.2f}"


def open_page(page, advisor) -> None:
    response = page.goto(advisor.server.url)
    assert response.status == 200
    assert page.url == advisor.base + "/"  # the token left the address bar


def test_the_page_opens_with_the_token_and_its_three_columns_show_the_numbers_of_status_json(advisor, page):
    open_page(page, advisor)
    cookie = next(c for c in page.context.cookies() if c["name"] == "rebalancer_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    code, status = run_json("status", "--config", str(advisor.config))
    assert code == 0
    rows = [r for r in status["rows"]]
    assert rows
    for r in rows:
        coin = r["coin"]
        if abs(r["current_weight"]) > 1e-9:
            row = page.locator(f"#current tr[data-coin='{coin}']")
            assert row.locator(".weight").inner_text() == pct(r["current_weight"])
            assert row.locator(".value").inner_text() == money(r["value_usd"])
        if abs(r["target_weight"]) > 1e-9:
            assert page.locator(f"#target tr[data-coin='{coin}'] .weight").inner_text() == pct(r["target_weight"])
    trades = page.locator("#trades tr.trade")
    assert trades.count() == len(status["actions"])
    sells_first = sorted(status["actions"], key=lambda a: a["side"] != "sell")
    for i, a in enumerate(sells_first):
        row = trades.nth(i)
        assert row.get_attribute("data-coin") == a["coin"]
        assert row.locator(".size").inner_text() == f"{a['size']:g}"
        assert row.locator(".usd").inner_text() == money(a["notional_usd"])
    assert page.locator("#equity").inner_text() == money(status["summary"]["equity_usd"])
    header = page.locator("#header").inner_text()
    assert "every 3 days" in header and "5 % / 5 %" in header and "Account mode: unified account" in header
    sensitivity = page.locator("#sensitivity")
    assert sensitivity.locator("svg").count() == 1  # current against rebalanced, drawn from the services
    assert "past data, not a forecast" in sensitivity.inner_text()
    score = page.locator("#comparison tbody tr:first-child td:nth-child(2)").inner_text()  # average score
    assert re.fullmatch(r"[+-]\d+\.\d{3}", score)
    assert page.locator("#confirm").count() == 0  # no Confirm before a preview
    shot(page, "advisor.png")


def test_preview_then_confirm_trades_once_and_a_second_confirm_is_refused(advisor, page):
    open_page(page, advisor)
    page.click("#preview")
    plan_id = page.locator("#plan-id").inner_text()
    token = page.locator("input[name=confirm_token]").get_attribute("value")
    csrf = page.locator("input[name=csrf]").first.get_attribute("value")
    assert plan_id and token and re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", page.locator("#expires").inner_text())
    shot(page, "advisor-preview.png")
    page.click("#confirm")
    assert page.locator("#exec-status").text_content() == "ok"
    n = advisor.svc.plan_detail(plan_id)["num_trades"]
    assert page.locator("#execution tr.fill").count() == n
    assert page.locator("#realised").inner_text().startswith("$")
    assert page.locator("#confirm").count() == 0
    shot(page, "advisor-executed.png")
    orders = advisor.svc.plan_detail(plan_id)["orders"]
    again = page.request.post(
        advisor.base + "/execute", form={"csrf": csrf, "plan_id": plan_id, "confirm_token": token}
    )
    assert again.status == 409 and "already used" in again.text()
    assert advisor.svc.plan_detail(plan_id)["orders"] == orders  # nothing more was sent
    cycles = advisor.svc.history(60)
    assert [c["source"] for c in cycles] == ["web"] and cycles[0]["plan_id"] == plan_id
    page.goto(advisor.base + "/history")
    row = page.locator("#cycles tr.cycle").first
    assert "web" in row.inner_text() and "executed:ok" in row.inner_text()
    page.locator("#cycles details summary").first.click()
    assert plan_id in page.locator("#cycles tr.detail").first.inner_text()
    shot(page, "history.png")
    secret = DEMO_SECRET_KEY.removeprefix("0x")
    for path in ("/", "/settings", "/history"):
        page.goto(advisor.base + path)
        assert secret not in page.content()


def test_a_settings_change_persists_across_a_reload_and_an_invalid_one_is_shown_and_not_saved(advisor, page):
    open_page(page, advisor)
    page.goto(advisor.base + "/settings")
    field = "[id='rebalance.position_threshold']"
    source = "tr[data-key='rebalance.position_threshold'] .source"
    assert page.locator(field).input_value() == "5" and page.locator(source).inner_text() == "default"
    page.fill(field, "7")  # tighter than the default 5 %: stored settings only tighten
    page.select_option("[id='rebalance.calendar_days']", "7")
    page.click("#save")
    assert "saved" in page.locator("#notice").inner_text()
    page.reload()
    assert page.locator(field).input_value() == "7" and page.locator(source).inner_text() == "stored"
    assert page.locator("[id='rebalance.calendar_days']").input_value() == "7"
    assert advisor.svc.settings.rebalance.position_threshold == pytest.approx(0.07)  # it takes effect
    page.goto(advisor.base + "/")
    header = page.locator("#header").inner_text()
    assert "7 % / 5 %" in header and "every 7 days" in header
    page.goto(advisor.base + "/settings")
    page.fill(field, "150")
    page.fill("[id='strategist.top_percentile']", "40")
    page.click("#save")
    error = page.locator("[id='error-rebalance.position_threshold']")
    assert error.inner_text() == "must be at most 100 %"
    assert page.locator("#not-saved").is_visible()
    shot(page, "settings.png")
    page.goto(advisor.base + "/settings")
    assert page.locator(field).input_value() == "7"  # nothing was saved, not even the valid field
    assert page.locator("[id='strategist.top_percentile']").input_value() == "50"
    assert advisor.svc.settings.strategist.top_percentile == pytest.approx(0.5)


def test_a_request_without_the_token_gets_403(advisor, page):
    for path in ("/", "/settings", "/history", "/static/app.css"):
        assert page.goto(advisor.base + path).status == 403
    assert page.goto(advisor.base + "/?token=wrong").status == 403
    assert page.context.cookies() == []


def test_a_post_without_the_csrf_token_is_refused(advisor, page):
    open_page(page, advisor)
    for path in ("/preview", "/execute", "/pause", "/settings"):
        assert page.request.post(advisor.base + path, form={"rebalance.position_threshold": "3"}).status == 403
        assert page.request.post(advisor.base + path, form={"csrf": "forged"}).status == 403
    assert advisor.svc.plans(days=1) == []
    assert not advisor.svc.is_paused()
    assert advisor.svc.settings.rebalance.position_threshold == pytest.approx(0.05)


def test_a_script_in_a_coin_name_is_shown_as_text(tmp_path, page):
    targets = '"UBTC/USDC" = 0.25\n"UETH/USDC" = 0.30\n"USOL/USDC" = 0.25\nUSDC = 0.20\n'
    for advisor in start(tmp_path, standin_snapshot=script_named_snapshot(), targets=targets):
        dialogs: list[str] = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        open_page(page, advisor)
        assert page.locator("#current td.coin", has_text=EVIL).count() == 1
        assert page.locator("#trades td.coin", has_text=EVIL).count() == 1
        page.click("#preview")
        assert page.locator("#trades td.coin", has_text=EVIL).count() == 1
        assert page.locator("script").count() == 0 and dialogs == []
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.content()

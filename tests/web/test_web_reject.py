"""The advisor's Reject button in a real browser (Chromium via Playwright) against the local stand-in: the
preview is refused with a reason, its token is spent, and the reason is kept for the next decision."""

from __future__ import annotations

from web_support import EVIL, shot

REASON = "keep SOL until the staking unlock"


def open_page(page, advisor) -> None:
    assert page.goto(advisor.server.url).status == 200


def test_reject_with_a_reason_spends_the_token_and_records_why(advisor, page):
    open_page(page, advisor)
    assert page.locator("#reject").count() == 0  # nothing to reject before a preview
    page.click("#preview")
    plan_id = page.locator("#plan-id").inner_text()
    token = page.locator("input[name=confirm_token]").get_attribute("value")
    csrf = page.locator("input[name=csrf]").first.get_attribute("value")
    page.fill("#reject-reason", REASON)
    shot(page, "advisor-reject.png")
    page.click("#reject")
    assert page.locator("#notice").inner_text() == f"Plan {plan_id} rejected: {REASON} (the next decision sees why)"
    assert page.locator("#confirm").count() == 0
    shot(page, "advisor-rejected.png")
    detail = advisor.svc.plan_detail(plan_id)
    assert detail["status"] == "rejected"
    assert detail["rejection"]["reason"] == REASON and detail["rejection"]["by"] == "web"
    again = page.request.post(
        advisor.base + "/execute", form={"csrf": csrf, "plan_id": plan_id, "confirm_token": token}
    )
    assert again.status == 409 and "rejected" in again.text()
    assert advisor.svc.plan_detail(plan_id)["orders"] == []
    twice = page.request.post(advisor.base + "/reject", form={"csrf": csrf, "plan_id": plan_id, "reason": "again"})
    assert twice.status == 409 and "only a previewed plan can be rejected" in twice.text()
    assert advisor.svc.plan_detail(plan_id)["rejection"]["reason"] == REASON
    page.goto(advisor.base + "/history")
    row = page.locator(f"#rejected tr[data-plan='{plan_id}']")
    assert row.locator(".reason").inner_text() == REASON and "web" in row.inner_text()
    shot(page, "history-rejected.png")


def test_bad_rejections_are_refused_and_change_nothing(advisor, page):
    open_page(page, advisor)
    page.click("#preview")
    plan_id = page.locator("#plan-id").inner_text()
    csrf = page.locator("input[name=csrf]").first.get_attribute("value")
    post = page.request.post
    assert post(advisor.base + "/reject", form={"plan_id": plan_id, "reason": "no csrf"}).status == 403
    for form, status, says in (
        ({"plan_id": plan_id, "reason": "   "}, 400, "reason"),
        ({"plan_id": plan_id, "reason": "x" * 501}, 400, "at most 500"),
        ({"plan_id": "p_unknown", "reason": "why"}, 400, "unknown plan id"),
    ):
        answer = post(advisor.base + "/reject", form={"csrf": csrf, **form})
        assert answer.status == status and says in answer.text(), form
    assert advisor.svc.plan_detail(plan_id)["status"] == "previewed"


def test_a_reason_with_markup_is_shown_as_text(advisor, page):
    open_page(page, advisor)
    page.click("#preview")
    page.fill("#reject-reason", EVIL)
    page.click("#reject")
    assert EVIL in page.locator("#notice").inner_text()  # escaped: shown, not run
    assert page.locator("#notice script").count() == 0


def test_read_only_pages_offer_no_reject(read_only_advisor, page):
    open_page(page, read_only_advisor)
    page.click("#preview")
    assert page.locator("#reject").count() == 0
    csrf = page.locator("input[name=csrf]").first.get_attribute("value")
    (plan,) = read_only_advisor.svc.plans()
    answer = page.request.post(
        read_only_advisor.base + "/reject", form={"csrf": csrf, "plan_id": plan["plan_id"], "reason": "no"}
    )
    assert answer.status == 403
    assert read_only_advisor.svc.plan_detail(plan["plan_id"])["status"] == "previewed"

"""The Rebalance Advisor as an ASGI app over the services: routes that translate, nothing that decides.

``create_app(services, session, read_only=False)``: ``/`` the advisor (the same plan ``status`` shows),
``POST /preview`` and ``POST /execute`` (the services' single-use token rules), ``POST /reject`` (a preview
refused with a reason, which the next decision sees), ``POST /pause`` and
``/resume`` (the kill switch), ``/settings`` (stored settings, checked by the config's rules), ``/history``.
Every request passes :class:`~agent.interfaces.web.security.Guard`; every POST carries the CSRF token.
"""

from __future__ import annotations

import logging
from html import escape
from importlib.resources import files
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from agent.core import errors
from agent.core.domain import Market, PortfolioState, RebalancingPlan
from agent.core.text import safe
from agent.interfaces.web import pages
from agent.interfaces.web.security import Guard, Session, forbidden
from agent.services.evidence import advisor as advisor_rules

if TYPE_CHECKING:
    from agent.services.app import Services

log = logging.getLogger("rebalancer.web")

#: HTTP status of a page that reports one of our errors (the page itself says why)
STATUS = {
    errors.ValidationError: 400,
    errors.ConfigError: 400,
    errors.RiskLimitError: 409,
    errors.TradingPaused: 409,
    errors.ConfirmationError: 409,
    errors.AccountBusy: 409,
    errors.ExchangeError: 502,
    errors.StrategistError: 502,
}


def _status(e: Exception) -> int:
    return next((code for cls, code in STATUS.items() if isinstance(e, cls)), 500)


def _message(e: Exception) -> str:
    if isinstance(e, errors.RebalancerError):
        return safe(" ".join(str(e).split()))
    log.exception("unexpected error in the web page")
    return f"unexpected {type(e).__name__} (logged on the server)"


class OneQuestion:
    """Each request is one question: within it an identical exchange read is made once (``Services.question``)."""

    def __init__(self, app: ASGIApp, services: Services) -> None:
        self.app, self.services = app, services

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        with self.services.question():  # the request's thread-pool calls share it (a copied context)
            await self.app(scope, receive, send)


def create_app(services: Services, session: Session, *, read_only: bool = False) -> Starlette:
    svc = services

    def html(body: str, status: int = 200) -> HTMLResponse:
        return HTMLResponse(body, status_code=status)

    async def form(request: Request) -> dict[str, str] | None:
        """The POST's fields, or None when its CSRF token is missing or wrong."""
        data = await request.form()
        if not session.valid_csrf(data.get("csrf")):
            return None
        return {k: v for k, v in data.items() if isinstance(v, str) and k != "csrf"}

    async def write_form(request: Request, off: str) -> dict[str, str] | Response:
        """A write's fields, or the 403 it gets: a missing or wrong CSRF token, or ``off`` on a read-only page."""
        fields = await form(request)
        if fields is None:
            return forbidden("missing or wrong CSRF token")
        return forbidden(f"read-only: {off}") if read_only else fields

    def observed_plan(preview: bool) -> tuple[RebalancingPlan, Market, PortfolioState]:
        """One read of the exchange; the plan `status` shows, or a preview (`preview`'s rules) from it."""
        state, market = advisor_rules.observe(svc)
        if preview:
            return svc.preview(None, source="web", state=state, market=market), market, state
        return svc.plan(None, state=state, market=market), market, state

    async def advisor(request: Request, *, preview: bool = False, **kw: Any) -> HTMLResponse:
        status = kw.pop("status", 200)
        plan = market = state = None
        try:
            plan, market, state = await run_in_threadpool(observed_plan, preview)
        except Exception as e:
            if preview:  # refused (paused, risk gate) or failed: show why, and the plan without a token
                return await advisor(request, error=_message(e), status=_status(e))
            kw["error"] = " · ".join(m for m in (kw.get("error"), _message(e)) if m)
            status = max(status, _status(e))
        if preview and plan is not None and not plan.confirm_token:
            kw["notice"] = "Nothing to execute: " + plan.reason
        body = await run_in_threadpool(
            lambda: pages.advisor_page(
                svc, plan, market, csrf=session.csrf, read_only=read_only, previewed=preview, state=state, **kw
            )
        )
        return html(body, status)

    async def index(request: Request) -> Response:
        return await advisor(request, notice=request.query_params.get("notice"))

    async def preview(request: Request) -> Response:
        if await form(request) is None:
            return forbidden("missing or wrong CSRF token")
        return await advisor(request, preview=True)

    async def execute(request: Request) -> Response:
        fields = await write_form(request, "Confirm is switched off (rebalancer web --read-only)")
        if isinstance(fields, Response):
            return fields
        plan_id, token = fields.get("plan_id", ""), fields.get("confirm_token", "")
        try:
            report = await run_in_threadpool(lambda: svc.execute(plan_id, token, source="web"))
        except Exception as e:
            return await advisor(request, error=_message(e), status=_status(e))
        return await advisor(request, report=report)

    async def reject(request: Request) -> Response:
        fields = await write_form(request, "Reject is switched off (rebalancer web --read-only)")
        if isinstance(fields, Response):
            return fields
        plan_id, reason = fields.get("plan_id", ""), fields.get("reason", "")
        try:
            out = await run_in_threadpool(lambda: svc.reject_plan(plan_id, reason, source="web"))
        except Exception as e:
            return await advisor(request, error=_message(e), status=_status(e))
        notice = f"Plan {plan_id} rejected: {out['rejection']['reason']} (the next decision sees why)"
        return await advisor(request, notice=notice)

    async def switch(request: Request) -> Response:
        fields = await write_form(request, "pause and resume are switched off")
        if isinstance(fields, Response):
            return fields
        pause = request.url.path.endswith("/pause")
        reason = fields.get("reason", "") or ("paused from the web page" if pause else "resumed from the web page")
        await run_in_threadpool(svc.pause if pause else svc.resume, reason)
        return RedirectResponse(f"/?notice=trading+{'paused' if pause else 'resumed'}", status_code=303)

    async def settings(request: Request) -> Response:
        if request.method == "GET":
            body = await run_in_threadpool(
                lambda: pages.settings_page(
                    svc, csrf=session.csrf, read_only=read_only, notice=request.query_params.get("notice")
                )
            )
            return html(body)
        fields = await write_form(request, "settings cannot be changed (rebalancer web --read-only)")
        if isinstance(fields, Response):
            return fields
        result = await run_in_threadpool(svc.save_settings, fields)
        if not result.ok:
            body = pages.settings_page(
                svc, csrf=session.csrf, read_only=read_only, errors=result.errors, entered=fields
            )
            return html(body, 400)
        saved = ", ".join(result.saved) or "nothing changed"
        return RedirectResponse(f"/settings?notice=saved: {saved}", status_code=303)

    async def forget(request: Request) -> Response:
        refused = await write_form(request, "settings cannot be changed")
        if isinstance(refused, Response):
            return refused
        await run_in_threadpool(svc.forget_settings)
        return RedirectResponse("/settings?notice=stored settings forgotten", status_code=303)

    async def history(request: Request) -> Response:
        try:
            body = await run_in_threadpool(lambda: pages.history_page(svc, csrf=session.csrf, read_only=read_only))
        except Exception as e:
            return html(f"<p>{escape(_message(e))}</p>", _status(e))
        return html(body)

    static = StaticFiles(directory=str(files("agent.interfaces.web") / "static"))
    return Starlette(
        routes=[
            Route("/", index),
            Route("/preview", preview, methods=["POST"]),
            Route("/execute", execute, methods=["POST"]),
            Route("/reject", reject, methods=["POST"]),
            Route("/pause", switch, methods=["POST"]),
            Route("/resume", switch, methods=["POST"]),
            Route("/settings", settings, methods=["GET", "POST"]),
            Route("/settings/forget", forget, methods=["POST"]),
            Route("/history", history),
            Mount("/static", static, name="static"),
        ],
        middleware=[Middleware(OneQuestion, services=svc), Middleware(Guard, session=session)],
    )

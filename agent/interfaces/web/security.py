"""The page's guard: a per-launch session token (kept in a cookie), a CSRF token on every POST, safe headers.

Like Jupyter: ``rebalancer web`` prints ``http://127.0.0.1:8780/?token=…``; the first request with the
token gets an ``HttpOnly; SameSite=Strict`` cookie and is redirected to the same page without the token
in its address. Every request without a valid cookie or token gets 403. State-changing requests are POSTs
whose form carries the session's CSRF token (a cross-site form cannot read it); anything else gets 403.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass, field
from urllib.parse import urlencode

from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response

COOKIE = "rebalancer_session"

#: every page: no framing, no referrer (the first address carries the token), no cache, no foreign content
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self' data:; script-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


@dataclass(frozen=True)
class Session:
    """One launch's secrets: ``token`` opens the page, ``csrf`` goes with every form."""

    token: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(32))

    def url(self, host: str, port: int) -> str:
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{port}/?{urlencode({'token': self.token})}"

    def valid_token(self, given: str | None) -> bool:
        return bool(given) and hmac.compare_digest(str(given).encode(), self.token.encode())

    def valid_csrf(self, given: object) -> bool:
        return isinstance(given, str) and bool(given) and hmac.compare_digest(given.encode(), self.csrf.encode())


def forbidden(why: str) -> Response:
    return PlainTextResponse(f"403 Forbidden: {why}", status_code=403, headers=HEADERS)


class Guard(BaseHTTPMiddleware):
    """Every request needs the session (cookie, or the token once in the address); headers on every answer."""

    def __init__(self, app: object, session: Session) -> None:
        super().__init__(app)  # type: ignore[arg-type]
        self.session = session

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        given = request.query_params.get("token")
        if given is not None:
            if not self.session.valid_token(given):
                return forbidden("wrong session token; use the address rebalancer web printed")
            rest = [(k, v) for k, v in request.query_params.multi_items() if k != "token"]
            target = request.url.path + (f"?{urlencode(rest)}" if rest else "")
            response: Response = RedirectResponse(target, status_code=303, headers=HEADERS)
            response.set_cookie(COOKIE, self.session.token, httponly=True, samesite="strict", path="/")
            return response
        if not self.session.valid_token(request.cookies.get(COOKIE)):
            return forbidden("no session; open the address rebalancer web printed (it carries the token)")
        if request.method not in ("GET", "HEAD", "POST"):
            return forbidden(f"{request.method} is not used here")
        response = await call_next(request)
        for k, v in HEADERS.items():
            response.headers.setdefault(k, v)
        return response

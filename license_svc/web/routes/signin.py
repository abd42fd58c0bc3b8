"""Sign-in on the pages through the identity provider (OpenID Connect), and sign-out.

    GET  /auth/login?next=/verify   → 303 to the provider (code flow, PKCE, state, nonce)
    GET  /auth/callback             → verifies the ID token, starts a server-side session, 303 back
    POST /auth/logout               → ends the session; answers the provider's logout URL
    GET  /auth/session              → {"signed_in", "ended"}: the pages' probe, never a 401

The login under way is remembered server-side under a short-lived `SameSite=Lax` cookie (the
provider's redirect back is a cross-site navigation, on which a Strict cookie is not sent); the
session itself is an HttpOnly, `SameSite=Strict` cookie, `Secure` (and `__Host-`) behind https,
that the API accepts only with the pages' own header (license_svc/web/auth.py).  A failed
sign-in answers a short page in Chinese and English with a link to try again.
"""

from __future__ import annotations

import html
import logging
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from formats.errors import ServiceError
from license_svc.auth import oidc, sessions, signin
from license_svc.context import AppContext
from license_svc.web.auth import (SECURE_SESSION_COOKIE, SESSION_COOKIE, SESSION_HEADER, get_ctx,
                                  session_token)
from license_svc.web.problems import ProblemError

router = APIRouter(prefix="/auth", tags=["登录 sign-in"], include_in_schema=False)
log = logging.getLogger(__name__)
LOGIN_COOKIE = "license_svc_login"
LOGIN_MINUTES = 10
PAGES = ("/", "/wallet", "/verify", "/console")


def _oidc(ctx: AppContext) -> oidc.Provider:
    if not ctx.settings.oidc_enabled:
        raise ProblemError.core("not-found", "this node has no identity provider configured "
                                "(LICENSE_SVC_OIDC_ISSUER)")
    return oidc.provider(ctx)


def _secure(request: Request, ctx: AppContext) -> bool:
    return request.url.scheme == "https" or ctx.settings.oidc_redirect_url.startswith("https://")


def _next_page(value: str | None) -> str:
    """Only back to one of our own pages: never an open redirect."""
    return value if value in PAGES else "/"


@router.get("/login")
def login(request: Request, next: str | None = Query(None, max_length=32),
          ctx: AppContext = Depends(get_ctx)) -> Response:
    begun = _oidc(ctx).begin()
    now = ctx.now()
    with ctx.unit_of_work() as session:
        token = sessions.create(session, sessions.LOGIN,
                                {"state": begun.state, "nonce": begun.nonce,
                                 "code_verifier": begun.code_verifier, "next": _next_page(next)},
                                now=now, expires_at=now + timedelta(minutes=LOGIN_MINUTES))
    response = RedirectResponse(begun.url, status_code=303, headers={"Cache-Control": "no-store"})
    response.set_cookie(LOGIN_COOKIE, token, max_age=LOGIN_MINUTES * 60, path="/auth/",
                        httponly=True, samesite="lax", secure=_secure(request, ctx))
    return response


@router.get("/callback")
def callback(request: Request, ctx: AppContext = Depends(get_ctx)) -> Response:
    provider = _oidc(ctx)
    now = ctx.now()
    try:
        with ctx.unit_of_work() as session:
            pending = sessions.take(session, request.cookies.get(LOGIN_COOKIE), sessions.LOGIN)
            data = dict(pending.data) if pending is not None and pending.expires_at > now else None
        if data is None:
            raise oidc.SignInFailed("no login under way in this browser (or it took too long)",
                                    "本浏览器没有进行中的登录，或登录超时")
        claims, _ = provider.finish(dict(request.query_params), state=data["state"],
                                    nonce=data["nonce"], code_verifier=data["code_verifier"])
        with ctx.unit_of_work() as session:
            principal = signin.principal_of(ctx, session, claims)
            ends = min(datetime.fromtimestamp(int(claims["exp"]), timezone.utc),
                       now + timedelta(minutes=ctx.settings.session_max_minutes))
            token = sessions.create(session, sessions.ACTIVE, signin.as_data(ctx, principal),
                                    now=now, expires_at=ends)
    except ServiceError as exc:
        log.warning("sign-in refused: %s (%s)", exc.code, exc.message_en)
        return _failed(exc)
    log.info("signed in: %s as %s until %s", principal.kind, principal.client_id, ends.isoformat())
    response = RedirectResponse(data["next"], status_code=303, headers={"Cache-Control": "no-store"})
    secure = _secure(request, ctx)
    # No Max-Age: the server ends the session (at `ends`, or logout) and then answers
    # "session-expired", which a cookie the browser had dropped by itself could not tell.
    response.set_cookie(SECURE_SESSION_COOKIE if secure else SESSION_COOKIE, token, path="/",
                        httponly=True, samesite="strict", secure=secure)
    response.delete_cookie(LOGIN_COOKIE, path="/auth/")
    return response


def _failed(exc: ServiceError) -> HTMLResponse:
    from license_svc.web.pages.views import SECURITY_HEADERS

    status = 503 if exc.kind.value == "unavailable" else 403
    body = (f"<!DOCTYPE html><html lang='zh-CN'><head><meta charset='utf-8'>"
            f"<meta name='viewport' content='width=device-width, initial-scale=1'>"
            f"<title>登录失败 / Sign-in failed</title></head><body>"
            f"<h1>登录失败 / Sign-in failed</h1>"
            f"<p>{html.escape(exc.message_zh)}</p><p lang='en'>{html.escape(exc.message_en)}</p>"
            f"<p><a href='/'>返回首页 / Home</a></p></body></html>")
    return HTMLResponse(body, status_code=status, headers=SECURITY_HEADERS)


@router.get("/session")
def session_probe(request: Request, ctx: AppContext = Depends(get_ctx)) -> JSONResponse:
    """Whether this browser has a live page session, answered 200 either way: every page asks
    on load, and a visitor who has not signed in is no error (a 401 from /api/v1/me would be
    logged as a failed request in the browser's console).  `ended`: there was a session cookie
    but the session is over (expiry, logout elsewhere), which the page says.  The API keeps
    answering 401 to calls without a valid session or key."""
    token = session_token(request)
    active = False
    if token:
        with ctx.unit_of_work() as session:
            row = sessions.find(session, token, sessions.ACTIVE)
            active = row is not None and row.expires_at > ctx.now()
    return JSONResponse({"signed_in": active, "ended": bool(token) and not active},
                        headers={"Cache-Control": "no-store"})


@router.post("/logout")
def logout(request: Request, ctx: AppContext = Depends(get_ctx)) -> Response:
    """End the page session here and tell the page where the provider ends its own."""
    if not request.headers.get(SESSION_HEADER):
        raise ProblemError.core("forbidden", f"sign out from the pages (header {SESSION_HEADER})")
    with ctx.unit_of_work() as session:
        ended = sessions.end(session, session_token(request))
    logout_url = None
    if ended is not None and ctx.settings.oidc_enabled:
        parts = urlsplit(ctx.settings.oidc_redirect_url)
        logout_url = oidc.provider(ctx).logout_url(f"{parts.scheme}://{parts.netloc}/")
    response = JSONResponse({"signed_out": ended is not None, "logout_url": logout_url},
                            headers={"Cache-Control": "no-store"})
    for name in (SESSION_COOKIE, SECURE_SESSION_COOKIE):
        response.delete_cookie(name, path="/", secure=name == SECURE_SESSION_COOKIE,
                               httponly=True, samesite="strict")
    return response

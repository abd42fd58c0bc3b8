"""FastAPI dependencies: who is calling, and may they.

    @router.post("/licences")
    def issue(body: ..., client: Client = Depends(require_role("issuer")),
              ctx: AppContext = Depends(get_ctx)): ...

Two ways in.  Systems send their API key (`Authorization: Bearer`).  The pages, after sign-in
through the identity provider (license_svc/web/routes/signin.py), send the session cookie —
which counts only together with the `X-License-Svc-Session` header: a cross-site page can make
a browser send the cookie (were SameSite ever weakened) but not that header without a CORS
preflight this service never grants, so a forged form or image cannot act in the person's name.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from license_svc.auth import sessions, signin
from license_svc.auth.clients import ROLES, Client, authenticate
from license_svc.auth.policy import of_this_node
from license_svc.context import AppContext
from license_svc.request_context import set_operator
from license_svc.web.problems import ProblemError

SESSION_COOKIE = "license_svc_session"
SECURE_SESSION_COOKIE = "__Host-license_svc_session"  # behind https: the browser pins it to us
SESSION_HEADER = "X-License-Svc-Session"

_bearer = HTTPBearer(auto_error=False, description="API key: `Authorization: Bearer <key>`")


def get_ctx(request: Request) -> AppContext:
    return request.app.state.ctx


def _refused(ctx: AppContext) -> frozenset[str]:
    if not ctx.settings.production:
        return frozenset()
    from license_svc.dev_material import known

    return known()[1]


async def current_client(request: Request,
                         credentials: HTTPAuthorizationCredentials | None = Depends(_bearer),
                         ctx: AppContext = Depends(get_ctx)) -> Client:
    """The authenticated client, or a 401 problem.  Async so that the person it finds (a page
    session's clerk) is set in the request's own context, where the route and the audit log
    see it (`request_context.set_operator`); the database work runs in the thread pool."""
    if len(request.headers.getlist("authorization")) > 1:
        # Ambiguous: a proxy may check one header and we would act on the other.
        raise ProblemError.core("unauthorized", "send exactly one Authorization header",
                                headers={"WWW-Authenticate": 'Bearer error="invalid_request"'})
    operator = None
    token = session_token(request)
    if credentials is None and token and request.headers.get(SESSION_HEADER):
        client, operator = await run_in_threadpool(_session_client, ctx, token)
    else:
        client = await run_in_threadpool(_key_client, ctx, credentials)
    set_operator(client.client_id, operator)
    request.state.client = client  # for the access log
    if not of_this_node(ctx, client):
        # A key is good on its own region's node only.  Another region's client registered here
        # by mistake (or on purpose) must not read this region's licences or use its seals:
        # regions reach each other through the federation routes, which need no key.
        raise other_region(ctx, client)
    return client


def _key_client(ctx: AppContext, credentials: HTTPAuthorizationCredentials | None) -> Client:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise ProblemError.core("unauthorized", "send Authorization: Bearer <API key>",
                                headers={"WWW-Authenticate": "Bearer"})
    with ctx.unit_of_work() as session:
        client = authenticate(session, credentials.credentials, refused_hashes=_refused(ctx))
    if client is None:
        raise ProblemError.core("unauthorized", "unknown or disabled API key",
                                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
    return client


def session_token(request: Request) -> str | None:
    return request.cookies.get(SECURE_SESSION_COOKIE) or request.cookies.get(SESSION_COOKIE)


SESSION_ENDED_ZH = "登录已过期或已退出，请重新登录"
SESSION_ENDED_EN = "Signed out or the session expired; sign in again"


def session_ended(detail: str, detail_zh: str) -> ProblemError:
    return ProblemError(401, "session-expired", SESSION_ENDED_ZH, SESSION_ENDED_EN, detail,
                        detail_zh=detail_zh, headers={"WWW-Authenticate": "Bearer"})


def _session_client(ctx: AppContext, token: str) -> tuple[Client, str | None]:
    """The client a page session acts as and the person's name (a clerk's; None for a citizen)."""
    with ctx.unit_of_work() as session:
        row = sessions.find(session, token, sessions.ACTIVE)
        if row is None:
            raise session_ended("no such session (signed out, or never signed in)",
                                "会话不存在（已退出或未登录）")
        if row.expires_at <= ctx.now():
            session.delete(row)
            raise session_ended(f"the session ended at {row.expires_at.isoformat()}",
                                f"会话已于 {row.expires_at.isoformat()} 到期")
        principal = signin.from_data(ctx, row.data)
        client = None if principal is None else signin.client_of(ctx, session, principal)
        if principal is None or client is None:
            session.delete(row)
            raise session_ended("the department's client was disabled or lost its roles, or "
                                "the session no longer opens on this node",
                                "所属部门的客户端已停用或角色已变更，或会话在本节点已失效")
    return client, principal.operator


def session_expiry(request: Request) -> datetime | None:
    """When the page session of this request ends (for /api/v1/me), None for an API key."""
    ctx: AppContext = request.app.state.ctx
    token = session_token(request)
    if not token or request.headers.get("authorization"):
        return None
    with ctx.unit_of_work() as session:
        row = sessions.find(session, token, sessions.ACTIVE)
        return None if row is None else row.expires_at


OTHER_REGION_ZH = "客户端不属于本区域节点"
OTHER_REGION_EN = "Client of another region"


def other_region(ctx: AppContext, client: Client) -> ProblemError:
    return ProblemError(
        401, "client-other-region", OTHER_REGION_ZH, OTHER_REGION_EN,
        f"this API key belongs to a client of region {client.region}; the {ctx.region} node "
        "serves its own region's clients only. Other regions reach this node only through the "
        "federation routes (trust list, federation list, licence status, status lists)",
        detail_zh=f"该 API 密钥属于 {client.region} 区域的客户端，{ctx.region} 节点只为本区域客户端服务；"
                  "其他区域只能通过联盟路由（信任列表、联盟列表、证照状态、状态列表）访问本节点",
        headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})


def require_role(*roles: str):
    """A dependency that admits a client holding at least one of `roles` (403 otherwise)."""
    unknown = set(roles) - set(ROLES)
    if not roles or unknown:
        raise ValueError(f"unknown roles {sorted(unknown)}")

    def dependency(client: Client = Depends(current_client)) -> Client:
        if not client.has_role(*roles):
            raise ProblemError.core("forbidden", f"this operation needs one of the roles {sorted(roles)}",
                                    required_roles=sorted(roles))
        return client

    dependency.__name__ = f"require_role_{'_'.join(roles)}"
    return dependency

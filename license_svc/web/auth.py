"""FastAPI dependencies: who is calling, and may they.

    @router.post("/licences")
    def issue(body: ..., client: Client = Depends(require_role("issuer")),
              ctx: AppContext = Depends(get_ctx)): ...
"""

from __future__ import annotations

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from license_svc.auth.clients import ROLES, Client, authenticate
from license_svc.auth.policy import of_this_node
from license_svc.context import AppContext
from license_svc.web.problems import ProblemError

_bearer = HTTPBearer(auto_error=False, description="API key: `Authorization: Bearer <key>`")


def get_ctx(request: Request) -> AppContext:
    return request.app.state.ctx


def _refused(ctx: AppContext) -> frozenset[str]:
    if not ctx.settings.production:
        return frozenset()
    from license_svc.dev_material import known

    return known()[1]


def current_client(request: Request,
                   credentials: HTTPAuthorizationCredentials | None = Depends(_bearer),
                   ctx: AppContext = Depends(get_ctx)) -> Client:
    """The authenticated client, or a 401 problem."""
    if len(request.headers.getlist("authorization")) > 1:
        # Ambiguous: a proxy may check one header and we would act on the other.
        raise ProblemError.core("unauthorized", "send exactly one Authorization header",
                                headers={"WWW-Authenticate": 'Bearer error="invalid_request"'})
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise ProblemError.core("unauthorized", "send Authorization: Bearer <API key>",
                                headers={"WWW-Authenticate": "Bearer"})
    with ctx.unit_of_work() as session:
        client = authenticate(session, credentials.credentials, refused_hashes=_refused(ctx))
    if client is None:
        raise ProblemError.core("unauthorized", "unknown or disabled API key",
                                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
    request.state.client = client  # for the access log
    if not of_this_node(ctx, client):
        # A key is good on its own region's node only.  Another region's client registered here
        # by mistake (or on purpose) must not read this region's licences or use its seals:
        # regions reach each other through the federation routes, which need no key.
        raise other_region(ctx, client)
    return client


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

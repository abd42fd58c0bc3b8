"""JSON routes the pages need beyond the domain routes: who am I, my licences (wallet), a fresh
亮证 presentation, an issuer's recent licences and the types it may issue (console).  Thin
adapters over `listing` and `presentation`; like every route they work with curl too.

The EP1 refresh interval the wallet is told (`refresh_after`) is `app.state.wallet_refresh_seconds`
when set (tests shorten it), else 30 s — always within the 60 s an EP1 lives.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse

from license_svc.auth.clients import Client
from license_svc.request_context import operator_for
from license_svc.web.auth import current_client, get_ctx, require_role, session_expiry
from license_svc.context import AppContext
from license_svc.grants.errors import GrantError
from license_svc.web.pages import listing, presentation
from license_svc.web.problems import ProblemError, status_of
from license_svc.web.schemas import pages as schemas
from license_svc.web.schemas.openapi import ok

router = APIRouter(prefix="/api/v1", tags=["页面 pages"])
ID_PATH = Path(..., max_length=200, description="GB/T 36904 证照标识")
NO_STORE = {"Cache-Control": "no-store"}


def refresh_seconds(request: Request) -> int:
    return int(getattr(request.app.state, "wallet_refresh_seconds",
                       presentation.DEFAULT_REFRESH_SECONDS))


@router.get("/me", summary="当前客户端 / who the API key or page session belongs to (for the pages)",
            responses=ok(schemas.Me))
def get_me(request: Request, client: Client = Depends(current_client)):
    body = listing.whoami(client)
    # A page session (sign-in through the identity provider): the person and when it ends.
    ends = session_expiry(request)
    body["session_expires_at"] = None if ends is None else ends.isoformat()
    body["operator"] = operator_for(client.client_id)
    return JSONResponse(body, headers=NO_STORE)


@router.get("/holders/me/licences", summary="我的证照 / the calling holder's licences in this region",
            responses=ok(schemas.Licences))
def get_my_licences(limit: int = Query(100, ge=1, le=listing.MAX_LIST),
                    ctx: AppContext = Depends(get_ctx),
                    client: Client = Depends(require_role("citizen"))):
    try:
        with ctx.unit_of_work() as session:
            items = listing.holder_licences(ctx, session, client, limit=limit)
    except GrantError as exc:  # a citizen client without a holder code
        raise ProblemError(status_of(exc), exc.code, exc.title_zh, exc.title_en, exc.message_en,
                           detail_zh=exc.message_zh) from None
    return JSONResponse({"licences": items}, headers=NO_STORE)


@router.post("/licences/{identifier}/presentations", status_code=201,
             summary="亮证 / a fresh EP1 presentation of my own active licence (holder, ≤60 s)",
             responses=ok(schemas.Presentation, 201))
def post_presentation(request: Request, identifier: str = ID_PATH,
                      ctx: AppContext = Depends(get_ctx),
                      client: Client = Depends(require_role("citizen"))):
    with ctx.unit_of_work() as session:
        body = presentation.present(ctx, session, client, identifier,
                                    refresh=refresh_seconds(request))
    return JSONResponse(body, status_code=201, headers=NO_STORE)


@router.get("/issuers/me/licences",
            summary="本机构最近签发的证照 / the caller's organisation's recent licences (issuer; admin: all)",
            responses=ok(schemas.Licences))
def get_issued(limit: int = Query(20, ge=1, le=listing.MAX_LIST), ctx: AppContext = Depends(get_ctx),
               client: Client = Depends(require_role("issuer", "admin"))):
    with ctx.unit_of_work() as session:
        items = listing.issuer_licences(ctx, session, client, limit=limit)
    return JSONResponse({"licences": items}, headers=NO_STORE)


@router.get("/issuers/me/templates",
            summary="可签发的证照类型及示例 / licence types the caller may issue, with examples",
            responses=ok(schemas.Templates))
def get_templates(ctx: AppContext = Depends(get_ctx),
                  client: Client = Depends(require_role("issuer", "admin"))):
    return {"templates": listing.issuable_templates(ctx, client)}

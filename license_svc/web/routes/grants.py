"""Grants, 免证办 retrieval, the holder's access log and the auditor's search over HTTP.
Thin adapters over `license_svc.grants` (docs/authorisation.md).

Holder codes travel only in request bodies — never in paths or query strings, which end up in
access logs, proxies and browser histories.  The holder's own code comes from its API client.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Body, Depends, Path, Query
from fastapi.responses import JSONResponse, Response

from license_svc.auth import policy
from license_svc.auth.clients import Client
from license_svc.web.auth import get_ctx, require_role
from license_svc.context import AppContext
from formats.errors import ServiceError
from license_svc.grants import access_log, federated, grants, retrieval
from license_svc.grants.auditing import audited_transaction
from license_svc.grants.errors import GrantError
from license_svc.web.problems import ProblemError, status_of
from license_svc.web.schemas import grants as schemas
from license_svc.web.schemas.openapi import body, ok

router = APIRouter(prefix="/api/v1", tags=["授权与调取 grants and retrieval"])
GRANT_ID = Path(..., min_length=1, max_length=40, description="授权编号 grant id (grt_…)")
PDF_MEDIA = "application/pdf"

_GRANT_EXAMPLE = {"grantee_org": "11310000MB0000300A", "licence_type": "driving_licence",
                  "matter_code": "310000-000-0001", "valid_until": "2026-07-01T00:00:00+08:00",
                  "max_uses": 1}
_RETRIEVAL_EXAMPLE = {"holder_code": "310101199003071230", "holder_code_type": "111",
                      "licence_type": "driving_licence", "matter_code": "310000-000-0001",
                      "grant_id": "grt_AAAAAAAAAAAAAAAAAAAAAA", "want": "data", "operator": "王五"}


def _problem(exc: ServiceError) -> ProblemError:
    reason = getattr(exc, "reason", None)
    extra = {"reason": reason} if isinstance(reason, str) else {}
    return ProblemError(status_of(exc), exc.code, exc.title_zh, exc.title_en, exc.message_en,
                        detail_zh=exc.message_zh, **extra)


@router.post("/grants", status_code=201, summary="授权用证部门 / grant a department the use of a licence (holder)",
             responses=ok(schemas.Grant, 201),
             openapi_extra=body({"application/json": schemas.GrantRequest}))
def post_grant(body: Any = Body(..., examples=[_GRANT_EXAMPLE]), ctx: AppContext = Depends(get_ctx),
               client: Client = Depends(require_role("citizen"))):
    try:
        with audited_transaction(ctx) as session:
            grant = grants.create_grant(ctx, session, client, body)
    except GrantError as exc:
        raise _problem(exc) from None
    return JSONResponse(grants.grant_view(grant, ctx.now()), status_code=201,
                        headers={"Location": f"/api/v1/grants/{grant.id}"})


@router.get("/grants", summary="授权列表 / a holder's grants, or the grants addressed to a department",
            responses=ok(schemas.GrantList))
def get_grants(status: str | None = Query(None, pattern="^active$"), limit: int = Query(100, ge=1, le=500),
               ctx: AppContext = Depends(get_ctx),
               client: Client = Depends(require_role("citizen", "relying"))):
    try:
        with ctx.unit_of_work() as session:
            rows = grants.list_grants(ctx, session, client, status=status, limit=limit)
    except GrantError as exc:
        raise _problem(exc) from None
    now = ctx.now()
    return {"grants": [grants.grant_view(g, now) for g in rows]}


@router.get("/grants/{grant_id}", summary="授权详情 / one grant (its holder or its department)",
            responses=ok(schemas.Grant))
def get_grant(grant_id: str = GRANT_ID, ctx: AppContext = Depends(get_ctx),
              client: Client = Depends(require_role("citizen", "relying"))):
    try:
        with ctx.unit_of_work() as session:
            grant = grants.own_grant(ctx, session, client, grant_id)
    except GrantError as exc:
        raise _problem(exc) from None
    return grants.grant_view(grant, ctx.now())


def _revoke(ctx: AppContext, client: Client, grant_id: str) -> dict:
    try:
        with audited_transaction(ctx) as session:
            grant = grants.revoke_grant(ctx, session, client, grant_id)
    except GrantError as exc:
        raise _problem(exc) from None
    return grants.grant_view(grant, ctx.now())


@router.delete("/grants/{grant_id}", summary="撤回授权 / revoke a grant at once (holder)",
               responses=ok(schemas.Grant))
def delete_grant(grant_id: str = GRANT_ID, ctx: AppContext = Depends(get_ctx),
                 client: Client = Depends(require_role("citizen"))):
    return _revoke(ctx, client, grant_id)


@router.post("/grants/{grant_id}/revoke", summary="撤回授权 / revoke (same as DELETE)",
             responses=ok(schemas.Grant))
def post_revoke(grant_id: str = GRANT_ID, ctx: AppContext = Depends(get_ctx),
                client: Client = Depends(require_role("citizen"))):
    return _revoke(ctx, client, grant_id)


@router.post("/retrievals", summary="免证办调取 / retrieve a holder's licence under a grant or legal basis",
             openapi_extra=body({"application/json": schemas.RetrievalRequest}),
             responses={**schemas.RETRIEVED,
                        403: {"description": "refused (`retrieval-refused`, `reason`); the refusal is audited"},
                        503: {"description": "`audit-unavailable`: the audit entry could not be "
                              "written; `peer-unavailable`: the issuing region's node cannot be "
                              "reached (cross-region retrieval, audited here)"}})
def post_retrieval(body: Any = Body(..., examples=[_RETRIEVAL_EXAMPLE]), ctx: AppContext = Depends(get_ctx),
                   client: Client = Depends(require_role("relying"))):
    try:
        region = federated.issuing_region(ctx, body)
        if region is None:
            result = retrieval.retrieve(ctx, client, body)
        else:
            result = federated.retrieve_remote(ctx, client, body, region)
    except ServiceError as exc:  # GrantError, PeerUnavailable
        raise _problem(exc) from None
    if result.want == "pdf":
        return Response(result.pdf, media_type=PDF_MEDIA, headers={
            "Content-Disposition": f'inline; filename="{result.identifier}.pdf"',
            "X-Licence-Id": result.identifier})
    return result.body()


@router.get("/holders/me/access-log",
            summary="用证记录 / who accessed my licences, each entry with its inclusion proof (holder)",
            responses=ok(schemas.AccessLog))
def get_access_log(limit: int = Query(50, ge=1, le=access_log.MAX_PAGE),
                   before: int | None = Query(None, ge=0, le=2**62), ctx: AppContext = Depends(get_ctx),
                   client: Client = Depends(require_role("citizen"))):
    try:
        with ctx.unit_of_work() as session:
            return access_log.access_log(ctx, session, client, limit=limit, before=before)
    except GrantError as exc:
        raise _problem(exc) from None


def _aware(name: str, value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise ProblemError.core("validation-error", f"{name}: give a time zone (e.g. Z or +08:00)")
    return value


@router.get("/audit/search", summary="审计检索 / search the audit log (auditor)",
            responses=ok(schemas.AuditSearch))
def get_audit_search(department: str | None = Query(None, max_length=32, description="actor org code"),
                     licence: str | None = Query(None, max_length=200, description="licence identifier"),
                     matter: str | None = Query(None, max_length=64, description="matter code 事项编码"),
                     grant: str | None = Query(None, max_length=40, description="grant id"),
                     action: str | None = Query(None, max_length=64),
                     outcome: str | None = Query(None, pattern="^(success|denied|not_found|invalid|error)$"),
                     ex_officio: bool = Query(False, description="only retrievals under a legal basis"),
                     from_: datetime | None = Query(None, alias="from"), to: datetime | None = Query(None),
                     limit: int = Query(100, ge=1, le=access_log.MAX_PAGE),
                     before: int | None = Query(None, ge=0, le=2**62),
                     ctx: AppContext = Depends(get_ctx),
                     client: Client = Depends(require_role("auditor", "admin"))):
    with ctx.unit_of_work() as session:
        return access_log.search(session, org=policy.audit_org(ctx, client),
                                 department=department, licence=licence, matter=matter,
                                 grant=grant, action=action, outcome=outcome, ex_officio=ex_officio,
                                 start=_aware("from", from_), end=_aware("to", to), limit=limit,
                                 before=before)

"""Trust lists over HTTP (docs/federation.md, docs/api.md): peers fetch `GET /api/v1/trust-list` and
`GET /api/v1/federation` without authentication (the lists are signed and public) and send
`If-None-Match`; an unchanged list is answered 304 with no body.  Operators (admin) trigger a
sync round and read what the node holds.  Thin adapters over `license_svc.federation`."""

from __future__ import annotations

import json

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from license_svc.auth.clients import Client
from license_svc.web.auth import get_ctx, require_role
from license_svc.context import AppContext
from license_svc.federation.models import KIND_FEDERATION, SyncedList
from license_svc.federation.publish import (FEDERATION_REGION, FederationError, Published,
                                            current_federation_list, current_trust_list, etag_of,
                                            published)
from license_svc.federation.sync import sync, sync_status, trust_state
from license_svc.web.problems import ProblemError
from license_svc.web.schemas import federation as schemas
from license_svc.web.schemas.openapi import ok

router = APIRouter(prefix="/api/v1", tags=["信任列表 trust lists"])
_SIGNED = schemas.signed("the signed list (ETag)")


def _matches(header: str, etag: str) -> bool:
    tags = [t.strip() for t in header.split(",")]
    return "*" in tags or any(t.removeprefix("W/") == etag for t in tags)


def _conditional(request: Request, pub: Published) -> Response:
    headers = {"ETag": pub.etag, "Cache-Control": "no-cache"}
    inm = request.headers.get("if-none-match")
    if inm and _matches(inm, pub.etag):
        return Response(status_code=304, headers=headers)
    return Response(pub.body, media_type="application/json", headers=headers)


@router.get("/trust-list", response_class=Response, responses=_SIGNED,
            summary="本区域签名信任列表 / this region's signed trust list (yrd-trust-list/2)")
def get_trust_list(request: Request, ctx: AppContext = Depends(get_ctx)):
    return _conditional(request, published(ctx, current_trust_list))


@router.get("/federation", response_class=Response, responses=_SIGNED,
            summary="联盟信任列表之列表 / the signed federation list of lists (yrd-lotl/1)")
def get_federation(request: Request, ctx: AppContext = Depends(get_ctx)):
    try:
        pub = published(ctx, current_federation_list)
    except FederationError:
        # Without the federation root key, pass on the copy synced from the operator.
        with ctx.unit_of_work() as session:
            row = session.get(SyncedList, (KIND_FEDERATION, FEDERATION_REGION))
            if row is None:
                raise ProblemError(404, "federation-list-unavailable", "本节点没有联盟列表",
                                   "No federation list on this node",
                                   "this node neither signs nor has synced the federation list")
            body = row.envelope.encode("utf-8")
            pub = Published(json.loads(body), body, etag_of(body), row.sequence)
    return _conditional(request, pub)


@router.post("/federation/sync", summary="立即同步各地区信任列表 / run one trust-list sync round",
             response_model=None, responses=ok(schemas.SyncRound))
def post_sync(ctx: AppContext = Depends(get_ctx),
              _client: Client = Depends(require_role("admin"))) -> dict:
    return {"outcomes": [o.as_dict() for o in sync(ctx)]}


@router.get("/federation/status", summary="已同步的信任列表 / synced lists and their state",
            response_model=None, responses=ok(schemas.SyncStatus))
def get_status(ctx: AppContext = Depends(get_ctx),
               _client: Client = Depends(require_role("admin", "auditor"))) -> dict:
    with ctx.unit_of_work() as session:
        return {"held": sync_status(ctx, session), "trust": trust_state(ctx, session).as_dict()}

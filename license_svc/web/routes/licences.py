"""Licences over HTTP: issue (single, batch, idempotent), read (JSON, PDF, QR), lifecycle,
signed status and status lists.  Thin adapters over `license_svc.licences` (docs/issuance.md).

Request bodies are read as raw JSON rather than through a pydantic model: the template's JSON
Schema is the one definition of a licence type's fields, and its bilingual errors name the
field; a second, hand-kept model here would drift from it.  The OpenAPI document copies those
schemas (license_svc/web/schemas/licences.py), so it cannot drift either.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Body, Depends, Header, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from license_svc.auth.clients import Client
from license_svc.web.auth import current_client, get_ctx, require_role
from license_svc.context import AppContext
from license_svc.licences import issue as issuing
from license_svc.licences import amend, artefacts, lifecycle, retrieve, status, trail
from license_svc.web.metrics import outcome_metrics
from license_svc.web.problems import ProblemError
from license_svc.web.schemas import licences as schemas
from license_svc.web.schemas.common import SignedEnvelope
from license_svc.web.schemas.openapi import binary, body, ok
from signing.qr import image as qr_image

router = APIRouter(prefix="/api/v1", tags=["证照 licences"])
ID_PATH = Path(..., max_length=200, description="GB/T 36904 证照标识")
PDF_MEDIA = "application/pdf"
OFD_MEDIA = "application/ofd"


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise ProblemError.core("bad-request", "the body must be JSON (UTF-8)") from None


def _issued(ctx: AppContext, result: issuing.IssueResult, single: bool) -> JSONResponse:
    headers = {"Idempotent-Replayed": "true"} if result.replayed else {}
    outcome_metrics(ctx).issuance(single, len(result.identifiers), result.replayed)
    if single:
        ident = result.identifiers[0]
        headers["Location"] = f"/api/v1/licences/{ident}"
        view = result.view
        if view is None:  # a replay: the licence an earlier request made
            with ctx.unit_of_work() as session:
                view = retrieve.licence_view(ctx, session, lifecycle.load_version(session, ident))
        return JSONResponse(view, status_code=201, headers=headers)
    body = {"identifiers": result.identifiers}
    if result.rejected:  # duplicates left out of the batch (docs/issuance.md "No duplicates")
        body["rejected"] = list(result.rejected)
    return JSONResponse(body, status_code=201, headers=headers)


@router.post("/licences", status_code=201,
             summary="签发证照 / issue a licence (Idempotency-Key supported)",
             responses=ok(schemas.LicenceView, 201),
             openapi_extra=body({"application/json": schemas.ISSUE_REQUEST},
                                named_examples={"application/json": schemas.issue_examples()}))
async def post_licence(request: Request, ctx: AppContext = Depends(get_ctx),
                       client: Client = Depends(require_role("issuer")),
                       idempotency_key: str | None = Header(None, alias="Idempotency-Key")):
    return await run_in_threadpool(_issue_one, ctx, client, await request.body(), idempotency_key)


def _issue_one(ctx: AppContext, client: Client, raw: bytes, idempotency_key: str | None):
    result = issuing.issue(ctx, client, _json(raw), idempotency_key=idempotency_key,
                           describe=lambda s, v: retrieve.licence_view(ctx, s, v))
    return _issued(ctx, result, True)


@router.post("/licences/batch", status_code=201,
             summary="批量签发 / issue up to 100 licences, all or nothing",
             responses=ok(schemas.Issued, 201),
             openapi_extra=body({"application/json": schemas.BATCH_REQUEST}))
async def post_batch(request: Request, ctx: AppContext = Depends(get_ctx),
                     client: Client = Depends(require_role("issuer")),
                     idempotency_key: str | None = Header(None, alias="Idempotency-Key")):
    return await run_in_threadpool(_issue_batch, ctx, client, await request.body(), idempotency_key)


def _issue_batch(ctx: AppContext, client: Client, raw: bytes, idempotency_key: str | None):
    body = _json(raw)
    items = body.get("licences") if isinstance(body, dict) else body
    result = issuing.issue_batch(ctx, client, items, idempotency_key=idempotency_key)
    return _issued(ctx, result, False)


@router.get("/licences/{identifier}", summary="证照数据 / the signed record, status and history",
            responses=ok(schemas.LicenceView))
def get_licence(identifier: str = ID_PATH, purpose: str | None = Query(None, max_length=64),
                ctx: AppContext = Depends(get_ctx), client: Client = Depends(current_client)):
    with ctx.unit_of_work() as session:
        version = retrieve.open_licence(ctx, session, identifier, client, "record", purpose)
        return retrieve.licence_view(ctx, session, version)


@router.get("/licences/{identifier}/pdf", response_class=Response,
            responses=binary(PDF_MEDIA), summary="版式文件 / the signed PDF")
def get_pdf(identifier: str = ID_PATH, purpose: str | None = Query(None, max_length=64),
            ctx: AppContext = Depends(get_ctx), client: Client = Depends(current_client)):
    with ctx.unit_of_work() as session:
        version = retrieve.open_licence(ctx, session, identifier, client, "pdf", purpose)
    return Response(version.pdf, media_type=PDF_MEDIA, headers={
        "Content-Disposition": f'inline; filename="{version.identifier}.pdf"'})


@router.get("/licences/{identifier}/ofd", response_class=Response,
            responses=binary(OFD_MEDIA),
            summary="OFD 版式文件 / the sealed OFD (GB/T 33190, made on first request)")
def get_ofd(identifier: str = ID_PATH, purpose: str | None = Query(None, max_length=64),
            ctx: AppContext = Depends(get_ctx), client: Client = Depends(current_client)):
    with ctx.unit_of_work() as session:
        version = retrieve.open_licence(ctx, session, identifier, client, "ofd", purpose)
        data = artefacts.stored_ofd(ctx, session, version)
    return Response(data, media_type=OFD_MEDIA, headers={
        "Content-Disposition": f'attachment; filename="{version.identifier}.ofd"'})


@router.get("/licences/{identifier}/qr", response_class=Response,
            responses=binary("image/png", "text/plain"),
            summary="证照二维码 / the printed EL1 QR (PNG, or ?format=text)")
def get_qr(identifier: str = ID_PATH, format: str = Query("png", pattern="^(png|text)$"),
           scale: int = Query(6, ge=1, le=20), purpose: str | None = Query(None, max_length=64),
           ctx: AppContext = Depends(get_ctx), client: Client = Depends(current_client)):
    with ctx.unit_of_work() as session:
        version = retrieve.open_licence(ctx, session, identifier, client, "qr", purpose)
    if format == "text":
        return Response(version.el1, media_type="text/plain; charset=utf-8")
    return Response(qr_image.png(version.el1, scale=scale), media_type="image/png")


def _reason(body: dict | None) -> str | None:
    if body is None:
        return None
    if not isinstance(body, dict):
        raise ProblemError.core("bad-request", 'the body must be {"reason": "..."}')
    return body.get("reason")


@router.post("/licences/{identifier}/amend", status_code=201,
             summary="变更 / amend: a new signed version supersedes this one",
             responses=ok(schemas.LicenceView, 201),
             openapi_extra=body({"application/json": schemas.AmendRequest}))
def post_amend(identifier: str = ID_PATH, body: dict = Body(..., examples=[
                   {"changes": {"fields": {"address": "上海市黄浦区中山东一路1号"}}, "reason": "住所变更"}]),
               ctx: AppContext = Depends(get_ctx), client: Client = Depends(require_role("issuer"))):
    with ctx.unit_of_work() as session:
        new = amend.amend(ctx, session, identifier, client, body.get("changes"), body.get("reason"))
        view = retrieve.licence_view(ctx, session, new)
    return JSONResponse(view, status_code=201, headers={"Location": f"/api/v1/licences/{new.identifier}"})


def _change(action: str, ctx: AppContext, identifier: str, client: Client, body: dict | None):
    with ctx.unit_of_work() as session:
        event = lifecycle.change_status(ctx, session, identifier, action, client, _reason(body))
        return {"identifier": identifier, "status": event.status, "event": lifecycle.canonical_event(event)}


@router.post("/licences/{identifier}/suspend", summary="暂停 / suspend",
             responses=ok(schemas.StatusChange))
def post_suspend(identifier: str = ID_PATH, body: dict | None = Body(None),
                 ctx: AppContext = Depends(get_ctx), client: Client = Depends(require_role("issuer"))):
    return _change("suspended", ctx, identifier, client, body)


@router.post("/licences/{identifier}/reinstate", summary="恢复 / reinstate a suspended licence",
             responses=ok(schemas.StatusChange))
def post_reinstate(identifier: str = ID_PATH, body: dict | None = Body(None),
                   ctx: AppContext = Depends(get_ctx), client: Client = Depends(require_role("issuer"))):
    return _change("reinstated", ctx, identifier, client, body)


@router.post("/licences/{identifier}/revoke", summary="撤销 / revoke (reason required)",
             responses=ok(schemas.StatusChange),
             openapi_extra=body({"application/json": schemas.RevokeRequest}))
def post_revoke(identifier: str = ID_PATH, body: dict = Body(..., examples=[{"reason": "依法吊销"}]),
                ctx: AppContext = Depends(get_ctx), client: Client = Depends(require_role("issuer"))):
    return _change("revoked", ctx, identifier, client, body)


@router.get("/licences/{identifier}/audit",
            summary="证照审计记录 / the audit entries about every version of a licence "
                    "(issuer, admin, auditor of the issuing organisation)",
            responses=ok(schemas.Trail))
def get_trail(identifier: str = ID_PATH, limit: int = Query(100, ge=1, le=trail.MAX_TRAIL),
              ctx: AppContext = Depends(get_ctx),
              client: Client = Depends(require_role("issuer", "admin", "auditor"))):
    with ctx.unit_of_work() as session:
        return JSONResponse(trail.licence_trail(ctx, session, identifier, client, limit=limit),
                            headers={"Cache-Control": "no-store"})


@router.get("/licences/{identifier}/status",
            summary="签名状态响应 / signed status response (public, no personal data)",
            responses=ok(SignedEnvelope))
def get_status(identifier: str = ID_PATH, ctx: AppContext = Depends(get_ctx)):
    with ctx.unit_of_work() as session:
        envelope = status.signed_status(ctx, session, identifier)
    return JSONResponse(envelope, headers={"Cache-Control": "no-cache"})


@router.get("/status-lists/{issuer}",
            summary="签名状态列表 / signed bitstring status list of an issuing organisation",
            responses=ok(SignedEnvelope))
def get_status_list(issuer: str = Path(..., pattern="^[0-9A-Z]{1,32}$"),
                    part: int = Query(1, ge=1, le=9999), ctx: AppContext = Depends(get_ctx)):
    with ctx.unit_of_work() as session:
        envelope = status.signed_status_list(ctx, session, issuer, part)
    return JSONResponse(envelope, headers={"Cache-Control": "public, max-age=300"})

"""Seals over HTTP: the registry (admin makes and manages seals for the region's organisations —
the region's operator any organisation's, an organisation's own admin its own), sealing a document
(the organisation's own clients, not narrowed to licence types), and seal verification (any
client).  Who may is decided in `license_svc.auth.policy`, asked by `license_svc.seals.registry`.

    POST /api/v1/seals                    {org_code, name, type, shape?, number?, valid_start?, valid_end?}
    GET  /api/v1/seals?org_code=&status=
    GET  /api/v1/seals/{id}               JSON;  /seal.esl (DER SESeal);  /picture.png
    POST /api/v1/seals/{id}/suspend|reinstate|revoke   {reason?}
    POST /api/v1/seals/{id}/sign          raw document bytes, or JSON {sm3 | sha256 (hex), property_info?}
    POST /api/v1/verify/seal              raw .esl/.dat bytes or multipart file (+ document); ?at=
    POST /api/v1/seals/{id}/stamp         raw PDF (or OFD) body; ?page=&x=&y= | ?keyword= | ?straddle=true
                                          [&size=&algorithm=&certify=] → the stamped document
"""

from __future__ import annotations

import binascii
import json
from datetime import datetime

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from formats.algorithms import registry as algorithms
from license_svc.auth.clients import Client
from license_svc.web.auth import current_client, get_ctx, require_role
from license_svc.context import AppContext
from license_svc.seals import registry, stamping
from license_svc.web.metrics import outcome_metrics
from license_svc.web.problems import ProblemError
from license_svc.web.schemas.common import Report
from license_svc.web.schemas.openapi import BINARY, array_of, binary, body, ok
from license_svc.web.schemas.seals import Seal, SealIn, SealUpload, SignHash, StatusIn
from signing.placement import Placement
from verification.seal import parse_seal

router = APIRouter(prefix="/api/v1", tags=["电子印章 seals"])
DER = "application/octet-stream"


@router.post("/seals", status_code=201, summary="制作印章 / make a seal (admin)",
             response_model=None, responses=ok(Seal, 201))
def create(body: SealIn, ctx: AppContext = Depends(get_ctx),
           client: Client = Depends(require_role("admin"))) -> dict:
    for t in (body.valid_start, body.valid_end):
        if t is not None and t.tzinfo is None:
            raise ProblemError.core("bad-request", "times need a time zone (e.g. Z)")
    request = registry.SealRequest(org_code=body.org_code, name=body.name, seal_type=body.type,
                                   shape=body.shape, number=body.number,
                                   valid_start=body.valid_start, valid_end=body.valid_end)
    with ctx.unit_of_work() as session:
        return registry.summary(registry.create_seal(ctx, session, client, request))


@router.get("/seals", summary="印章列表 / list seals", response_model=None,
            responses=ok(array_of(Seal)))
def list_(org_code: str | None = Query(None, max_length=32),
          status: str | None = Query(None, pattern="^(active|suspended|revoked)$"),
          ctx: AppContext = Depends(get_ctx),
          client: Client = Depends(require_role("admin", "issuer", "auditor"))) -> list[dict]:
    with ctx.unit_of_work() as session:
        return [registry.summary(r) for r in registry.visible_seals(ctx, session, client,
                                                                    org_code=org_code, status=status)]


@router.get("/seals/{es_id}", summary="印章信息 / one seal", response_model=None,
            responses=ok(Seal))
def get(es_id: str, ctx: AppContext = Depends(get_ctx),
        _client: Client = Depends(current_client)) -> dict:
    with ctx.unit_of_work() as session:
        return registry.summary(registry.get_seal(session, es_id))


@router.get("/seals/{es_id}/seal.esl", summary="印章文件 / the DER SESeal",
            response_class=Response, responses=binary(DER))
def get_der(es_id: str, ctx: AppContext = Depends(get_ctx),
            _client: Client = Depends(current_client)):
    with ctx.unit_of_work() as session:
        der = registry.get_seal(session, es_id).der
    return Response(der, media_type=DER,
                    headers={"Content-Disposition": f'attachment; filename="{es_id}.esl"'})


@router.get("/seals/{es_id}/picture.png", summary="印模图片 / the seal picture",
            response_class=Response, responses=binary("image/png"))
def get_picture(es_id: str, ctx: AppContext = Depends(get_ctx),
                _client: Client = Depends(current_client)):
    with ctx.unit_of_work() as session:
        der = registry.get_seal(session, es_id).der
    return Response(parse_seal(der).picture, media_type="image/png")


def _status_route(action: str):
    def change(es_id: str, body: StatusIn | None = None, ctx: AppContext = Depends(get_ctx),
               client: Client = Depends(require_role("admin"))) -> dict:
        with ctx.unit_of_work() as session:
            row = registry.change_status(ctx, session, client, es_id, action,
                                         body.reason if body else None)
            return registry.summary(row)

    change.__name__ = f"seal_{action}"
    return change


for _action in registry.TRANSITIONS:
    router.add_api_route(f"/seals/{{es_id}}/{_action}", _status_route(_action), methods=["POST"],
                         summary=f"{_action} a seal (admin)", response_model=None,
                         responses=ok(Seal))


@router.post("/seals/{es_id}/sign", summary="用章签章 / sign a document → DER SES_Signature",
             response_class=Response, responses=binary(DER),
             openapi_extra=body({DER: BINARY, "application/json": SignHash},
                                description="the document's bytes, or JSON with its digest"))
async def sign(es_id: str, request: Request, algorithm: str = Query("sm2", pattern="^(sm2|rsa)$"),
               property_info: str = Query("document", max_length=200),
               ctx: AppContext = Depends(get_ctx),
               client: Client = Depends(require_role("issuer", "admin"))):
    body = await request.body()
    return await run_in_threadpool(_sign, ctx, client, es_id, body, algorithm, property_info,
                                   request.headers.get("content-type", ""))


def _sign(ctx: AppContext, client: Client, es_id: str, body: bytes, algorithm: str,
          property_info: str, content_type: str) -> Response:
    data = data_hash = None
    if content_type.startswith("application/json"):
        try:
            doc = json.loads(body)
            digest = doc.get(algorithms.by_name(algorithm).digest_name)
            data_hash = binascii.unhexlify(digest)
            property_info = doc.get("property_info", property_info)
        except (ValueError, TypeError, AttributeError, binascii.Error):
            raise ProblemError.core("bad-request", 'JSON body must be {"sm3": "<64 hex>"} '
                                    '(or "sha256" with algorithm=rsa)') from None
        if len(data_hash) != 32:
            raise ProblemError.core("bad-request", "the digest must be 32 bytes (64 hex)")
    else:
        data = body
    if not isinstance(property_info, str) or not property_info.isascii():
        raise ProblemError.core("bad-request", "property_info must be ASCII (IA5String)")
    with ctx.unit_of_work() as session:
        der = registry.sign_with_seal(ctx, session, client, es_id, data=data,
                                      data_hash=data_hash, property_info=property_info,
                                      algorithm=algorithm)
    return Response(der, media_type=DER)


@router.post("/verify/seal", summary="验证电子印章或签章数据 / verify a SESeal or SES_Signature",
             response_model=None, responses=ok(Report),
             openapi_extra=body({DER: BINARY, "multipart/form-data": SealUpload}))
async def verify(request: Request, at: datetime | None = Query(None),
                 ctx: AppContext = Depends(get_ctx),
                 client: Client = Depends(current_client)) -> dict:
    if at is not None and at.tzinfo is None:
        raise ProblemError.core("bad-request", "`at` needs a time zone (e.g. Z)")
    document = None
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        form = await request.form()
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise ProblemError.core("bad-request", "multipart field `file` is required")
        blob = await upload.read()
        doc = form.get("document")
        if doc is not None and not isinstance(doc, str):
            document = await doc.read()
    else:
        blob = await request.body()
    return await run_in_threadpool(_verify, ctx, client, blob, at, document)


def _verify(ctx: AppContext, client: Client, blob: bytes, at: datetime | None,
            document: bytes | None) -> dict:
    with ctx.unit_of_work() as session:
        report = registry.verify(ctx, session, client, blob, at=at, data=document)
    outcome_metrics(ctx).verification(report)
    return report.as_dict()


STAMPED_MEDIA = {"pdf": "application/pdf", "ofd": "application/ofd"}


@router.post("/seals/{es_id}/stamp", summary="文档签章 / stamp a PDF document with the seal",
             response_class=Response,
             responses=binary(*STAMPED_MEDIA.values()),
             openapi_extra=body({m: BINARY for m in (*STAMPED_MEDIA.values(), DER)},
                                description="the document (PDF or OFD, recognised by content)"))
async def stamp(es_id: str, request: Request,
                page: int | None = Query(None, ge=1, le=100_000, description="1-based page"),
                x: float | None = Query(None, ge=0, le=10_000,
                                        description="mm from the page's left edge to the seal's left side"),
                y: float | None = Query(None, ge=0, le=10_000,
                                        description="mm from the page's top edge to the seal's top"),
                keyword: str | None = Query(None, min_length=1, max_length=64,
                                            description="centre the seal over this text (关键字定位)"),
                straddle: bool = Query(False, description="骑缝章: a slice on every page's right edge"),
                size: float | None = Query(None, ge=10, le=120, description="seal width in mm"),
                algorithm: str = Query("sm2", pattern="^(sm2|rsa)$"),
                certify: bool = Query(False, description="certification signature (DocMDP P=2); "
                                                         "only as the document's first signature"),
                ctx: AppContext = Depends(get_ctx),
                client: Client = Depends(require_role("issuer", "admin"))):
    body = await request.body()
    placement = Placement(page=page, x_mm=x, y_mm=y, keyword=keyword, straddle=straddle,
                          size_mm=size)
    return await run_in_threadpool(_stamp, ctx, client, es_id, body, placement, algorithm, certify)


def _stamp(ctx: AppContext, client: Client, es_id: str, body: bytes, placement: Placement,
           algorithm: str, certify: bool) -> Response:
    try:
        with ctx.unit_of_work() as session:
            stamped = stamping.stamp_document(ctx, session, client, es_id, body, placement,
                                              algorithm=algorithm, certify=certify)
    except stamping.DocumentTypeUnsupported as exc:
        raise ProblemError.core("unsupported-media-type", exc.message_en, detail_zh=exc.message_zh,
                                reason=exc.code) from None
    kind = stamping.document_type(stamped)
    return Response(stamped, media_type=STAMPED_MEDIA[kind],
                    headers={"Content-Disposition": f'attachment; filename="stamped.{kind}"'})

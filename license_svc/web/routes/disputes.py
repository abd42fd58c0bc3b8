"""Disputes (异议处理) over HTTP: thin adapters over `license_svc.disputes.service`.

Two kinds of route:

- the clients' routes (`/api/v1/disputes…`, an API key of this region): file, list, read,
  evidence, resolve;
- the nodes' routes (`/api/v1/federation/disputes…`, no key): a signed node request
  (`federation.node_request.verify`), checked before the body is looked at; a refusal
  (forged, replayed, stale, …) is audited and answered 403 `node-request-refused` with its
  `reason`.  These read the raw body (the signature covers its bytes), so they are `async def`
  that hand everything to a thread (web/routes/__init__.py).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Depends, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from license_svc.auth.clients import Client
from license_svc.context import AppContext
from license_svc.disputes import service
from license_svc.disputes.errors import DisputeError
from license_svc.federation import node_request
from license_svc.grants.auditing import audited_transaction
from license_svc.web.auth import get_ctx, require_role
from license_svc.web.problems import ProblemError, status_of
from license_svc.web.schemas import disputes as schemas
from license_svc.web.schemas.openapi import binary, body, ok

router = APIRouter(prefix="/api/v1", tags=["异议处理 disputes"])
DISPUTE_ID = Path(..., min_length=36, max_length=36, description="异议编号 dispute id (UUID)")
READERS = ("relying", "issuer", "admin", "auditor")
_EXAMPLE = {"licence_id": "1.2.156.3005.2.11100000000013338W011.11320000MB0000010E.ABC123.001.X",
            "category": "data-wrong", "text": "登记地址与营业执照原件不符",
            "evidence": {"content_type": "application/pdf", "data_base64": "JVBERi0xLjQK…"}}


def _problem(exc: node_request.NodeRequestRefused) -> ProblemError:
    return ProblemError(status_of(exc), exc.code, exc.title_zh, exc.title_en, exc.message_en,
                        detail_zh=exc.message_zh, reason=exc.reason)


@router.post("/disputes", status_code=201,
             summary="提出异议 / dispute a licence of any region (relying department)",
             responses=ok(schemas.Dispute, 201),
             openapi_extra=body({"application/json": schemas.DisputeRequest}))
def post_dispute(body: Any = Body(..., examples=[_EXAMPLE]), ctx: AppContext = Depends(get_ctx),
                 client: Client = Depends(require_role("relying"))):
    with audited_transaction(ctx) as session:
        d = service.file_dispute(ctx, session, client, body)
    if d.state == "pending-delivery":
        d = service.deliver(ctx, d.id)
    return JSONResponse(service.view(ctx, d, client), status_code=201,
                        headers={"Location": f"/api/v1/disputes/{d.id}"})


@router.get("/disputes", summary="异议列表 / disputes: the filer's own, or the issuing organisation's",
            responses=ok(schemas.DisputeList))
def get_disputes(state: str | None = Query(None, pattern="^(open|resolved|overdue|refused)$"),
                 limit: int = Query(100, ge=1, le=service.MAX_LIST),
                 ctx: AppContext = Depends(get_ctx),
                 client: Client = Depends(require_role(*READERS))):
    with ctx.unit_of_work() as session:
        rows = service.list_disputes(ctx, session, client, state, limit)
        return {"disputes": [service.view(ctx, d, client) for d in rows]}


@router.get("/disputes/{dispute_id}", summary="异议详情 / one dispute with its outcome",
            responses=ok(schemas.Dispute))
def get_dispute(dispute_id: str = DISPUTE_ID, ctx: AppContext = Depends(get_ctx),
                client: Client = Depends(require_role(*READERS))):
    with ctx.unit_of_work() as session:
        return service.view(ctx, service.get_dispute(ctx, session, client, dispute_id), client)


@router.get("/disputes/{dispute_id}/evidence", response_class=Response,
            summary="异议证据 / the dispute's evidence attachment",
            responses=binary("application/pdf", "image/png", "image/jpeg"))
def get_evidence(dispute_id: str = DISPUTE_ID, ctx: AppContext = Depends(get_ctx),
                 client: Client = Depends(require_role(*READERS))):
    with ctx.unit_of_work() as session:
        d = service.get_dispute(ctx, session, client, dispute_id)
    if d.evidence is None:
        raise ProblemError.core("not-found", "this dispute has no evidence")
    return Response(d.evidence, media_type=d.evidence_type,
                    headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store",
                             "Content-Disposition": "attachment",
                             "Digest": f"sha-256={d.evidence_sha256}"})


@router.post("/disputes/{dispute_id}/resolve",
             summary="处理异议 / resolve: corrected (new version) or rejected (issuing organisation)",
             responses=ok(schemas.Resolved),
             openapi_extra=body({"application/json": schemas.ResolveRequest}))
def post_resolve(dispute_id: str = DISPUTE_ID, body: Any = Body(...),
                 ctx: AppContext = Depends(get_ctx),
                 client: Client = Depends(require_role("issuer", "admin"))):
    with audited_transaction(ctx) as session:
        d = service.resolve(ctx, session, client, dispute_id, body)
    delivered = True
    if d.filed_region != ctx.region:
        delivered = service.send_outcome(ctx, d.id)
    with ctx.unit_of_work() as session:
        d = session.get(service.Dispute, d.id)
        return {**service.view(ctx, d, client), "outcome_delivered": delivered}


# -- node to node --------------------------------------------------------------------------------

def _from_node(ctx, request_path: str, raw: bytes, header: str | None, work):
    import json

    try:
        with audited_transaction(ctx) as session:
            caller = node_request.verify(ctx, session, method="POST", path=request_path,
                                         body=raw, header=header)
            try:
                body = json.loads(raw)
            except ValueError:
                raise DisputeError("the body is not JSON", "请求体不是 JSON") from None
            d = work(session, caller, body)
            return JSONResponse(service.view(ctx, d))
    except node_request.NodeRequestRefused as exc:
        service.refused_node_request(ctx, exc, request_path)
        raise _problem(exc) from None


@router.post("/federation/disputes", include_in_schema=True,
             summary="节点间：接收异议 / node to node: a dispute about this region's licence",
             responses=ok(schemas.Dispute),
             openapi_extra=body({"application/json": schemas.NodeDispute}))
async def post_federation_dispute(request: Request):
    raw = await request.body()
    ctx = request.app.state.ctx
    return await run_in_threadpool(
        _from_node, ctx, request.url.path, raw, request.headers.get(node_request.HEADER),
        lambda session, caller, body: service.receive(ctx, session, caller, body))


@router.post("/federation/disputes/{dispute_id}/outcome",
             summary="节点间：异议处理结果 / node to node: the outcome of a dispute filed here",
             responses=ok(schemas.Dispute),
             openapi_extra=body({"application/json": schemas.NodeOutcome}))
async def post_federation_outcome(request: Request, dispute_id: str = DISPUTE_ID):
    raw = await request.body()
    ctx = request.app.state.ctx
    return await run_in_threadpool(
        _from_node, ctx, request.url.path, raw, request.headers.get(node_request.HEADER),
        lambda session, caller, body: service.receive_outcome(ctx, session, caller,
                                                              dispute_id, body))

"""Audit log over HTTP (docs/api.md): the latest checkpoint, entries, inclusion and consistency proofs.

Checkpoints and proofs are hashes only and are public: monitors, witnesses in peer regions and
citizens checking "my entry is in the log" need no key.  An entry names a licence and who
looked at it, so it needs the auditor or admin role (within its scope: an organisation's own
auditor or admin reads its organisation's entries only, `auth.policy`) — or a citizen asking for an entry about
themselves or about a licence they hold (any of its holders).  `install` starts the background task that sequences queued entries about every
second and signs a checkpoint every few seconds.
"""

from __future__ import annotations

import base64

from fastapi import APIRouter, Depends, Path, Query, Request
from starlette.concurrency import run_in_threadpool
from fastapi.responses import PlainTextResponse

from license_svc import audit
from license_svc.audit.log import CheckpointPublisher
from license_svc.auth import policy
from license_svc.auth.clients import Client
from license_svc.web.auth import current_client, get_ctx, require_role
from license_svc.context import AppContext
from license_svc.grants.access_log import concerns_holder
from license_svc.web.problems import ProblemError
from license_svc.web.schemas import audit as schemas
from license_svc.web.schemas.openapi import body, ok

router = APIRouter(prefix="/api/v1/audit", tags=["审计日志 audit log"])
CHECKPOINT_INTERVAL_SECONDS = 5.0
SEQUENCE_INTERVAL_SECONDS = 1.0  # reads sequence on demand anyway; this bounds the queue's age
NOTE_MEDIA_TYPE = "text/plain; charset=utf-8"
MAX_INDEX = 2**62  # far beyond any log, and inside a signed 64-bit column


def _b64(b: bytes) -> str:
    return base64.b64encode(b).decode("ascii")


def _problem(exc: audit.AuditError) -> ProblemError:
    status = 404 if isinstance(exc, audit.AuditNotFound) else 400
    return ProblemError(status, exc.code, exc.message_zh, exc.message_en)


@router.get("/checkpoint", response_class=PlainTextResponse,
            summary="最新签名检查点 / latest signed checkpoint (C2SP tlog-checkpoint note)",
            responses={200: {"content": schemas.NOTE}, 404: {"description": "none yet"}})
def get_checkpoint(ctx: AppContext = Depends(get_ctx)):
    try:
        with ctx.unit_of_work() as session:
            note = audit.latest_checkpoint_note(session)
    except audit.AuditError as exc:
        raise _problem(exc) from None
    return PlainTextResponse(note.decode("utf-8"), media_type=NOTE_MEDIA_TYPE,
                             headers={"Cache-Control": "no-cache"})


@router.post("/checkpoint", response_class=PlainTextResponse,
             summary="立即签发检查点 / sign a checkpoint now (admin)",
             responses={200: {"content": schemas.NOTE}})
def post_checkpoint(ctx: AppContext = Depends(get_ctx),
                    _client: Client = Depends(require_role("admin"))):
    audit.publish(ctx)
    return get_checkpoint(ctx)


MAX_NOTE_BODY = 64 * 1024


@router.post("/cosignature", summary="交付见证签名 / deliver a witness cosignature on one of this "
             "log's checkpoints (public; checked against the witness region's trust list)",
             response_model=None, responses=ok(schemas.Cosignatures),
             openapi_extra=body(schemas.NOTE, description="the checkpoint note with the "
                                "witnesses' signature lines (C2SP tlog-cosignature)"))
async def post_cosignature(request: Request, ctx: AppContext = Depends(get_ctx)) -> dict:
    body = await request.body()
    return await run_in_threadpool(_accept_cosignatures, ctx, body)


def _accept_cosignatures(ctx: AppContext, body: bytes) -> dict:
    """Public like the checkpoint: a cosignature is kept only if it verifies with a witness
    certificate from another region's synced trust list, so no key is needed to deliver one."""
    from license_svc.audit.witness import accept_cosignatures

    if len(body) > MAX_NOTE_BODY:
        raise ProblemError(413, "audit-bad-request", "注记过大", "note too large")
    try:
        with ctx.unit_of_work() as session:
            kept = accept_cosignatures(ctx, session, body)
    except audit.AuditError as exc:
        raise ProblemError(400, exc.code, exc.message_zh, exc.message_en) from None
    return {"accepted": kept}


@router.get("/entries/{index}", summary="审计条目 / one entry with its exact leaf bytes",
            response_model=None, responses=ok(schemas.Entry))
def get_entry(index: int = Path(..., ge=0, le=MAX_INDEX), ctx: AppContext = Depends(get_ctx),
              client: Client = Depends(current_client)) -> dict:
    try:
        with ctx.unit_of_work() as session:
            stored = audit.get_entry(session, index)
            entry = stored.entry
            own = concerns_holder(ctx, session, client, entry)  # any holder of its licence
    except audit.AuditError as exc:
        raise _problem(exc) from None
    if not (policy.audit_entry_in_scope(ctx, client, entry) or own):
        # Probing who looked at someone else's licences leaves a trace, as any refused read.
        with ctx.unit_of_work() as session:
            audit.record(ctx, session, action="audit.read", client=client, outcome="denied",
                         licence_id=entry.get("licence_id"), detail={"index": index})
        raise ProblemError.core("forbidden", "audit entries need the auditor or admin role (an "
                                "organisation's own auditor: entries of its organisation), "
                                "or must concern the calling holder")
    return {"index": stored.index, "entry": entry, "leaf": _b64(stored.leaf)}


@router.get("/proof/inclusion", summary="包含证明 / inclusion proof (RFC 9162 §2.1.3, SM3)",
            response_model=None, responses=ok(schemas.InclusionProof))
def get_inclusion(index: int = Query(..., ge=0, le=MAX_INDEX),
                  size: int = Query(..., ge=1, le=MAX_INDEX),
                  ctx: AppContext = Depends(get_ctx)) -> dict:
    try:
        with ctx.unit_of_work() as session:
            hashes = audit.inclusion_proof(session, index, size)
    except audit.AuditError as exc:
        raise _problem(exc) from None
    return {"index": index, "size": size, "hashes": [_b64(h) for h in hashes]}


@router.get("/proof/consistency", summary="一致性证明 / consistency proof (RFC 9162 §2.1.4, SM3)",
            response_model=None, responses=ok(schemas.ConsistencyProof))
def get_consistency(from_: int = Query(..., alias="from", ge=0, le=MAX_INDEX),
                    to: int = Query(..., ge=0, le=MAX_INDEX),
                    ctx: AppContext = Depends(get_ctx)) -> dict:
    try:
        with ctx.unit_of_work() as session:
            hashes = audit.consistency_proof(session, from_, to)
    except audit.AuditError as exc:
        raise _problem(exc) from None
    return {"from": from_, "to": to, "hashes": [_b64(h) for h in hashes]}


def install(app, ctx: AppContext) -> None:
    """Sequence and sign checkpoints in the background while the app runs (interval
    overridable for tests through `app.state.audit_checkpoint_interval`; 0 = no background
    task, reads still sequence on demand)."""
    state = {}

    async def start() -> None:
        interval = getattr(app.state, "audit_checkpoint_interval", CHECKPOINT_INTERVAL_SECONDS)
        if interval:
            state["publisher"] = CheckpointPublisher(
                lambda: audit.publish(ctx), interval, sequence_once=lambda: audit.sequence(ctx),
                sequence_interval=SEQUENCE_INTERVAL_SECONDS).start()

        # Witnessing peers' logs needs their trust lists, i.e. a node that syncs (test apps on
        # sync_interval_minutes=0 do not witness).
        from license_svc.audit.witness import witness_interval, witness_metrics
        from license_svc.federation.autosync import start_witness_task

        witness_metrics(ctx)
        every = getattr(app.state, "audit_witness_interval", None)
        every = witness_interval() if every is None else every
        if interval and every and ctx.settings.sync_interval_minutes:
            state["witness"] = start_witness_task(ctx, every)

    async def stop() -> None:
        if "publisher" in state:
            state.pop("publisher").stop()
        if "witness" in state:
            await run_in_threadpool(state.pop("witness").stop)

    app.router.on_startup.append(start)
    app.router.on_shutdown.append(stop)

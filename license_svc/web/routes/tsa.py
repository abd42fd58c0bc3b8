"""`POST /api/v1/tsa`: the region's RFC 3161 time-stamp authority over HTTP (RFC 3161 §3.4).

Body `application/timestamp-query` (a DER TimeStampReq), reply `application/timestamp-reply`.
Which TSA key answers: `?alg=sm2|rsa`, else SM2 for an SM3 message imprint and RSA otherwise,
so standard clients (`openssl ts`, pyHanko's HTTPTimeStamper, curl) need no parameter.
Unauthenticated like public TSAs; the service's body limit bounds the request size.
"""

from __future__ import annotations

from asn1crypto import tsp
from fastapi import APIRouter, Depends, Request, Response
from fastapi.concurrency import run_in_threadpool

from license_svc.web.auth import get_ctx
from license_svc.web.schemas.openapi import BINARY, binary, body
from license_svc.context import AppContext
from license_svc.licences.resources import timestamper
from formats import oids
from formats.algorithms import registry
from signing.tsa import MAX_REQUEST_BYTES, handle_timestamp_query

router = APIRouter(prefix="/api/v1", tags=["时间戳 timestamps"])


# The TSA key that answers a request whose imprint no registered algorithm uses (it rejects
# a malformed request anyway, and RSA/SHA-256 is what outside clients expect).
FALLBACK_ALGORITHM = oids.ALG_RSA


def _algorithm(body: bytes, requested: str | None) -> str:
    """The TSA key whose algorithm hashes as the request's imprint does."""
    if requested in registry.names():
        return requested
    try:
        name = tsp.TimeStampReq.load(body)["message_imprint"]["hash_algorithm"]["algorithm"].native
    except Exception:
        return FALLBACK_ALGORITHM
    spec = registry.find_by_digest_name(name)
    return spec.name if spec is not None else FALLBACK_ALGORITHM


@router.post("/tsa", summary="RFC 3161 时间戳 / RFC 3161 time-stamping",
             response_class=Response,
             responses=binary("application/timestamp-reply"),
             openapi_extra=body({"application/timestamp-query": BINARY},
                                description="a DER TimeStampReq (RFC 3161)"))
async def tsa(request: Request, alg: str | None = None,
              ctx: AppContext = Depends(get_ctx)) -> Response:
    body = (await request.body())[:MAX_REQUEST_BYTES + 1]
    return await run_in_threadpool(_stamp, ctx, body, alg, request.headers.get("content-type"))


def _stamp(ctx: AppContext, body: bytes, alg: str | None, content_type: str | None) -> Response:
    authority = timestamper(ctx, _algorithm(body, alg)).authority
    code, reply, ctype = handle_timestamp_query(body, content_type, authority)
    return Response(content=reply, status_code=code, media_type=ctype)

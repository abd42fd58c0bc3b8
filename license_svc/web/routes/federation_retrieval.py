"""The issuing region's side of cross-region retrieval (跨省调取): `POST
/api/v1/federation/retrievals`, called by another region's node on behalf of one of its
departments.  No API key: the caller is authenticated by its node signature
(`Licence-Node-Request`, license_svc/federation/node_request.py), checked against its synced
trust list.  Thin adapter over `license_svc.grants.federated.serve_remote`; the flow and the
audit entries are described there and in docs/authorisation.md "Cross-region retrieval"."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool

from formats.errors import ServiceError
from license_svc.context import AppContext
from license_svc.federation.node_request import HEADER
from license_svc.grants import federated
from license_svc.web.auth import get_ctx
from license_svc.web.schemas import grants as schemas
from license_svc.web.schemas.openapi import body, ok
from license_svc.web.routes.grants import _problem

router = APIRouter(prefix="/api/v1", tags=["跨省调取 cross-region retrieval"])


@router.post(federated.PATH.removeprefix("/api/v1"),
             summary="跨省调取（节点间）/ retrieval for a department of another region (node-signed)",
             responses={**ok(schemas.NodeRetrieval),
                        403: {"description": "`node-request-refused` (`reason`) or "
                              "`retrieval-refused` (`reason`); audited"}},
             openapi_extra=body({"application/json": schemas.NodeRetrievalRequest}))
async def post_federation_retrieval(request: Request, ctx: AppContext = Depends(get_ctx)):
    body = await request.body()
    # The domain call blocks (database, signatures): off the event loop.
    return await run_in_threadpool(_serve, ctx, request.method, request.url.path, body,
                                   request.headers.get(HEADER))


def _serve(ctx: AppContext, method: str, path: str, body: bytes, header: str | None) -> dict:
    try:
        return federated.serve_remote(ctx, method=method, path=path, body=body, header=header)
    except ServiceError as exc:
        raise _problem(exc) from None

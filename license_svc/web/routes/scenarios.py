"""The scenario list (应用场景清单) over HTTP: `GET /api/v1/scenarios` is the verified list as
plain JSON for departments and pages; `GET /api/v1/scenarios/signed` the signed envelope peers
sync (ETag / If-None-Match, like the trust lists).  Both public: the list is signed by the
federation, names no person, and a department must be able to read which matters it may
retrieve for before it has a grant.  Thin adapters over `license_svc.federation.scenarios`."""

from __future__ import annotations

import json

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response

from license_svc.context import AppContext
from license_svc.federation.publish import (Published, can_sign_federation, current_scenario_list,
                                            etag_of, published)
from license_svc.federation.scenarios import held_scenarios, signed_body
from license_svc.web.auth import get_ctx
from license_svc.web.problems import ProblemError
from license_svc.web.schemas.federation import Scenario
from license_svc.web.schemas.openapi import array_of, ok
from license_svc.web.routes.federation import _SIGNED, _conditional

router = APIRouter(prefix="/api/v1", tags=["信任列表 trust lists"])
UNAVAILABLE = ("暂无有效的应用场景清单", "No valid scenario list on this node")


def _unavailable(status: int) -> ProblemError:
    return ProblemError(status, "scenario-list-unavailable", *UNAVAILABLE,
                        "this node neither signs nor holds a scenario list that verifies now; "
                        "it is synced from the peers — try later / 本节点尚未取得有效的应用场景清单，请稍后重试")


@router.get("/scenarios", summary="应用场景清单 / the verified scenario list: matters, licence types, regions",
            responses={**ok(array_of(Scenario)),
                       503: {"description": "`scenario-list-unavailable`: no list that verifies now"}})
def get_scenarios(ctx: AppContext = Depends(get_ctx)):
    if can_sign_federation(ctx.keystore):
        published(ctx, current_scenario_list)  # so what is shown is a signed, verified list
    with ctx.unit_of_work() as session:
        held = held_scenarios(ctx, session)
    if held is None:
        raise _unavailable(503)
    return JSONResponse(held.as_list(), headers={
        "Cache-Control": "no-cache", "X-Scenario-List-Source": held.source,
        **({"X-Scenario-List-Sequence": str(held.sequence)} if held.sequence is not None else {})})


@router.get("/scenarios/signed", response_class=Response, responses=_SIGNED,
            summary="签名应用场景清单 / the signed scenario list (yrd-scenarios/1)")
def get_signed_scenarios(request: Request, ctx: AppContext = Depends(get_ctx)):
    if can_sign_federation(ctx.keystore):
        return _conditional(request, published(ctx, current_scenario_list))
    with ctx.unit_of_work() as session:
        got = signed_body(ctx, session)
    if got is None:
        raise _unavailable(404)
    body, sequence = got
    return _conditional(request, Published(json.loads(body), body, etag_of(body), sequence))

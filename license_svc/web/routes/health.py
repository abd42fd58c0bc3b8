"""Liveness, readiness and Prometheus metrics: for load balancers and monitors, no auth."""

from __future__ import annotations

import logging
import os

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from license_svc.web.auth import get_ctx
from license_svc.context import AppContext
from license_svc.web.problems import ProblemError, problem_response
from license_svc.web.schemas.health import Alive, Ready
from license_svc.web.schemas.openapi import ok

router = APIRouter(tags=["运维 operations"])
log = logging.getLogger(__name__)


@router.get("/healthz", summary="存活检查 / liveness", response_model=None, responses=ok(Alive))
def healthz() -> dict:
    return {"status": "ok"}


def readiness(ctx: AppContext) -> dict[str, str]:
    """Each dependency the service needs to answer requests: "ok" or why not."""
    checks = {}
    try:
        with ctx.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # any driver error means "not ready", reported not raised
        log.warning("readiness: database unreachable: %s", type(exc).__name__)
        checks["database"] = f"unreachable ({type(exc).__name__})"
    try:
        ctx.keystore
        checks["keys"] = "ok"
    except Exception as exc:
        log.warning("readiness: keys not loadable: %s", exc)
        checks["keys"] = f"not loadable ({type(exc).__name__})"
    return checks


def issuance(ctx: AppContext) -> dict:
    """Which organisations and algorithms cannot issue now (withdrawn or missing key).

    Reported, not a reason to be unready: a load balancer takes a 503 node out of rotation, and
    one organisation's withdrawn key would then stop verification, status answers to the other
    regions, retrievals and every other organisation's issuance too.  Issuance with the affected
    key answers 503 `signing-key-withdrawn` / `signing-key-missing` on its own."""
    from license_svc.licences.signer_check import issuance_state

    try:
        with ctx.unit_of_work() as session:
            return issuance_state(ctx, session).as_dict()
    except Exception as exc:  # database or keys down: the checks above already say so
        log.warning("readiness: issuance state unknown: %s", type(exc).__name__)
        return {"ok": False, "withdrawn": [], "missing": [], "error": type(exc).__name__}


@router.get("/readyz", summary="就绪检查 / readiness: database reachable, keys loadable",
            responses={**ok(Ready), 503: {"description": "not ready (problem+json with `checks`)"}})
def readyz(ctx: AppContext = Depends(get_ctx)):
    checks = readiness(ctx)
    # -- trust lists (license_svc.federation.sync.sync_overview): information, not a gate ------
    from license_svc.federation.sync import sync_overview
    try:
        trust_lists = sync_overview(ctx)
    except Exception as exc:  # the database check above already says why
        trust_lists = {"error": type(exc).__name__}
    # ---------------------------------------------------------------------------------------
    if all(v == "ok" for v in checks.values()):
        return JSONResponse({"status": "ready", "region": ctx.region, "checks": checks,
                             "issuance": issuance(ctx), "trust_lists": trust_lists})
    return problem_response(ProblemError.core("not-ready", "; ".join(
        f"{k}: {v}" for k, v in checks.items() if v != "ok"), checks=checks,
        trust_lists=trust_lists))


@router.get("/metrics", summary="Prometheus 指标 / metrics", response_class=Response,
            responses={200: {"content": {CONTENT_TYPE_LATEST: {"schema": {"type": "string"}}}}})
def metrics(ctx: AppContext = Depends(get_ctx)) -> Response:
    return Response(generate_latest(_registry(ctx)), media_type=CONTENT_TYPE_LATEST)


def _registry(ctx: AppContext):
    """This process's metrics, or, under `serve --workers N`, every worker's (summed by
    prometheus_client from the files in PROMETHEUS_MULTIPROC_DIR)."""
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return ctx.metrics
    from prometheus_client import CollectorRegistry, multiprocess

    from license_svc.web.metrics import operations_metrics, trust_list_metrics

    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    # The scrape-time gauges read shared state (the database, the key store), so whichever
    # worker answers gives the same values: add them beside the summed counters.
    registry.register(trust_list_metrics(ctx))
    registry.register(operations_metrics(ctx))
    return registry

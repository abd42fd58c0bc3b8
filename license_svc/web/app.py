"""The FastAPI application factory.

`create_app(settings)` builds a fresh context (engine, key store on first use) unless one is
passed; tests pass their own.  Route modules are listed in `ROUTE_MODULES`: each exposes a
`router` (an APIRouter, mounted as is) and/or `install(app, ctx)` for anything more (static files).
"""

from __future__ import annotations

import importlib

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline

from license_svc import __version__
from license_svc.config import REGIONS, Settings
from license_svc.context import AppContext
from license_svc.web.metrics import http_metrics, operations_metrics, trust_list_metrics
from license_svc.web.middleware import BodyLimitMiddleware, RequestMiddleware
from license_svc.web.problems import install_problem_handlers
from license_svc.web.schemas.openapi import install as install_openapi_components

# One line per route module; keep sorted by area.
ROUTE_MODULES = [
    "license_svc.web.pages.api",
    "license_svc.web.pages.views",
    "license_svc.web.routes.audit",
    "license_svc.web.routes.disputes",
    "license_svc.web.routes.federation",
    "license_svc.web.routes.federation_retrieval",
    "license_svc.web.routes.grants",
    "license_svc.web.routes.health",
    "license_svc.web.routes.licences",
    "license_svc.web.routes.pki",
    "license_svc.web.routes.scenarios",
    "license_svc.web.routes.seals",
    "license_svc.web.routes.signin",
    "license_svc.web.routes.tsa",
    "license_svc.web.routes.verify",
]

DESCRIPTION = """长三角电子证照与电子印章服务 — electronic licences and seals for the Yangtze River Delta.

Authentication: `Authorization: Bearer <API key>`.  Errors are RFC 9457 `application/problem+json`
with a stable `type` (`urn:license-svc:problem:<slug>`) and titles in Chinese and English.
See docs/api.md.
"""


def create_app(settings: Settings | None = None, *, ctx: AppContext | None = None) -> FastAPI:
    if ctx is None:
        if settings is None:
            raise TypeError("create_app needs settings or ctx")
        ctx = AppContext.create(settings)
    settings = ctx.settings
    # /docs and /redoc from Swagger UI and ReDoc files shipped in a package (fastapi-offline),
    # not a CDN: the service runs on government networks without internet access.
    app = FastAPIOffline(
        title=f"license-svc {settings.region} ({REGIONS[settings.region]})",
        version=__version__, description=DESCRIPTION,
        openapi_url="/openapi.json", docs_url="/docs", redoc_url="/redoc",
        static_url="/static-api-docs", favicon_url="/pages/static/favicon.svg",
    )
    app.state.ctx = ctx
    install_problem_handlers(app)
    for name in ROUTE_MODULES:
        module = importlib.import_module(name)
        if hasattr(module, "router"):
            app.include_router(module.router)
        if hasattr(module, "install"):
            module.install(app, ctx)
    install_openapi_components(app)  # the models routes declare but do not validate with
    trust_list_metrics(ctx)
    operations_metrics(ctx)
    # The background trust-list sync (settings.sync_interval_minutes; 0: only when asked).
    start_sync, stop_sync = _sync_task(app, ctx)
    app.router.on_startup.append(start_sync)
    app.router.on_shutdown.append(stop_sync)
    # After the route modules' own shutdown handlers (the audit publisher uses the context) and
    # the sync task (it uses the peer client and the database).
    app.router.on_shutdown.append(_closer(ctx))
    # Added last = outermost: the request id and metrics wrap the body limit's 413 too.
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(RequestMiddleware, metrics=http_metrics(ctx))
    return app


def _sync_task(app: FastAPI, ctx: AppContext):
    """Start and stop handlers for the sync task (license_svc.federation.autosync): a thread,
    because `sync()` blocks on peers and the database; stopping joins it for a bounded time.
    The running task is `app.state.federation_sync_task` (None when disabled)."""
    from starlette.concurrency import run_in_threadpool

    from license_svc.federation.autosync import start_sync_task

    app.state.federation_sync_task = None

    async def start() -> None:
        app.state.federation_sync_task = start_sync_task(ctx)

    async def stop() -> None:
        task = app.state.federation_sync_task
        if task is not None:
            await run_in_threadpool(task.stop)  # the join must not block the event loop
    return start, stop


def _closer(ctx: AppContext):
    async def close() -> None:
        """Release the database pool and the peer client when the server stops."""
        ctx.close()
    return close

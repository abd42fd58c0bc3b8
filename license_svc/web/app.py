"""The FastAPI application factory.

`create_app(settings)` builds a fresh context (engine, key store on first use) unless one is
passed; tests pass their own.  Route modules are listed in `ROUTE_MODULES`: each exposes a
`router` (an APIRouter, mounted as is) and/or `install(app, ctx)` for anything more (static files).
"""

from __future__ import annotations

import importlib

from fastapi import FastAPI

from license_svc import __version__
from license_svc.config import REGIONS, Settings
from license_svc.context import AppContext
from license_svc.web.metrics import http_metrics
from license_svc.web.middleware import BodyLimitMiddleware, RequestMiddleware
from license_svc.web.problems import install_problem_handlers

# One line per route module; keep sorted by area.
ROUTE_MODULES = [
    "license_svc.web.pages.api",
    "license_svc.web.pages.views",
    "license_svc.web.routes.audit",
    "license_svc.web.routes.federation",
    "license_svc.web.routes.grants",
    "license_svc.web.routes.health",
    "license_svc.web.routes.licences",
    "license_svc.web.routes.pki",
    "license_svc.web.routes.seals",
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
    app = FastAPI(
        title=f"license-svc {settings.region} ({REGIONS[settings.region]})",
        version=__version__, description=DESCRIPTION,
        openapi_url="/openapi.json", docs_url="/docs", redoc_url=None,
    )
    app.state.ctx = ctx
    install_problem_handlers(app)
    for name in ROUTE_MODULES:
        module = importlib.import_module(name)
        if hasattr(module, "router"):
            app.include_router(module.router)
        if hasattr(module, "install"):
            module.install(app, ctx)
    # After the route modules' own shutdown handlers (the audit publisher uses the context).
    app.router.on_shutdown.append(_closer(ctx))
    # Added last = outermost: the request id and metrics wrap the body limit's 413 too.
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(RequestMiddleware, metrics=http_metrics(ctx))
    return app


def _closer(ctx: AppContext):
    async def close() -> None:
        """Release the database pool and the peer client when the server stops."""
        ctx.close()
    return close

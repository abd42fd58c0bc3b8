"""The HTML pages and their static files, served with a strict Content-Security-Policy.

The pages hold no data and no secret: they are the same bytes for everyone (apart from the
region's name and the wallet's refresh interval), and their scripts fetch everything with the
key the user types in.  The CSP allows scripts, styles and requests only from this origin,
images also as data: URLs (the wallet's QR code arrives as base64 PNG), no inline script or
style, no framing — so even text an attacker put into a licence or a QR code, shown on a page,
can neither run nor phone home.  Everything is served locally: no CDN, no web fonts.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.staticfiles import StaticFiles

from license_svc import __version__
from license_svc.config import REGIONS
from license_svc.web.pages import labels
from license_svc.web.pages.api import refresh_seconds

HERE = Path(__file__).resolve().parent
STATIC_DIR = HERE / "static"
STATIC_URL = "/pages/static"
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
       "form-action 'self'; frame-ancestors 'none'")
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}
PAGES = {
    # path: (template, title, roles whose key the page asks for)
    "wallet": ("wallet.html", "我的证照 · 亮证", ("citizen",)),
    "verify": ("verify.html", "证照核验", ("relying", "auditor", "admin", "citizen")),
    "console": ("console.html", "发证管理", ("issuer", "admin")),
}

router = APIRouter(include_in_schema=False)
_env = Environment(loader=FileSystemLoader(HERE / "templates"),
                   autoescape=select_autoescape(default=True), trim_blocks=True, lstrip_blocks=True)


@lru_cache(maxsize=None)
def asset_url(name: str) -> str:
    """A static file's URL with a content hash, so a new release is never mixed with a cached
    old script."""
    digest = hashlib.sha256((STATIC_DIR / name).read_bytes()).hexdigest()[:12]
    return f"{STATIC_URL}/{name}?v={digest}"


def _render(request: Request, page: str, template: str, title: str, roles=()) -> HTMLResponse:
    settings = request.app.state.ctx.settings
    html = _env.get_template(template).render(
        page=page, title=title, roles=roles, region=settings.region,
        region_name=REGIONS[settings.region], production=settings.production,
        version=__version__, asset=asset_url, labels_json=labels.as_json(),
        role_names=labels.ROLE_ZH, refresh_seconds=refresh_seconds(request),
        oidc_enabled=settings.oidc_enabled, demo_sign_in=settings.demo_sign_in_enabled)
    return HTMLResponse(html, headers=SECURITY_HEADERS)


@router.get("/", response_class=HTMLResponse)
def index(request: Request):
    return _render(request, "index", "index.html", "首页")


def _page(name: str):
    template, title, roles = PAGES[name]

    def view(request: Request) -> HTMLResponse:
        return _render(request, name, template, title, roles)

    view.__name__ = f"page_{name}"
    return view


for _name in PAGES:
    router.add_api_route(f"/{_name}", _page(_name), methods=["GET"], response_class=HTMLResponse)


class _Static(StaticFiles):
    async def get_response(self, path, scope):
        response = await super().get_response(path, scope)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers.setdefault("Cache-Control", "no-cache")
        return response


def install(app, ctx) -> None:
    app.mount(STATIC_URL, _Static(directory=STATIC_DIR), name="pages-static")

"""/docs (Swagger UI) and /redoc (ReDoc) render in headless Chromium with every request that
leaves 127.0.0.1 blocked — as on a government network without internet: the pages' scripts,
styles and icon are served by the service itself (fastapi-offline's packaged copies)."""

from __future__ import annotations

from urllib.parse import urlparse

import pytest

from tests.web.browser import skip_module_unless_browser

skip_module_unless_browser()

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from tests.web.live_server import live_server

    with live_server(tmp_path_factory.mktemp("live")) as srv:
        yield srv


@pytest.mark.parametrize("path, rendered", [
    ("/docs", ".swagger-ui .info .title"),
    ("/redoc", "h1"),
])
def test_api_docs_render_without_internet(server, path, rendered):
    from playwright.sync_api import sync_playwright

    from tests.web.browser import launch, new_page

    outside: list[str] = []

    def only_loopback(route):
        host = urlparse(route.request.url).hostname
        if host in ("127.0.0.1", "localhost"):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort("internetdisconnected")

    with sync_playwright() as p:
        browser = launch(p)
        try:
            context, page = new_page(browser)
            context.route("**/*", only_loopback)
            page.goto(server.url + path)
            heading = page.wait_for_selector(rendered, timeout=30_000)
            assert "license-svc" in heading.inner_text()
            if path == "/docs":  # the operations are listed (one block each)
                page.wait_for_selector(".opblock", timeout=30_000)
                assert page.locator(".opblock").count() > 30
            context.close()
        finally:
            browser.close()
    # ReDoc's "API docs by Redocly" footer links its logo from Redocly's CDN; blocked, the page
    # is whole without it.  Nothing else may leave the machine.
    assert [u for u in outside if u != "https://cdn.redoc.ly/redoc/logo-mini.svg"] == []

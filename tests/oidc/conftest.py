"""A js node (live uvicorn, its own SQLite, dev PKI and demo data) signed into through the local
OpenID provider (tests/oidc/provider.mjs), and a plain HTTP client that signs in the way a
browser does: following every redirect and filling the provider's login form."""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from urllib.parse import urljoin

import httpx
import pytest

from tests.oidc.provider import Provider, free_port, oidc_provider, unavailable
from tests.web.live_server import LiveServer

SCOPES = "openid profile license_svc"
CITIZEN, CLERK, OFFICER = "citizen", "clerk-js", "officer-js"
CLERK_NAME = "王芳（江苏人社窗口）"


def skip_unless_node() -> None:
    """Skip a module where Node is missing, and in the PostgreSQL pass: the node under test runs
    on its own SQLite file whatever database the run is pointed at (as the browser tests do)."""
    import os

    why = unavailable()
    if why is None and os.environ.get("LICENSE_SVC_TEST_DATABASE_URL"):
        why = "the sign-in tests run against their own SQLite node, in the SQLite pass"
    if why:
        pytest.skip(why, allow_module_level=True)


@dataclass
class Stack:
    idp: Provider
    srv: LiveServer

    @property
    def url(self) -> str:
        return self.srv.url


@contextlib.contextmanager
def oidc_stack(data_dir, id_token_ttl: int = 3600, **settings):
    """A provider and a js node (live server in `data_dir`) that trusts it; `settings`: more
    Settings fields or live_server arguments (refresh_seconds)."""
    from tests.web.live_server import live_server

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with oidc_provider(base + "/auth/callback", base + "/", id_token_ttl=id_token_ttl) as idp:
        with live_server(data_dir, region="js", port=port, oidc_issuer=idp.issuer,
                         oidc_client_id=idp.client_id, oidc_client_secret=idp.client_secret,
                         oidc_redirect_url=base + "/auth/callback", oidc_scopes=SCOPES,
                         **settings) as srv:
            yield Stack(idp, srv)


@pytest.fixture(scope="module")
def make_stack(tmp_path_factory):
    """`with make_stack(**provider_kwargs) as stack`: a provider and a js node that trusts it."""
    def make(id_token_ttl: int = 3600, **settings):
        return oidc_stack(tmp_path_factory.mktemp("oidc-node"), id_token_ttl, **settings)
    return make


@pytest.fixture(scope="module")
def stack(make_stack):
    with make_stack() as s:
        yield s


def browser_client() -> httpx.Client:
    return httpx.Client(follow_redirects=True, timeout=30)


def sign_in(http: httpx.Client, base: str, account: str,
            next_page: str = "/verify") -> tuple[httpx.Response, list[httpx.Response]]:
    """The code flow as a browser runs it: our /auth/login → the provider's login form → back
    through /auth/callback to the page.  Returns the page and every response on the way."""
    form = http.get(base + "/auth/login", params={"next": next_page})
    assert form.status_code == 200 and 'name="login"' in form.text, form.text[:500]
    action = re.search(r'<form[^>]*action="([^"]+)"', form.text).group(1)
    page = http.post(urljoin(str(form.url), action),
                     data={"prompt": "login", "login": account, "password": "any"})
    return page, [*form.history, form, *page.history, page]


SESSION = {"X-License-Svc-Session": "1"}


def login_until_callback(http: httpx.Client, start: str, callback_prefix: str,
                         account: str = CLERK) -> str:
    """With `http` not following redirects: walk the provider's redirects and login form, and
    stop before our callback; the callback URL the provider sends the browser to."""
    r = http.get(start)
    while r.is_redirect:
        r = http.get(urljoin(str(r.url), r.headers["location"]))
    action = re.search(r'<form[^>]*action="([^"]+)"', r.text).group(1)
    r = http.post(urljoin(str(r.url), action), data={"prompt": "login", "login": account, "password": "x"})
    while r.is_redirect:
        location = urljoin(str(r.url), r.headers["location"])
        if location.startswith(callback_prefix):
            return location
        r = http.get(location)
    raise AssertionError(f"the provider did not send us back: {r.status_code} {r.text[:300]}")


def signin_through_provider(page, base: str, path: str, account: str) -> None:
    """In a Playwright page: open `path`, press the provider's button, log in as `account` on the
    provider's form, and wait until the page shows who signed in."""
    from playwright.sync_api import expect

    page.goto(base + path)
    expect(page.locator("#demo-signin")).to_contain_text("演示登录")
    page.click("#oidc-login")
    page.fill("input[name=login]", account)
    page.fill("input[name=password]", "any")
    page.click("button[type=submit]")
    page.wait_for_url(base + path)
    page.wait_for_selector("#identity:not([hidden])")

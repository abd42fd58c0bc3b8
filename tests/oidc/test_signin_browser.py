"""Acceptance in headless Chromium (Debian's, driven by Playwright): a clerk signs in on /verify
through the local OpenID provider, verifies a licence, and the holder — signed in on /wallet
the same way — sees the clerk as 经办人 in the access log; 退出 signs out at the provider and
comes back to the home page; no script error on our pages, the session cookie HttpOnly and
SameSite=Strict, nothing in web storage."""

from __future__ import annotations

import pytest

from tests.oidc.conftest import (CITIZEN, CLERK, CLERK_NAME, SESSION, browser_client, sign_in,
                                 signin_through_provider, skip_unless_node)
from tests.web.browser import skip_module_unless_browser

skip_unless_node()
skip_module_unless_browser()

from playwright.sync_api import expect  # noqa: E402

from tests.web.browser import PHONE, assert_fits, new_page, write  # noqa: E402

pytestmark = pytest.mark.browser


@pytest.fixture
def page(browser, stack):
    context, pg = new_page(browser)
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    yield pg
    context.close()
    assert errors == []


def test_clerk_verifies_and_the_holder_sees_the_clerk(stack, page, browser, tmp_path):
    with browser_client() as http:  # the licence file, as the holder downloads it
        sign_in(http, stack.url, CITIZEN, "/wallet")
        licence = next(lic for lic in http.get(stack.url + "/api/v1/holders/me/licences",
                                                headers=SESSION).json()["licences"]
                       if lic["status"] == "active" and lic["type_name"] == "机动车驾驶证")
        pdf = http.get(f"{stack.url}/api/v1/licences/{licence['identifier']}/pdf", headers=SESSION).content
    genuine = write(tmp_path / "驾驶证.pdf", pdf)

    signin_through_provider(page, stack.url, "/verify", CLERK)
    assert CLERK_NAME in page.inner_text("#me-name")
    assert "登录有效至" in page.inner_text("#me-extra")
    cookie = next(c for c in page.context.cookies(stack.url) if c["name"] == "license_svc_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert page.evaluate("sessionStorage.length + localStorage.length") == 0

    page.set_input_files("#file", str(genuine))
    page.click("#file-form button[type=submit]")
    page.wait_for_selector("#report:not([hidden])")
    assert "passed" in page.get_attribute("#verdict", "class")

    context, wallet = new_page(browser)
    try:
        signin_through_provider(wallet, stack.url, "/wallet", CITIZEN)
        row = wallet.locator("#access-log tbody tr", has_text=CLERK_NAME).first
        expect(row).to_contain_text(f"经办人：{CLERK_NAME}")
        expect(row).to_contain_text("人力资源和社会保障")  # the department, by its registered name
    finally:
        context.close()


def test_no_failed_request_before_anyone_signs_in(stack, page):
    """The silent session check on load answers 200: no 401 in the browser's console."""
    failed: list[str] = []
    page.on("console", lambda msg: msg.type == "error" and failed.append(msg.text))
    page.on("response", lambda r: r.status >= 400 and failed.append(f"{r.status} {r.url}"))
    for path in ("/verify", "/wallet", "/console"):
        page.goto(stack.url + path)
        expect(page.locator("#oidc-login")).to_be_visible()
        page.wait_for_load_state("networkidle")
        assert page.is_hidden("#login-error") and page.is_hidden("#app")
    assert failed == []


def test_the_sign_in_card_on_a_phone(stack, browser):
    """At 390 px with the provider configured: the card fits and looks like the other cards, the
    provider's button is the primary one and spans the card, the demo sign-in comes after it,
    set apart (dashed box) with a plain button."""
    context, phone = new_page(browser, PHONE)
    try:
        for path in ("/verify", "/wallet", "/console"):
            phone.goto(stack.url + path)
            expect(phone.locator("#oidc-login")).to_be_visible()
            assert_fits(phone, f"{path}, the sign-in card")
            look = phone.evaluate("""() => {
              const OTHER_CARD = ".card:not(#login):not(#identity)";  // the page's own, hidden or not
              const css = (sel, prop) => getComputedStyle(document.querySelector(sel))[prop];
              const box = (sel) => document.querySelector(sel).getBoundingClientRect();
              const card = box("#login"), button = box("#oidc-login"), demo = box("#demo-signin");
              return {
                card: [css("#login", "backgroundColor"), css("#login", "borderTopColor"),
                       css("#login", "borderRadius")],
                other: [css(OTHER_CARD, "backgroundColor"), css(OTHER_CARD, "borderTopColor"),
                        css(OTHER_CARD, "borderRadius")],
                oidc: css("#oidc-login", "backgroundColor"),
                demo: css("#login-form button", "backgroundColor"),
                demoBorder: css("#demo-signin", "borderTopStyle"),
                spans: button.width / (card.width - 2 * parseFloat(css("#login", "paddingLeft")) - 2),
                demoBelow: demo.top >= button.bottom,
              };
            }""")
            assert look["card"] == look["other"], path
            assert look["oidc"] == "rgb(13, 74, 148)", path   # --blue: the primary button
            assert look["demo"] == "rgb(255, 255, 255)", path  # the demo's button is a plain one
            assert look["demoBorder"] == "dashed" and look["demoBelow"], path
            assert look["spans"] > 0.98, path
            expect(phone.locator("#demo-signin")).to_contain_text("演示登录")
    finally:
        context.close()


def test_logout_signs_out_at_the_provider(stack, page):
    signin_through_provider(page, stack.url, "/verify", CLERK)
    page.click("#logout")
    page.wait_for_url(stack.idp.issuer + "/session/end**")
    page.click("button[name=logout]")
    page.wait_for_url(stack.url + "/")
    page.goto(stack.url + "/verify")
    expect(page.locator("#login")).to_be_visible()
    assert page.is_hidden("#app")
    # Signed out at the provider too: signing in again asks for the login.
    page.click("#oidc-login")
    expect(page.locator("input[name=login]")).to_be_visible()


def test_an_ended_session_asks_to_sign_in_again(stack, page):
    signin_through_provider(page, stack.url, "/verify", CLERK)
    with stack.srv.ctx.unit_of_work() as session:  # the session ends on the server (expiry, logout elsewhere)
        from license_svc.auth.models import WebSession

        session.query(WebSession).delete()
    page.reload()
    expect(page.locator("#login-error")).to_have_text("登录已过期或已退出，请重新登录。")
    assert page.is_hidden("#app")

"""The 亮证 code scans off a phone: a citizen signs in on a 390 px wide Chromium, shows a
licence's code, and a screenshot of the screen scaled to half size still decodes (zxing-cpp) to
an EP2 that the service verifies (POST /api/v1/verify), RSA- and SM2-signed licences alike; the
code changes after the refresh interval and the new one verifies too; the old one does not
verify twice."""

from __future__ import annotations

import httpx
import pytest

from tests.web.browser import skip_module_unless_browser

skip_module_unless_browser()

from playwright.sync_api import expect  # noqa: E402

from tests.web.browser import PHONE, shown_qr, sign_in  # noqa: E402
from verification.report import TOTAL_PASSED  # noqa: E402

pytestmark = pytest.mark.browser
REFRESH_SECONDS = 3
CITIZEN, RELYING = "sh-citizen", "sh-relying"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from tests.web.live_server import live_server

    with live_server(tmp_path_factory.mktemp("live"), refresh_seconds=REFRESH_SECONDS) as srv:
        yield srv


@pytest.fixture
def phone(browser):
    context = browser.new_context(viewport=PHONE, locale="zh-CN", timezone_id="Asia/Shanghai",
                                  device_scale_factor=1)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert errors == []


def _licences(server) -> list[dict]:
    resp = httpx.get(server.url + "/api/v1/holders/me/licences", headers=server.auth(CITIZEN), timeout=30)
    return [lic for lic in resp.json()["licences"] if lic["status"] == "active"]


def _verify_online(server, text: str) -> dict:
    resp = httpx.post(server.url + "/api/v1/verify", json={"qr": text},
                      headers=server.auth(RELYING), timeout=30)
    assert resp.status_code == 200, resp.text
    return resp.json()


@pytest.mark.parametrize("algorithm", ["rsa", "sm2"])
def test_half_size_phone_screenshot_decodes_and_verifies(server, phone, algorithm):
    licence = next(lic for lic in _licences(server) if lic["algorithm"] == algorithm)
    sign_in(phone, server.url, "/wallet", server.key(CITIZEN))
    phone.locator(f'article.licence[data-identifier="{licence["identifier"]}"] .present-btn').click()
    phone.wait_for_selector("#present:not([hidden])")

    first, cti1 = shown_qr(phone)
    assert first.startswith("EP2:")
    report = _verify_online(server, first)
    assert report["indication"] == TOTAL_PASSED, report
    assert report["licence"]["id"] == licence["identifier"]
    assert report["licence"]["presentation"]["cti"] == cti1
    assert _verify_online(server, first)["indication"] == "TOTAL_FAILED"  # a replay

    expect(phone.locator("#qr")).not_to_have_attribute("data-cti", cti1,
                                                       timeout=(REFRESH_SECONDS + 10) * 1000)
    second, cti2 = shown_qr(phone)
    assert second != first and cti2 != cti1
    assert _verify_online(server, second)["indication"] == TOTAL_PASSED
    # the page tells the holder the interval it runs on, and the 60 s a code lives
    said = phone.inner_text("#present .countdown")
    assert f"每 {REFRESH_SECONDS} 秒一换" in said and "每个码 60 秒内有效" in said, said

"""Issue 16's acceptance as one story, in headless Chromium (Debian's, driven by Playwright) at
390×844, against a live js node whose people sign in through the local OpenID provider
(tests/oidc/provider.mjs):

1. a clerk signs in on /verify, uploads a food business licence its issuer suspended for 年报核查
   (through the API, with its key) and reads 已暂停 with that reason; uploads the citizen's
   genuine driving licence and reads 有效 with its type, number and masked holder;
2. the citizen signs in on /wallet, finds the clerk as 经办人 in the access log, shows the 亮证
   code, which a half-size screenshot decodes (zxing-cpp) to a presentation the service verifies
   (POST /api/v1/verify); the code changes and the new one verifies too;
3. an officer signs in on /console, issues a business licence from the form after a Chinese
   message for a missing field, amends it and revokes it, each with a reason.

Every page, in every state a person sees, is no wider than the phone; no script error, no
console error and no failed request on the way.
"""

from __future__ import annotations

import httpx
import pytest

from tests.oidc.conftest import skip_unless_node
from tests.web.browser import skip_module_unless_browser

skip_unless_node()
skip_module_unless_browser()

from playwright.sync_api import expect  # noqa: E402

from license_svc.identifiers import uscc_check_char  # noqa: E402
from tests.oidc.conftest import (CITIZEN, CLERK, CLERK_NAME, OFFICER, SESSION,  # noqa: E402
                                 browser_client, oidc_stack, sign_in, signin_through_provider)
from tests.web.browser import (PHONE, assert_fits, console_field as fld, new_page, shown_qr, write)
from verification.report import TOTAL_PASSED  # noqa: E402

pytestmark = pytest.mark.browser
REFRESH_SECONDS = 3
HOLDER_ID = "310101199003071230"  # the provider's citizen (tests/oidc/provider.mjs)


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    with oidc_stack(tmp_path_factory.mktemp("acceptance"), refresh_seconds=REFRESH_SECONDS) as s:
        yield s


@pytest.fixture
def open_phone(browser, stack):
    """`open_phone()`: a fresh 390×844 page for one person (its own cookies).  At the end, no
    script error, console error or failed request on any of them — on this service's pages (the
    test provider's login form asks for web fonts it cannot reach here, which is its own affair)."""
    problems: list[str] = []
    contexts = []

    def ours(url: str) -> bool:
        return url.startswith(stack.url + "/")

    def open_():
        context, page = new_page(browser, PHONE)
        contexts.append(context)
        page.on("pageerror", lambda exc: problems.append(f"pageerror: {exc}"))
        page.on("console", lambda msg: problems.append(f"console: {msg.text} ({page.url})")
                if msg.type == "error" and ours(page.url) else None)
        page.on("response", lambda r: problems.append(f"{r.status} {r.url}")
                if r.status >= 400 and ours(r.url) else None)
        return page

    yield open_
    for context in contexts:
        context.close()
    assert problems == []


def api(stack, method: str, path: str, client_id: str, **kwargs) -> httpx.Response:
    return httpx.request(method, stack.url + path, headers=stack.srv.auth(client_id), timeout=30, **kwargs)


def _upload(page, path) -> None:
    page.set_input_files("#file", str(path))
    page.click("#file-form button[type=submit]")
    page.wait_for_selector("#report:not([hidden])")
    page.wait_for_function("() => document.getElementById('busy').hidden")


def _citizens_driving_licence(stack) -> dict:
    with browser_client() as http:
        sign_in(http, stack.url, CITIZEN, "/wallet")
        mine = http.get(stack.url + "/api/v1/holders/me/licences", headers=SESSION).json()["licences"]
    return next(lic for lic in mine if lic["type_name"] == "机动车驾驶证" and lic["status"] == "active")


def test_clerk_citizen_and_officer(stack, open_phone, tmp_path):
    # The files the clerk is handed: a food business licence its issuer suspended, a genuine
    # driving licence.
    business = next(lic for lic in api(stack, "GET", "/api/v1/issuers/me/licences", "js-issuer-amr")
                    .json()["licences"] if lic["type_name"] == "食品经营许可证" and lic["status"] == "active")
    suspended_pdf = write(tmp_path / "食品经营许可证.pdf", api(
        stack, "GET", f"/api/v1/licences/{business['identifier']}/pdf", "js-issuer-amr").content)
    r = api(stack, "POST", f"/api/v1/licences/{business['identifier']}/suspend", "js-issuer-amr",
            json={"reason": "年报核查"})
    assert r.status_code == 200, r.text
    driving = _citizens_driving_licence(stack)
    genuine_pdf = write(tmp_path / "驾驶证.pdf", api(
        stack, "GET", f"/api/v1/licences/{driving['identifier']}/pdf", "js-issuer-traffic").content)

    # 1. The clerk, on /verify.
    phone = open_phone()
    phone.goto(stack.url + "/verify")
    assert_fits(phone, "/verify, signed out")
    signin_through_provider(phone, stack.url, "/verify", CLERK)
    assert CLERK_NAME in phone.inner_text("#me-name")
    assert_fits(phone, "/verify, signed in")
    _upload(phone, suspended_pdf)
    expect(phone.locator("#verdict")).to_have_attribute("data-verdict", "suspended")
    assert phone.inner_text("#verdict-text") == "已暂停"
    assert "年报核查" in phone.inner_text("#verdict-sub")
    assert_fits(phone, "/verify, a suspended licence")
    _upload(phone, genuine_pdf)
    expect(phone.locator("#verdict")).to_have_attribute("data-verdict", "valid")
    assert phone.inner_text("#verdict-text") == "有效"
    about = phone.inner_text("#about")
    assert "证照类型" in about and "机动车驾驶证" in about
    assert "证照编号" in about and "持证主体" in about and "张*" in about
    assert HOLDER_ID not in phone.inner_text("#report") and "3101**********" in about
    assert_fits(phone, "/verify, a genuine licence")

    # 2. The citizen, on /wallet: the clerk in the access log, then the 亮证 code.
    wallet = open_phone()
    signin_through_provider(wallet, stack.url, "/wallet", CITIZEN)
    row = wallet.locator("#access-log tbody tr", has_text=CLERK_NAME).first
    expect(row).to_contain_text(f"经办人：{CLERK_NAME}")
    expect(row).to_contain_text("核验证照")
    assert_fits(wallet, "/wallet with its access log")
    wallet.locator(f'article.licence[data-identifier="{driving["identifier"]}"] .present-btn').click()
    wallet.wait_for_selector("#present:not([hidden])")
    first, cti1 = shown_qr(wallet)
    assert_fits(wallet, "/wallet showing the QR code")
    report = api(stack, "POST", "/api/v1/verify", "js-relying", json={"qr": first}).json()
    assert report["indication"] == TOTAL_PASSED and report["verdict"] == "valid", report
    assert report["licence"]["id"] == driving["identifier"]
    expect(wallet.locator("#qr")).not_to_have_attribute("data-cti", cti1,
                                                        timeout=(REFRESH_SECONDS + 10) * 1000)
    second, _ = shown_qr(wallet)
    assert second != first
    again = api(stack, "POST", "/api/v1/verify", "js-relying", json={"qr": second}).json()
    assert again["indication"] == TOTAL_PASSED, again

    # 3. The officer, on /console.
    console = open_phone()
    signin_through_provider(console, stack.url, "/console", OFFICER)
    expect(console.locator("#template option")).to_have_count(2)
    console.select_option("#template", "business_licence")
    console.wait_for_selector(fld("/fields/legal_representative"))
    assert_fits(console, "/console, the issue form")
    uscc = "91320000MA0000777" + uscc_check_char("91320000MA0000777")
    console.fill(fld("/holders/0/name"), "江苏验收测试有限公司")
    console.fill(fld("/holders/0/code"), uscc)
    console.fill(fld("/fields/legal_representative"), "")
    console.click("#issue-submit")
    expect(console.locator(fld("/fields/legal_representative") + "-error")).to_have_text(
        "“法定代表人”为必填项")
    assert console.is_hidden("#issue-result")
    assert_fits(console, "/console, a missing field")
    console.fill(fld("/fields/legal_representative"), "孙七")
    console.click("#issue-submit")
    console.wait_for_selector("#issue-result:not([hidden])")
    first_id = console.inner_text("#issued-id")
    record = api(stack, "GET", f"/api/v1/licences/{first_id}", "js-issuer-amr").json()
    assert record["signed_record"]["payload"]["holders"][0]["code"] == uscc

    console.locator(f'#recent tbody tr[data-identifier="{first_id}"] button[data-action="amend"]').click()
    expect(console.locator("#editor-title")).to_contain_text("变更证照：营业执照")
    console.fill(fld("/fields/address"), "江苏省南京市玄武区北京东路41号")
    console.fill("#amend-reason", "住所变更")
    console.click("#issue-submit")
    expect(console.locator("#issue-result-text")).to_have_text("变更成功，已签发新版本。")
    second_id = console.inner_text("#issued-id")
    assert second_id != first_id

    console.locator('#detail-ops button[data-action="revoke"]').click()
    expect(console.locator("#change-dialog")).to_be_visible()
    console.fill("#change-reason", "依法吊销（验收）")
    assert_fits(console, "/console, the revoke dialog")
    console.click("#change-confirm")
    expect(console.locator("#change-dialog")).to_be_hidden()
    expect(console.locator("#detail-summary")).to_contain_text("已撤销")
    expect(console.locator("#history tbody")).to_contain_text("依法吊销（验收）")
    assert_fits(console, "/console, the revoked licence's detail")
    view = api(stack, "GET", f"/api/v1/licences/{second_id}", "js-issuer-amr").json()
    assert view["status"] == "revoked" and view["version"] == 2

    # The clerk's verification is in the holder's own record too, with the clerk as operator.
    with browser_client() as http:
        sign_in(http, stack.url, CITIZEN, "/wallet")
        log = http.get(stack.url + "/api/v1/holders/me/access-log", headers=SESSION).json()["entries"]
    verified = [e for e in log if e["action"] == "licence.verify" and e["licence_id"] == driving["identifier"]]
    assert CLERK_NAME in {e["department"]["operator"] for e in verified}

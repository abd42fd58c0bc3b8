"""The officers' console in headless Chromium (Debian's, driven by Playwright) against a real
uvicorn on 127.0.0.1 with its own SQLite database and the development PKI and clients:

- an officer signs in (the development sign-in), fills the form drawn from the business
  licence's schema, is told in Chinese, next to the input, that a required field is missing
  (the page's own check) and that a code's check character is wrong (the server's, placed by the
  problem's pointer), issues, amends with a reason, revokes with a reason, and reads the
  licence's history and audit trail;
- at 390 px wide the form (the type dropdown first) stays inside the screen.
"""

from __future__ import annotations

import httpx
import pytest

from tests.web.browser import skip_module_unless_browser

skip_module_unless_browser()

from playwright.sync_api import expect  # noqa: E402

from license_svc.identifiers import uscc_check_char  # noqa: E402
from tests.web.browser import console_field as fld, new_page, sign_in  # noqa: E402

pytestmark = pytest.mark.browser
OFFICER = "sh-issuer-amr"
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from tests.web.live_server import live_server

    with live_server(tmp_path_factory.mktemp("console")) as srv:
        yield srv


@pytest.fixture
def problems() -> list[str]:
    return []


@pytest.fixture
def page(browser, problems):
    """A fresh context; afterwards no script error and no CSP report."""
    context, pg = new_page(browser)
    pg.on("pageerror", lambda exc: problems.append(f"pageerror: {exc}"))
    pg.on("console", lambda msg: problems.append(f"console {msg.type}: {msg.text}")
          if msg.type == "error" else None)
    yield pg
    context.close()
    assert problems == []


def api(server, method: str, path: str, **kwargs) -> httpx.Response:
    return httpx.request(method, server.url + path, headers=server.auth(OFFICER), timeout=30, **kwargs)


def test_officer_issues_from_the_form_amends_and_revokes(server, page, problems):
    sign_in(page, server.url, "/console", server.key(OFFICER))
    expect(page.locator("#template option")).to_have_count(2)
    assert page.input_value("#template") == "business_licence"
    expect(page.locator(fld("/fields/legal_representative"))).to_have_value("张三")   # the example
    assert page.inner_text("label[for=fld-holders-0-name]").startswith("持证主体名称")
    assert page.inner_text("label[for=fld-fields-registered-capital-wan]").startswith("注册资本（万元）")
    assert page.get_attribute(fld("/fields/established_on"), "type") == "date"

    uscc = "91310000MA0000777" + uscc_check_char("91310000MA0000777")
    wrong = uscc[:-1] + ("0" if uscc[-1] != "0" else "1")
    page.fill(fld("/holders/0/name"), "上海表单测试有限公司")
    page.fill(fld("/holders/0/code"), wrong)
    page.fill(fld("/fields/legal_representative"), "")

    # a missing field: the page says so by the input, in Chinese, and sends nothing
    page.click("#issue-submit")
    error = page.locator(fld("/fields/legal_representative") + "-error")
    expect(error).to_have_text("“法定代表人”为必填项")
    assert page.get_attribute(fld("/fields/legal_representative"), "aria-invalid") == "true"
    expect(page.locator("#issue-error")).to_contain_text("1 处需要修正")
    assert page.is_hidden("#issue-result")

    # a wrong check character only the server knows: its message lands by the holder code
    page.fill(fld("/fields/legal_representative"), "王五")
    expect(error).to_be_hidden()
    page.click("#issue-submit")
    code_error = page.locator(fld("/holders/0/code") + "-error")
    expect(code_error).to_contain_text("“持证主体统一社会信用代码”（holders.0.code）：统一社会信用代码校验码错误")
    problems[:] = [p for p in problems if "status of 422" not in p]

    page.fill(fld("/holders/0/code"), uscc)
    page.click("#issue-submit")
    page.wait_for_selector("#issue-result:not([hidden])")
    first = page.inner_text("#issued-id")
    record = api(server, "GET", f"/api/v1/licences/{first}").json()["signed_record"]["payload"]
    assert record["holders"][0] == {"name": "上海表单测试有限公司", "code": uscc, "code_type": "001"}
    assert record["fields"]["legal_representative"] == "王五"

    # amend: the same form, filled from the licence, with a reason
    row = page.locator(f'#recent tbody tr[data-identifier="{first}"]')
    row.locator('button[data-action="amend"]').click()
    expect(page.locator("#editor-title")).to_contain_text("变更证照：营业执照")
    expect(page.locator(fld("/fields/legal_representative"))).to_have_value("王五")
    assert page.is_disabled("#template")
    page.fill(fld("/fields/address"), "上海市黄浦区中山东一路1号")
    page.click("#issue-submit")
    expect(page.locator("#amend-reason-error")).to_have_text("“变更原因”为必填项")
    page.fill("#amend-reason", "住所变更")
    page.click("#issue-submit")
    expect(page.locator("#issue-result-text")).to_have_text("变更成功，已签发新版本。")
    second = page.inner_text("#issued-id")
    assert second != first
    view = api(server, "GET", f"/api/v1/licences/{second}").json()
    assert view["version"] == 2 and view["signed_record"]["payload"]["fields"]["address"] == "上海市黄浦区中山东一路1号"
    assert api(server, "GET", f"/api/v1/licences/{first}").json()["status"] == "superseded"

    # the detail of the new version: history over both versions, the audit trail
    detail = page.locator("#detail")
    expect(detail).to_be_visible()
    expect(page.locator("#detail-summary")).to_contain_text(second)
    history = page.locator("#history tbody")
    expect(history).to_contain_text("变更签发（新版本）")
    expect(history).to_contain_text("住所变更")
    expect(history).to_contain_text("签发")
    expect(page.locator("#trail tbody")).to_contain_text("变更证照")
    expect(page.locator("#trail tbody")).to_contain_text("签发证照")
    assert uscc not in page.inner_text("#trail")

    # revoke it with a reason, from the detail
    page.locator('#detail-ops button[data-action="revoke"]').click()
    expect(page.locator("#change-dialog")).to_be_visible()
    page.click("#change-confirm")
    expect(page.locator("#change-error")).to_have_text("请填写原因。")
    page.fill("#change-reason", "依法吊销（测试）")
    page.click("#change-confirm")
    expect(page.locator("#change-dialog")).to_be_hidden()
    expect(page.locator("#detail-summary")).to_contain_text("已撤销")
    expect(history).to_contain_text("依法吊销（测试）")
    expect(page.locator(f'#recent tbody tr[data-identifier="{second}"]')).to_contain_text("已撤销")
    assert api(server, "GET", f"/api/v1/licences/{second}").json()["status"] == "revoked"


def test_phone_width_form_stays_on_screen(server, browser):
    context = browser.new_context(viewport=PHONE, locale="zh-CN", timezone_id="Asia/Shanghai")
    page = context.new_page()
    try:
        sign_in(page, server.url, "/console", server.key(OFFICER))
        expect(page.locator("#template option")).to_have_count(2)
        page.wait_for_selector(fld("/fields/business_scope"))
        for selector in ("#template", "#algorithm", fld("/fields/business_scope"),
                         fld("/fields/established_on"), "#issue-submit"):
            box = page.locator(selector).bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], (selector, box)
        width = page.evaluate("() => document.querySelector('#issue-card').scrollWidth")
        assert width <= PHONE["width"], width
    finally:
        context.close()

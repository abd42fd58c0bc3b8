"""The pages end to end in headless Chromium (Debian's /usr/bin/chromium, driven by Playwright)
against a real `license-svc serve`-style uvicorn on 127.0.0.1 with its own SQLite database,
the development PKI and the demo data seeded at start-up.

- a clerk uploads a genuine licence PDF and reads "有效", a tampered one and reads "无效"
  with the reason (the verdict; test_verdict_browser.py: suspended, who and what);
- a holder's wallet shows a 亮证 QR code which, read off the screen by zxing-cpp, is an EP1 that
  verifies; after the (shortened) refresh interval it shows a different EP1 that verifies too;
- the holder's access log lists a department's retrieval with the department and the clerk;
- on every page: no script error, no CSP violation, no request to another origin, the API key
  only in sessionStorage.

The live server uses its own SQLite file whatever database the run is pointed at, so these run
in the SQLite pass only; the HTTP tests (test_pages.py) cover the routes on PostgreSQL.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from tests.web.browser import api, skip_module_unless_browser

skip_module_unless_browser()

from playwright.sync_api import expect  # noqa: E402

from tests.web.browser import MATTER, new_page, read_qr, sign_in, tampered, write  # noqa: E402
from verification.qr import QrTrust, verify_qr_text  # noqa: E402
from verification.report import TOTAL_PASSED  # noqa: E402

pytestmark = pytest.mark.browser
REFRESH_SECONDS = 2
CITIZEN, RELYING, ISSUER = "sh-citizen", "sh-relying", "sh-issuer-traffic"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from tests.web.live_server import live_server

    with live_server(tmp_path_factory.mktemp("live"), refresh_seconds=REFRESH_SECONDS) as srv:
        yield srv


@pytest.fixture
def problems() -> list[str]:
    """Script errors and CSP reports seen by `page`; a test expecting a failed request (a wrong
    key) removes the browser's own "Failed to load resource" line for it."""
    return []


@pytest.fixture
def page(browser, server, problems):
    """A fresh browser context; afterwards: no script errors, no CSP reports, nothing fetched
    from anywhere but the server (data: and blob: URLs are local), no cookies."""
    context, pg = new_page(browser)
    requests = []
    pg.on("pageerror", lambda exc: problems.append(f"pageerror: {exc}"))
    pg.on("console", lambda msg: problems.append(f"console {msg.type}: {msg.text}")
          if msg.type == "error" else None)
    pg.on("request", lambda req: requests.append(req.url))
    yield pg
    cookies = context.cookies()
    context.close()
    assert problems == []
    assert requests and all(u.startswith(server.url + "/") or u.startswith(("data:", "blob:"))
                            for u in requests), requests
    assert not any("key" in u.lower() or "bearer" in u.lower() for u in requests)
    assert cookies == []


def active_driving_licence(server) -> dict:
    licences = api(server, "GET", "/api/v1/holders/me/licences", CITIZEN).json()["licences"]
    return next(lic for lic in licences
                if lic["type_name"] == "机动车驾驶证" and lic["status"] == "active" and lic["algorithm"] == "sm2")


def test_clerk_verifies_genuine_and_tampered_pdf(server, page, tmp_path):
    licence = active_driving_licence(server)
    pdf = api(server, "GET", f"/api/v1/licences/{licence['identifier']}/pdf", ISSUER).content
    assert pdf.startswith(b"%PDF")
    genuine = write(tmp_path / "驾驶证.pdf", pdf)
    forged = write(tmp_path / "驾驶证-篡改.pdf", tampered(pdf))

    sign_in(page, server.url, "/verify", server.key(RELYING))
    assert page.evaluate("Object.keys(sessionStorage)") == ["license-svc.api-key.verify"]
    assert page.evaluate("localStorage.length") == 0
    assert "用证部门" in page.inner_text("#identity")

    page.set_input_files("#file", str(genuine))
    page.click("#file-form button[type=submit]")
    page.wait_for_selector("#report:not([hidden])")
    assert page.inner_text("#verdict-text") == "有效"
    assert "passed" in page.get_attribute("#verdict", "class")
    assert page.inner_text("#verdict-etsi").startswith("ETSI 结论：验证通过")
    assert page.is_hidden("#reasons-box")
    checks = page.inner_text("#checks")
    assert "签名值" in checks and "✘" not in checks
    assert licence["identifier"] in page.inner_text("#sections")

    page.set_input_files("#file", str(forged))
    page.click("#file-form button[type=submit]")
    expect(page.locator("#verdict-text")).to_have_text("无效")
    assert "failed" in page.get_attribute("#verdict", "class")
    assert "未通过" in page.inner_text("#verdict-sub")
    assert page.inner_text("#verdict-etsi").startswith("ETSI 结论：验证失败，原因：")
    reasons = page.locator("#reasons li")
    assert reasons.count() >= 1 and page.is_visible("#reasons-box")
    assert all(len(t.strip()) > 4 for t in reasons.all_inner_texts())
    assert "✘ 未通过" in page.inner_text("#checks")


def test_clerk_pastes_qr_text_and_sees_not_a_licence(server, page):
    """Scanned text is the attacker's: it comes back quoted in the report and must stay text."""
    hostile = '<img src=x onerror="document.body.dataset.pwned=1">'
    sign_in(page, server.url, "/verify", server.key(RELYING))
    page.fill("#qr-text", hostile)
    page.click("#qr-form button[type=submit]")
    page.wait_for_selector("#report:not([hidden])")
    assert page.inner_text("#verdict-text") == "无法确定"
    assert page.inner_text("#report-subject") == "非电子证照二维码"
    assert "<img src=x" in page.inner_text("#checks")
    assert page.locator("#report img").count() == 0
    assert page.get_attribute("body", "data-pwned") is None


def _enlarged(png: bytes) -> bytes:
    """The screenshot at twice the size (nearest neighbour), for a symbol drawn at ~3 px/module."""
    import io

    from PIL import Image

    img = Image.open(io.BytesIO(png))
    out = io.BytesIO()
    img.resize((img.width * 2, img.height * 2), Image.NEAREST).save(out, "PNG")
    return out.getvalue()


def _shown_qr(page) -> tuple[str, str]:
    """(EP1 text read off the screen, the cti the page says it shows)."""
    # a function, not an expression: the page's CSP forbids eval, Playwright's polling included
    page.wait_for_function("() => { const i = document.getElementById('qr');"
                           " return i.complete && i.naturalWidth > 0 && !!i.dataset.cti; }")
    # On a loaded machine a screenshot can catch the image mid-swap: read it up to three times,
    # taking the cti in the same breath as the picture.
    for _ in range(8):
        cti = page.get_attribute("#qr", "data-cti")
        shot = page.locator(".qr-box").screenshot(animations="disabled")  # with its white margin
        texts = read_qr(shot) or read_qr(_enlarged(shot))
        if len(texts) == 1 and page.get_attribute("#qr", "data-cti") == cti:
            return texts[0], cti
        page.wait_for_timeout(500)
    assert len(texts) == 1, texts
    return texts[0], page.get_attribute("#qr", "data-cti")


def test_wallet_shows_a_refreshing_ep1_that_verifies(server, page):
    licence = active_driving_licence(server)
    sign_in(page, server.url, "/wallet", server.key(CITIZEN))
    card = page.locator(f'article.licence[data-identifier="{licence["identifier"]}"]')
    card.locator(".present-btn").click()
    page.wait_for_selector("#present:not([hidden])")
    assert page.inner_text("#present-type") == "机动车驾驶证"

    trust = QrTrust.from_keystore(server.ctx.keystore)
    first, cti1 = _shown_qr(page)
    assert first.startswith("EP2:")
    report = verify_qr_text(first, trust, datetime.now(timezone.utc))
    assert report.indication == TOTAL_PASSED, report.to_text()
    assert report.licence["id"] == licence["identifier"]
    assert report.licence["presentation"]["cti"] == cti1

    expect(page.locator("#qr")).not_to_have_attribute("data-cti", cti1,
                                                      timeout=(REFRESH_SECONDS + 5) * 1000)
    second, cti2 = _shown_qr(page)
    assert second != first and cti2 != cti1
    report = verify_qr_text(second, trust, datetime.now(timezone.utc))
    assert report.indication == TOTAL_PASSED, report.to_text()
    assert report.licence["presentation"]["cti"] == cti2
    # a department scans it online: accepted once
    online = api(server, "POST", "/api/v1/verify", RELYING, json={"qr": second}).json()
    assert online["indication"] == TOTAL_PASSED, online
    page.click("#present-stop")
    assert page.is_hidden("#present")


def test_access_log_lists_a_department_retrieval(server, page):
    holder = next(c for c in json.loads(
        (server.ctx.settings.keys_dir / "clients.json").read_text("utf-8")) if c["client_id"] == CITIZEN)
    resp = api(server, "POST", "/api/v1/retrievals", RELYING, json={
        "holder_code": holder["holder_code"], "holder_code_type": holder["holder_code_type"],
        "licence_type": "driving_licence", "matter_code": MATTER, "want": "data",
        "licence_id": active_driving_licence(server)["identifier"],
        "legal_basis": "《中华人民共和国行政许可法》第三十四条", "operator": "李经办"})
    assert resp.status_code == 200, resp.text

    sign_in(page, server.url, "/wallet", server.key(CITIZEN))
    row = page.locator("#access-log tbody tr", has_text="李经办")
    row.first.wait_for()
    assert row.count() == 1
    text = row.inner_text()
    assert "上海市人力资源和社会保障局" in text and "调取证照" in text
    assert "行政许可法" in text and "成功" in text
    assert holder["holder_code"] not in page.inner_text("#access-log")
    # the holder's own actions (listing, 亮证) are hidden until asked for
    own = page.locator("#access-log tbody tr.own")
    assert own.count() == 0
    page.check("#show-own")
    assert own.count() >= 1


def test_console_issues_from_a_template_and_revokes(server, page):
    sign_in(page, server.url, "/console", server.key("sh-issuer-amr"))
    expect(page.locator("#template option")).to_have_count(2)   # business and food business
    assert page.input_value("#template") == "business_licence"
    body = json.loads(page.input_value("#issue-json"))
    assert body["issuer_code"] == "11310000MB0000010A" and body["type"] == "business_licence"
    page.select_option("#algorithm", "rsa")
    page.click("#issue-submit")
    page.wait_for_selector("#issue-result:not([hidden])")
    identifier = page.inner_text("#issued-id")
    issued = api(server, "GET", f"/api/v1/licences/{identifier}", "sh-issuer-amr").json()
    assert issued["algorithm"] == "rsa" and issued["status"] == "active"

    row = page.locator(f'#recent tbody tr[data-identifier="{identifier}"]')
    expect(row).to_contain_text("有效")
    row.locator('button[data-action="revoke"]').click()
    expect(page.locator("#change-dialog")).to_be_visible()
    page.click("#change-confirm")                                 # no reason: refused here
    expect(page.locator("#change-error")).to_have_text("请填写原因。")
    page.fill("#change-reason", "依法吊销（测试）")
    page.click("#change-confirm")
    expect(page.locator("#change-dialog")).to_be_hidden()
    expect(page.locator(f'#recent tbody tr[data-identifier="{identifier}"]')).to_contain_text("已撤销")
    assert api(server, "GET", f"/api/v1/licences/{identifier}", "sh-issuer-amr").json()["status"] == "revoked"


def test_wrong_key_or_role_is_refused_in_chinese(server, page, problems):
    page.goto(server.url + "/console")
    page.fill("#api-key", "lsk_not-a-key")
    page.click("#login-form button[type=submit]")
    expect(page.locator("#login-error")).to_have_text("API 密钥无效或已停用，请重新输入。")
    assert page.is_hidden("#app")
    page.fill("#api-key", server.key(CITIZEN))                   # a holder is not an issuer
    page.click("#login-form button[type=submit]")
    expect(page.locator("#login-error")).to_contain_text("不能使用本页面")
    assert page.evaluate("sessionStorage.length") == 0
    problems[:] = [p for p in problems if "status of 401" not in p]


def test_wallet_grants_a_department_of_another_region(server, page):
    """跨省通办 from the holder's side: the wallet grants a zj department a Delta-wide matter
    (from the scenario list) for the holder's driving licence, shows it, and revokes it."""
    licence = active_driving_licence(server)
    sign_in(page, server.url, "/wallet", server.key(CITIZEN))
    page.wait_for_selector(f'#grant-licence option[value="{licence["identifier"]}"]',
                           state="attached")
    page.select_option("#grant-licence", licence["identifier"])
    page.select_option("#grant-region", "zj")
    page.wait_for_selector('#grant-matter option[value="YRD000-003-0001"]', state="attached")
    page.select_option("#grant-matter", "YRD000-003-0001")
    page.fill("#grant-org", "11330000MB0000300J")
    page.click("#grant-submit")
    row = page.locator("#grants tbody tr", has_text="11330000MB0000300J").first
    expect(row).to_be_visible()
    expect(row).to_contain_text("浙江")
    grants = api(server, "GET", "/api/v1/grants", CITIZEN).json()["grants"]
    made = next(g for g in grants if g["grantee_org"] == "11330000MB0000300J")
    assert (made["grantee_region"], made["matter_code"], made["licence_id"]) == \
        ("zj", "YRD000-003-0001", licence["identifier"])
    row.locator("button").click()
    expect(row).to_contain_text("已撤回")
    # a matter zj does not offer is never offered in the form
    page.select_option("#grant-region", "zj")
    assert page.locator('#grant-matter option[value="310000-000-0001"]').count() == 0


def test_wallet_downloads_the_licence_as_pdf_and_as_ofd(server, page, tmp_path):
    """The wallet offers both files of a licence; each download is the sealed licence."""
    licence = active_driving_licence(server)
    sign_in(page, server.url, "/wallet", server.key(CITIZEN))
    card = page.locator(f'article.licence[data-identifier="{licence["identifier"]}"]')
    for label, suffix in (("下载 PDF", ".pdf"), ("下载 OFD", ".ofd")):
        with page.expect_download() as info:
            card.get_by_role("button", name=label).click()
        download = info.value
        assert download.suggested_filename.endswith(suffix)
        path = tmp_path / f"licence{suffix}"
        download.save_as(path)
        files = {"file": (path.name, path.read_bytes(), "application/octet-stream")}
        report = api(server, "POST", "/api/v1/verify", RELYING, files=files).json()
        assert report["indication"] == TOTAL_PASSED, report
        assert report["licence"]["identifier"] == licence["identifier"]

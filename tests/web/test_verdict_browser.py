"""The verdict on the /verify page, in headless Chromium against a live server (tests/web/
live_server.py): a clerk uploads a genuine driving licence PDF and reads 有效 with the holder
(masked), type and number; the issuer suspends it for 年报核查 and the same upload reads 已暂停
with that reason — no raw enumeration values or booleans on the page."""

from __future__ import annotations

import pytest

from tests.web.browser import api, skip_module_unless_browser

skip_module_unless_browser()

from tests.web.browser import new_page, sign_in, write  # noqa: E402

pytestmark = pytest.mark.browser
CITIZEN, RELYING, ISSUER = "sh-citizen", "sh-relying", "sh-issuer-traffic"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from tests.web.live_server import live_server

    with live_server(tmp_path_factory.mktemp("live-verdict")) as srv:
        yield srv


def _upload(page, path) -> None:
    page.set_input_files("#file", str(path))
    page.click("#file-form button[type=submit]")


def test_clerk_sees_who_and_what_then_the_suspension_with_its_reason(server, browser, tmp_path):
    licences = api(server, "GET", "/api/v1/holders/me/licences", CITIZEN).json()["licences"]
    licence = next(lic for lic in licences
                   if lic["type_name"] == "机动车驾驶证" and lic["status"] == "active")
    ident = licence["identifier"]
    pdf = write(tmp_path / "驾驶证.pdf",
                api(server, "GET", f"/api/v1/licences/{ident}/pdf", ISSUER).content)
    context, page = new_page(browser)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        sign_in(page, server.url, "/verify", server.key(RELYING))
        _upload(page, pdf)
        page.wait_for_selector("#report:not([hidden])")
        assert page.inner_text("#verdict-text") == "有效"
        assert page.get_attribute("#verdict", "data-verdict") == "valid"
        about = page.inner_text("#about")
        assert "机动车驾驶证" in about and "张*" in about and "3101**********" in about
        assert "上海市公安局交通警察总队" in about and "上海" in about
        assert page.inner_text("#verdict-etsi").startswith("ETSI 结论：验证通过")
        report = page.inner_text("#report")
        for raw in ("NO_CHANGES", "ETSI.CAdES.detached", "true", "false", "42, 42", "{"):
            assert raw not in report, raw
        # Certificate names in the signer and seal tables (check details quote them bilingually).
        assert "Common Name" not in page.inner_text("#sections")
        assert "名称：上海市公安局交通警察总队" in page.inner_text("#sections")

        r = api(server, "POST", f"/api/v1/licences/{ident}/suspend", ISSUER,
                json={"reason": "年报核查"})
        assert r.status_code == 200, r.text
        _upload(page, write(tmp_path / "驾驶证-暂停后.pdf", pdf.read_bytes()))
        page.wait_for_selector("#verdict[data-verdict=suspended]")
        assert page.inner_text("#verdict-text") == "已暂停"
        assert "年报核查" in page.inner_text("#verdict-sub")
        assert "年报核查" in page.inner_text("#about") and "已暂停" in page.inner_text("#about")
        assert "请稍后重试" not in page.inner_text("#verdict")
    finally:
        context.close()
    assert errors == []

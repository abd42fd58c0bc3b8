"""Phone-first pages: at 390×844 (a common phone, device scale 1) no page scrolls sideways and
no element reaches past the right edge — not the document, and not a table hidden in a
sideways-scrolling box either (the wallet's access log used to show 2 of its 8 columns that
way).  Every page is measured in the state a person sees it: the home page, /verify with a
rendered report (genuine, tampered, and hostile QR text with a 600-character unbroken word),
/wallet signed in with the 亮证 QR shown and an access log with rows, /console signed in with
its change dialog open.  Tables become stacked cards there, each cell labelled with its
column's header; at 1280 px they are still tables.

Headless Chromium (Debian's) driven by Playwright against a live server, as in
test_pages_browser.py.
"""

from __future__ import annotations

import json

import pytest

from tests.web.browser import api, skip_module_unless_browser

skip_module_unless_browser()

from tests.web.browser import MATTER, PHONE, assert_fits, new_page, sign_in, tampered, write  # noqa: E402

pytestmark = pytest.mark.browser
CITIZEN, RELYING, ISSUER = "sh-citizen", "sh-relying", "sh-issuer-amr"

@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from tests.web.live_server import live_server

    with live_server(tmp_path_factory.mktemp("live")) as srv:
        yield srv


@pytest.fixture
def phone(browser):
    context, page = new_page(browser, PHONE)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert errors == []


def driving_licence(server) -> dict:
    licences = api(server, "GET", "/api/v1/holders/me/licences", CITIZEN).json()["licences"]
    return next(lic for lic in licences
                if lic["type_name"] == "机动车驾驶证" and lic["status"] == "active" and lic["algorithm"] == "sm2")


def assert_stacked(page, table: str) -> None:
    """Rows of `table` are cards: cells one under another, each labelled with its header."""
    cells = page.evaluate("""(sel) => {
      const t = document.querySelector(sel);
      const heads = [...t.tHead.rows[0].cells].map((c) => c.textContent.trim());
      return {heads, display: getComputedStyle(t).display,
              cells: [...t.tBodies[0].rows[0].cells].map((c) => [c.dataset.label || "",
                        getComputedStyle(c, "::before").content, c.getBoundingClientRect().left])};
    }""", table)
    assert cells["display"] == "block", table
    assert [label for label, _, _ in cells["cells"]] == cells["heads"], table
    for label, before, _ in cells["cells"]:
        if label:
            assert before == json.dumps(label, ensure_ascii=False), (table, label, before)
    assert len({round(left) for _, _, left in cells["cells"]}) == 1, f"{table}: cells side by side"


def test_home_page_fits_a_phone(server, phone):
    phone.goto(server.url + "/")
    assert_fits(phone, "/")
    phone.goto(server.url + "/wallet")
    assert_fits(phone, "/wallet before signing in")


def test_verify_report_fits_a_phone(server, phone, tmp_path):
    licence = driving_licence(server)
    pdf = api(server, "GET", f"/api/v1/licences/{licence['identifier']}/pdf", "sh-issuer-traffic").content
    sign_in(phone, server.url, "/verify", server.key(RELYING))
    assert_fits(phone, "/verify signed in")
    for name, data in (("genuine", pdf), ("tampered", tampered(pdf))):
        phone.set_input_files("#file", str(write(tmp_path / f"驾驶证-{name}.pdf", data)))
        phone.click("#file-form button[type=submit]")
        phone.wait_for_selector("#report:not([hidden])")
        phone.wait_for_function("() => document.getElementById('busy').hidden")
        assert licence["identifier"] in phone.inner_text("#report")
        assert_fits(phone, f"/verify, report on a {name} licence")
        assert_stacked(phone, "#checks")
    phone.fill("#qr-text", "EL1:" + "X" * 600)
    phone.click("#qr-form button[type=submit]")
    phone.wait_for_selector("#report:not([hidden])")
    phone.wait_for_function("() => document.getElementById('busy').hidden")
    assert_fits(phone, "/verify, report on 600 unbroken characters")


def test_wallet_with_qr_and_access_log_fits_a_phone(server, phone):
    licence = driving_licence(server)
    holder = next(c for c in json.loads((server.ctx.settings.keys_dir / "clients.json")
                                        .read_text("utf-8")) if c["client_id"] == CITIZEN)
    resp = api(server, "POST", "/api/v1/retrievals", RELYING, json={
        "holder_code": holder["holder_code"], "holder_code_type": holder["holder_code_type"],
        "licence_type": "driving_licence", "matter_code": MATTER, "want": "data",
        "licence_id": licence["identifier"], "operator": "李经办",
        "legal_basis": "《中华人民共和国行政许可法》第三十四条"})
    assert resp.status_code == 200, resp.text

    sign_in(phone, server.url, "/wallet", server.key(CITIZEN))
    phone.wait_for_selector("#access-log tbody tr")
    phone.check("#show-own")                      # every row, the holder's own included
    assert_fits(phone, "/wallet with its access log")
    assert_stacked(phone, "#access-log")
    row = phone.locator("#access-log tbody tr", has_text="李经办").first
    for header in ("时间", "用证部门 / 经办人", "行为", "证照", "事项编码", "依据", "结果", "存证"):
        assert row.locator(f'td[data-label="{header}"]').is_visible(), header

    phone.locator(f'article.licence[data-identifier="{licence["identifier"]}"] .present-btn').click()
    phone.wait_for_function("() => { const i = document.getElementById('qr');"
                            " return i.complete && i.naturalWidth > 0; }")
    assert_fits(phone, "/wallet showing the QR code")
    box = phone.locator("#qr").bounding_box()
    assert box["width"] >= 240, "the QR code must stay big enough to scan"


def test_console_fits_a_phone(server, phone):
    sign_in(phone, server.url, "/console", server.key(ISSUER))
    phone.wait_for_selector("#recent tbody tr")
    assert_fits(phone, "/console")
    assert_stacked(phone, "#recent")
    select = phone.locator("#template").bounding_box()
    assert select["x"] + select["width"] <= PHONE["width"]
    phone.locator('#recent tbody tr button[data-action="suspend"]').first.click()
    phone.wait_for_selector("#change-dialog[open]")
    assert_fits(phone, "/console with the change dialog open")


def test_tables_stay_tables_on_a_desktop(server, browser):
    context, page = new_page(browser)     # 1280 × 900
    try:
        sign_in(page, server.url, "/console", server.key(ISSUER))
        page.wait_for_selector("#recent tbody tr")
        shown = page.evaluate("""() => {
          const t = document.getElementById("recent");
          const row = t.tBodies[0].rows[0];
          return [getComputedStyle(t).display, getComputedStyle(t.tHead).display,
                  getComputedStyle(row.cells[0]).display, getComputedStyle(row.cells[0], "::before").content,
                  row.cells[0].getBoundingClientRect().top === row.cells[1].getBoundingClientRect().top];
        }""")
        assert shown == ["table", "table-header-group", "table-cell", "none", True]
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 1280
    finally:
        context.close()

"""The pages over plain HTTP (no browser): each renders in Chinese with a strict CSP, loads
nothing from elsewhere and carries no secret; and the JSON routes behind them (who am I, my
licences, 亮证 presentations, an issuer's recent licences and templates) with their access
rules and audit entries."""

from __future__ import annotations

import base64
import io
import json
import re

import pytest
from sqlalchemy import select

from license_svc import audit
from license_svc.audit.models import AuditEntryRow
from license_svc.config import DEV_KEYS_DIR
from license_svc.licences import lifecycle
from license_svc.web.pages import labels
from license_svc.web.pages.views import PAGES, STATIC_DIR
from tests.support.grants import PERSON
from tests.support.issuing import AMR_SH, TRAFFIC_SH
from verification.qr import QrTrust, verify_qr_text
from verification.report import TOTAL_PASSED

PAGE_PATHS = ["/"] + [f"/{name}" for name in PAGES]
STATIC_FILES = sorted(p.name for p in STATIC_DIR.iterdir() if p.suffix in (".js", ".css"))
HAN = re.compile(r"[\u4e00-\u9fff]")
# Anything that would make the browser fetch from another origin: absolute or protocol-relative
# URLs in attributes, CSS url()/@import, JS fetch/import of a full URL.
EXTERNAL = re.compile(r"""(?:src|href|action)\s*=\s*["']?\s*(?:[a-z][a-z0-9+.-]*:)?//|url\(\s*["']?\s*(?:[a-z]+:)?//|@import|\bimport\s*\(|https?://""", re.I)


def dev_api_keys() -> list[str]:
    return [c["api_key"] for c in json.loads((DEV_KEYS_DIR / "clients.json").read_text("utf-8"))]


def audit_entries(ctx, action: str) -> list[dict]:
    with ctx.unit_of_work() as session:
        audit.sequence_pending(session)
    with ctx.unit_of_work() as session:
        leaves = session.scalars(select(AuditEntryRow.leaf).where(AuditEntryRow.action == action)
                                 .order_by(AuditEntryRow.idx)).all()
    return [json.loads(leaf) for leaf in leaves]


# -- the pages ---------------------------------------------------------------------------------

@pytest.mark.parametrize("path", PAGE_PATHS)
def test_page_renders_in_chinese_with_strict_csp(client, path):
    resp = client.get(path)
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/html")
    csp = resp.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert resp.headers["x-content-type-options"] == "nosniff"
    html = resp.text
    assert '<html lang="zh-CN">' in html and "长三角电子证照服务平台" in html
    assert len(HAN.findall(html)) > 100
    assert not EXTERNAL.search(html), EXTERNAL.search(html)
    # no inline script that runs, no inline style, no event-handler attributes (the CSP would
    # block them anyway; this keeps the pages honest under it)
    for script in re.findall(r"<script\b([^>]*)>(.*?)</script>", html, re.S):
        attrs, body = script
        assert 'src="/pages/static/' in attrs or ('type="application/json"' in attrs and body.strip())
    assert "<style" not in html and " style=" not in html
    assert not re.search(r"\son[a-z]+\s*=", html)


@pytest.mark.parametrize("path", PAGE_PATHS)
def test_page_holds_no_secret(client, path):
    html = client.get(path).text
    for key in dev_api_keys():
        assert key not in html
    assert "Bearer " not in html and "api_key" not in html
    assert not re.search(r"\b\d{17}[\dXx]\b", html)  # no ID number


def test_static_files_are_local_and_typed(client):
    assert {"common.js", "pages.css", "wallet.js", "verify.js", "console.js"} <= set(STATIC_FILES)
    for name in STATIC_FILES:
        resp = client.get(f"/pages/static/{name}")
        assert resp.status_code == 200, name
        assert resp.headers["x-content-type-options"] == "nosniff"
        kind = "text/css" if name.endswith(".css") else "javascript"
        assert kind in resp.headers["content-type"]
        assert not EXTERNAL.search(resp.text), (name, EXTERNAL.search(resp.text))
        # text only ever goes in as text: no HTML parsing of API values, no eval
        assert not re.search(r"\.(inner|outer)HTML\b|insertAdjacentHTML|document\.write|\beval\(|new Function",
                             resp.text), name
        assert "localStorage" not in resp.text and "document.cookie" not in resp.text, name


def test_pages_link_their_assets_with_content_hashes(client):
    html = client.get("/wallet").text
    for name in ("common.js", "wallet.js", "pages.css"):
        url = re.search(rf'"(/pages/static/{re.escape(name)}\?v=[0-9a-f]{{12}})"', html).group(1)
        assert client.get(url).status_code == 200


def test_api_key_is_kept_in_session_storage_only(client):
    js = client.get("/pages/static/common.js").text
    assert "sessionStorage.setItem" in js and "Authorization" in js
    for name in STATIC_FILES:
        text = client.get(f"/pages/static/{name}").text
        assert not re.search(r"[?&](api_?key|key|token)=", text), name


def test_wallet_page_carries_the_refresh_interval(app, client):
    assert 'data-refresh-seconds="30"' in client.get("/wallet").text
    app.state.wallet_refresh_seconds = 5
    assert 'data-refresh-seconds="5"' in client.get("/wallet").text


def test_labels_embed_safely_and_match_the_html_report():
    from verification.html import FIELD_ZH
    from verification.report import INDICATION_ZH

    text = labels.as_json()
    assert "<" not in text
    data = json.loads(text)
    assert data["indication"] == INDICATION_ZH
    assert {k: data["field"][k] for k in FIELD_ZH} == FIELD_ZH  # the report's words win
    assert data["indication"]["TOTAL_PASSED"] == "验证通过"


def test_unknown_page_is_a_problem_not_a_crash(client):
    resp = client.get("/wallet/nothing-here")
    assert resp.status_code == 404
    assert resp.headers["content-type"].startswith("application/problem+json")


# -- who am I ----------------------------------------------------------------------------------

def test_me_needs_a_key_and_masks_the_holder_code(client, make_api_client):
    assert client.get("/api/v1/me").status_code == 401
    _, headers = make_api_client(["citizen"], org_code="", holder_code=PERSON, name="张三")
    body = client.get("/api/v1/me", headers=headers).json()
    assert body["roles"] == ["citizen"] and body["name"] == "张三"
    assert body["holder_code_masked"] == PERSON[:4] + "*" * 10 + PERSON[-4:]
    assert PERSON not in json.dumps(body)


# -- my licences -------------------------------------------------------------------------------

def test_holder_lists_own_licences_only(ctx, client, world):
    body = client.get("/api/v1/holders/me/licences", headers=world.person_h).json()
    assert [lic["identifier"] for lic in body["licences"]] == [world.driving]
    item = body["licences"][0]
    assert item["type_name"] == "机动车驾驶证" and item["status"] == "active" and item["status_zh"] == "有效"
    assert item["holder_name"] == "张三" and item["issuer"]["code"] == TRAFFIC_SH
    assert "holders" not in item and set(item["issuer"]) == {"code", "name"}
    company = client.get("/api/v1/holders/me/licences", headers=world.company_h).json()
    assert [lic["identifier"] for lic in company["licences"]] == [world.business]
    # audited under the holder's reference, without the ID number
    entries = audit_entries(ctx, "licence.read.list")
    assert len(entries) == 2
    assert entries[0]["holder_ref"] == audit.holder_reference(ctx, PERSON)
    assert PERSON not in json.dumps(entries)


def test_my_licences_is_for_holders(client, parties):
    assert client.get("/api/v1/holders/me/licences", headers=parties.dept_h).status_code == 403
    assert client.get("/api/v1/holders/me/licences").status_code == 401


def test_my_licences_show_lifecycle_status(ctx, client, world, make_api_client):
    traffic, _ = make_api_client(["issuer"], org_code=TRAFFIC_SH, licence_types=["driving_licence"])
    with ctx.unit_of_work() as session:
        lifecycle.suspend(ctx, session, world.driving, traffic, "核查")
    item = client.get("/api/v1/holders/me/licences", headers=world.person_h).json()["licences"][0]
    assert (item["status"], item["status_zh"]) == ("suspended", "已暂停")


# -- 亮证 presentations ------------------------------------------------------------------------

def test_holder_gets_fresh_verifiable_presentations(ctx, app, client, world):
    import zxingcpp
    from PIL import Image

    url = f"/api/v1/licences/{world.driving}/presentations"
    first = client.post(url, headers=world.person_h)
    assert first.status_code == 201, first.text
    assert first.headers["cache-control"] == "no-store"
    p1 = first.json()
    assert p1["text"].startswith("EP2:") and p1["refresh_after"] == 30
    # the PNG holds exactly the text (read by an independent decoder)
    decoded = zxingcpp.read_barcodes(Image.open(io.BytesIO(base64.b64decode(p1["png"]))),
                                     formats=zxingcpp.BarcodeFormat.QRCode)
    assert [d.text for d in decoded] == [p1["text"]]
    trust = QrTrust.from_keystore(ctx.keystore)
    report = verify_qr_text(p1["text"], trust, ctx.now())
    assert report.indication == TOTAL_PASSED, report.to_text()
    assert report.licence["id"] == world.driving
    assert report.licence["presentation"]["cti"] == p1["cti"]
    app.state.wallet_refresh_seconds = 3  # what the wallet is told comes from the app's state
    p2 = client.post(url, headers=world.person_h).json()
    assert p2["text"] != p1["text"] and p2["cti"] != p1["cti"] and p2["refresh_after"] == 3
    entries = audit_entries(ctx, "qr.presentation.create")
    assert [e["detail"]["cti"] for e in entries] == [p1["cti"], p2["cti"]]
    assert all(e["outcome"] == "success" and e["licence_id"] == world.driving for e in entries)
    assert entries[0]["holder_ref"] == audit.holder_reference(ctx, PERSON)


def test_presentation_is_verified_online_once(ctx, client, world):
    text = client.post(f"/api/v1/licences/{world.driving}/presentations", headers=world.person_h).json()["text"]
    first = client.post("/api/v1/verify", json={"qr": text}, headers=world.dept_h).json()
    assert first["indication"] == TOTAL_PASSED, first
    again = client.post("/api/v1/verify", json={"qr": text}, headers=world.dept_h).json()
    assert again["indication"] == "TOTAL_FAILED"


def test_only_the_holder_may_present_and_refusals_are_audited(ctx, client, world, make_api_client):
    url = f"/api/v1/licences/{world.driving}/presentations"
    resp = client.post(url, headers=world.company_h)  # another holder
    assert resp.status_code == 403
    assert resp.json()["type"] == "urn:license-svc:problem:issuer-authority"
    assert client.post(url, headers=world.dept_h).status_code == 403    # a department
    _, issuer_h = make_api_client(["issuer"], org_code=TRAFFIC_SH, licence_types=["driving_licence"])
    assert client.post(url, headers=issuer_h).status_code == 403        # even its issuer
    assert client.post(url).status_code == 401
    denied = audit_entries(ctx, "qr.presentation.create")
    assert [e["outcome"] for e in denied] == ["denied"]
    assert denied[0]["holder_ref"] == audit.holder_reference(ctx, PERSON)


def test_inactive_licence_cannot_be_presented(ctx, client, world, make_api_client):
    traffic, _ = make_api_client(["issuer"], org_code=TRAFFIC_SH, licence_types=["driving_licence"])
    for action, status_zh in (("suspend", "已暂停"), ("revoke", "已撤销")):
        with ctx.unit_of_work() as session:
            getattr(lifecycle, action)(ctx, session, world.driving, traffic, "测试")
        resp = client.post(f"/api/v1/licences/{world.driving}/presentations", headers=world.person_h)
        assert resp.status_code == 409
        body = resp.json()
        assert body["type"] == "urn:license-svc:problem:licence-state"
        assert status_zh in body["title_zh"] and "不能亮证" in body["title_zh"]
    assert audit_entries(ctx, "qr.presentation.create") == []


def test_presentation_of_unknown_or_malformed_licence(client, parties):
    unknown = "1.2.156.3005.2.11100000MB0000002X001.11310000MB0000020B.X2H891BY0Y4AWQR7V3SP.001.Y"
    resp = client.post(f"/api/v1/licences/{unknown}/presentations", headers=parties.person_h)
    assert resp.status_code in (404, 422) and resp.json()["type"].startswith("urn:license-svc:problem:")
    resp = client.post("/api/v1/licences/not-an-identifier/presentations", headers=parties.person_h)
    assert resp.status_code == 422
    assert resp.headers["content-type"].startswith("application/problem+json")


# -- console -----------------------------------------------------------------------------------

def test_issuer_lists_its_organisation_recent_licences(ctx, client, world, make_api_client):
    _, amr_h = make_api_client(["issuer"], org_code=AMR_SH, licence_types=["business_licence"])
    _, traffic_h = make_api_client(["issuer"], org_code=TRAFFIC_SH, licence_types=["driving_licence"])
    _, admin_h = make_api_client(["admin"], org_code="12310000MB0000100U")
    amr = client.get("/api/v1/issuers/me/licences", headers=amr_h).json()["licences"]
    assert [lic["identifier"] for lic in amr] == [world.business]
    traffic = client.get("/api/v1/issuers/me/licences", headers=traffic_h).json()["licences"]
    assert [lic["identifier"] for lic in traffic] == [world.driving]
    everything = client.get("/api/v1/issuers/me/licences", headers=admin_h).json()["licences"]
    assert [lic["identifier"] for lic in everything] == [world.business, world.driving]  # newest first
    assert client.get("/api/v1/issuers/me/licences", headers=world.person_h).status_code == 403
    entries = audit_entries(ctx, "licence.read.list")
    assert [e["detail"]["count"] for e in entries] == [1, 1, 2]
    assert all(e["holder_ref"] is None for e in entries)
    assert len(client.get("/api/v1/issuers/me/licences?limit=1", headers=admin_h).json()["licences"]) == 1
    assert client.get("/api/v1/issuers/me/licences?limit=0", headers=admin_h).status_code == 422


def test_templates_are_those_the_issuer_may_issue(client, make_api_client):
    _, amr_h = make_api_client(["issuer"], org_code=AMR_SH,
                               licence_types=["business_licence", "food_business_licence"])
    body = client.get("/api/v1/issuers/me/templates", headers=amr_h).json()
    assert [t["type"] for t in body["templates"]] == ["business_licence", "food_business_licence"]
    assert all(t["example"]["issuer_code"] == AMR_SH for t in body["templates"])
    assert body["templates"][0]["name"] == "营业执照"
    _, narrow_h = make_api_client(["issuer"], org_code=AMR_SH, licence_types=["business_licence"])
    assert [t["type"] for t in client.get("/api/v1/issuers/me/templates", headers=narrow_h)
            .json()["templates"]] == ["business_licence"]
    _, stranger_h = make_api_client(["issuer"], org_code="91310000MA00000012")  # not an issuing body
    assert client.get("/api/v1/issuers/me/templates", headers=stranger_h).json() == {"templates": []}


def test_template_example_issues_as_is(client, make_api_client):
    """What the console pre-fills is a request the issuance route accepts unchanged."""
    _, amr_h = make_api_client(["issuer"], org_code=AMR_SH, licence_types=["business_licence"])
    example = client.get("/api/v1/issuers/me/templates", headers=amr_h).json()["templates"][0]["example"]
    resp = client.post("/api/v1/licences", json=example, headers=amr_h)
    assert resp.status_code == 201, resp.text
    listed = client.get("/api/v1/issuers/me/licences", headers=amr_h).json()["licences"]
    assert listed[0]["identifier"] == resp.json()["identifier"]

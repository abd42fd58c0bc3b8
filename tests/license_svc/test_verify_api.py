"""POST /api/v1/verify end to end: licences issued by the real issuance functions into the test
database, verified online — PDFs and QR codes of every template and both algorithms, lifecycle
status, forged and replayed codes, hostile input, HTML, the audit trail, and a second region
reading the issuer's signed status over HTTP."""

import base64
import json
import zlib
from datetime import timedelta

import base45
import cbor2
import httpx
import pytest
from sqlalchemy import func, select

from license_svc import audit
from license_svc.audit.models import AuditEntryRow
from license_svc.licences import issue as issuing
from license_svc.licences import lifecycle
from license_svc.licences.models import LicenceVersion
from signing.qr.credentials import make_ep1
from tests.support.issuing import AMR_SH, ORG_TYPES, example

URL = "/api/v1/verify"
TEMPLATES = [t for types in ORG_TYPES.values() for t in types]


def _issue(ctx, issuers, folder, algorithm="sm2"):
    org = next(o for o, types in ORG_TYPES.items() if folder in types)
    ident = issuing.issue(ctx, issuers[org][0], example(folder, algorithm=algorithm)).identifiers[0]
    with ctx.unit_of_work() as s:
        v = lifecycle.load_version(s, ident)
        return ident, v.pdf, v.el1


def _pdf(client, headers, pdf, **params):
    return client.post(URL, files={"file": ("licence.pdf", pdf, "application/pdf")},
                       headers=headers, params=params)


def _qr(client, headers, text):
    return client.post(URL, json={"qr": text}, headers=headers)


def _failed(body):
    return [c["name"] for c in body["checks"] if not c["passed"]]


def _audit(ctx, action=None):
    with ctx.unit_of_work() as s:
        audit.sequence_pending(s)  # entries are queued until sequenced
        q = select(func.count()).select_from(AuditEntryRow)
        if action:
            q = q.where(AuditEntryRow.action == action)
        return s.scalar(q)


def _ep1(ctx, el1, at, region="sh"):
    node = ctx.keystore.credential(region, "node", "sm2")
    return make_ep1(node.key, node.cert.dump(), region=region, el1=el1, now=at)[0]


def _tamper_claim(el1: str, claim: str, value) -> str:
    cose = zlib.decompress(base45.b45decode(el1[4:]))
    tag = cbor2.loads(cose)
    protected, unprotected, payload, sig = tag.value
    claims = cbor2.loads(payload)
    claims = {k: (dict(v) if isinstance(v, dict) else v) for k, v in claims.items()}
    claims[-70000][claim] = value
    forged = cbor2.dumps(cbor2.CBORTag(18, [protected, dict(unprotected), cbor2.dumps(claims), sig]))
    return "EL1:" + base45.b45encode(zlib.compress(forged, 9)).decode()


# -- genuine licences ---------------------------------------------------------------------------

@pytest.mark.parametrize("algorithm", ["sm2", "rsa"])
def test_every_template_passes_online_pdf_and_qr(ctx, client, issuers, auth_headers, algorithm):
    for folder in TEMPLATES:
        ident, pdf, el1 = _issue(ctx, issuers, folder, algorithm)
        r = _pdf(client, auth_headers["relying"], pdf)
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["indication"] == "TOTAL_PASSED", (folder, algorithm, _failed(body), body["checks"])
        assert body["licence"]["identifier"] == ident and body["licence"]["status"] == "active"
        assert body["subject"] == "pdf" and body["signer"]
        body = _qr(client, auth_headers["relying"], el1).json()
        assert body["indication"] == "TOTAL_PASSED", (folder, algorithm, body["checks"])
        assert body["licence"]["id"] == ident
        assert {c["name"]: c["passed"] for c in body["checks"]}["status.licence"] is True


def test_qr_image_upload_and_seal_json(ctx, client, issuers, auth_headers):
    from signing.qr import image

    ident, _pdf_bytes, el1 = _issue(ctx, issuers, "business_licence")
    r = client.post(URL, files={"file": ("qr.png", image.png(el1), "image/png")},
                    headers=auth_headers["citizen"])
    assert r.json()["indication"] == "TOTAL_PASSED" and r.json()["licence"]["id"] == ident
    from license_svc.seals.models import SealRow

    with ctx.unit_of_work() as s:
        der = s.scalars(select(SealRow)).first().der
    r = client.post(URL, json={"ses": base64.b64encode(der).decode()}, headers=auth_headers["auditor"])
    assert r.status_code == 200 and r.json()["subject"] == "seal"
    assert r.json()["indication"] == "TOTAL_PASSED", r.json()["checks"]
    assert {c["name"]: c["passed"] for c in r.json()["checks"]}["seal.status"] is True


# -- lifecycle ------------------------------------------------------------------------------------

def test_revoked_and_suspended_licences(ctx, client, issuers, auth_headers, amr):
    ident, pdf, el1 = _issue(ctx, issuers, "business_licence")
    with ctx.unit_of_work() as s:
        lifecycle.suspend(ctx, s, ident, amr, "核查中")
    for body in (_pdf(client, auth_headers["relying"], pdf).json(),
                 _qr(client, auth_headers["relying"], el1).json()):
        assert (body["indication"], body["sub_indication"]) == ("INDETERMINATE", "TRY_LATER")
        assert body["licence"]["status"] == "suspended"
    with ctx.unit_of_work() as s:
        lifecycle.revoke(ctx, s, ident, amr, "依法吊销")
    for body in (_pdf(client, auth_headers["relying"], pdf).json(),
                 _qr(client, auth_headers["relying"], el1).json()):
        assert (body["indication"], body["sub_indication"]) == ("TOTAL_FAILED", "REVOKED")


# -- forged, foreign, stale and replayed codes --------------------------------------------------

def test_a_qr_with_one_claim_changed_fails(ctx, client, issuers, auth_headers):
    _ident, _pdf_bytes, el1 = _issue(ctx, issuers, "business_licence")
    body = _qr(client, auth_headers["relying"], _tamper_claim(el1, "n", "SH2026999999999999")).json()
    assert (body["indication"], body["sub_indication"]) == ("TOTAL_FAILED", "SIG_CRYPTO_FAILURE")
    assert "el1.signature" in _failed(body)


def test_a_qr_signed_by_the_wrong_region_fails(ctx, client, auth_headers):
    from signing.qr.credentials import make_el1

    js = ctx.keystore.credential("js", "licence_signer", "sm2")
    now = ctx.now()
    claims = {"id": "1.2.156.3005.2.11100000MB0000001T001.11310000MB0000010A.ABCDEFGHJK0123456789.001.X",
              "t": "11100000MB0000001T001", "n": "SH2026000000000001", "h": "上海示例科技有限公司",
              "vf": "2026-01-15", "vu": "2030-01-14", "r": "sh", "v": 1}
    forged = make_el1(js.key, js.cert.dump(), issuer_code=AMR_SH, claims=claims,
                      iat=now - timedelta(days=1), exp=now + timedelta(days=30))
    body = _qr(client, auth_headers["relying"], forged).json()
    assert body["indication"] == "TOTAL_FAILED" and "el1.issuer_binding" in _failed(body)


def test_an_ep1_older_than_60_seconds_fails(ctx, client, issuers, auth_headers):
    _ident, _p, el1 = _issue(ctx, issuers, "business_licence")
    old = _ep1(ctx, el1, ctx.now() - timedelta(seconds=61))
    body = _qr(client, auth_headers["relying"], old).json()
    assert (body["indication"], body["sub_indication"]) == ("TOTAL_FAILED", "EXPIRED")
    assert "ep1.freshness" in _failed(body)


def test_an_old_ep1_cannot_be_made_fresh_with_at(ctx, client, issuers, auth_headers):
    _ident, _p, el1 = _issue(ctx, issuers, "business_licence")
    then = ctx.now() - timedelta(hours=1)
    old = _ep1(ctx, el1, then)
    r = client.post(URL, json={"qr": old}, headers=auth_headers["relying"],
                    params={"at": then.isoformat()})
    assert r.json()["indication"] == "TOTAL_FAILED"


def test_a_replayed_ep1_fails_on_the_second_scan(ctx, client, issuers, auth_headers, clock):
    ident, _p, el1 = _issue(ctx, issuers, "driving_licence")
    ep1 = _ep1(ctx, el1, ctx.now())
    before = (_audit(ctx, "licence.verify"), _audit(ctx, "qr.present"))
    first = _qr(client, auth_headers["relying"], ep1).json()
    assert first["indication"] == "TOTAL_PASSED", first["checks"]
    assert first["licence"]["presentation"]["replayed"] is False
    clock.advance(seconds=10)
    second = _qr(client, auth_headers["relying"], ep1).json()
    assert (second["indication"], second["sub_indication"]) == ("TOTAL_FAILED", "SIG_CONSTRAINTS_FAILURE")
    replay = next(c for c in second["checks"] if c["name"] == "service.presentation_replay")
    assert replay["passed"] is False and "replayed" in replay["detail"]
    # two scans: two verification entries and two presentation entries, the second denied
    assert (_audit(ctx, "licence.verify"), _audit(ctx, "qr.present")) == (before[0] + 2, before[1] + 2)
    with ctx.unit_of_work() as s:
        rows = s.execute(select(AuditEntryRow.outcome, AuditEntryRow.licence_id, AuditEntryRow.holder_ref)
                         .where(AuditEntryRow.action == "qr.present").order_by(AuditEntryRow.idx)).all()
        holder_ref = s.scalar(select(LicenceVersion.holder_ref).where(LicenceVersion.identifier == ident))
    assert [r.outcome for r in rows[-2:]] == ["success", "denied"]
    assert all(r.licence_id == ident and r.holder_ref == holder_ref for r in rows[-2:])


def test_a_fresh_ep1_of_the_same_licence_is_accepted(ctx, client, issuers, auth_headers, clock):
    _ident, _p, el1 = _issue(ctx, issuers, "business_licence")
    assert _qr(client, auth_headers["relying"], _ep1(ctx, el1, ctx.now())).json()["indication"] == "TOTAL_PASSED"
    clock.advance(seconds=30)
    assert _qr(client, auth_headers["relying"], _ep1(ctx, el1, ctx.now())).json()["indication"] == "TOTAL_PASSED"


def test_seen_presentations_expire(ctx, client, issuers, auth_headers, clock):
    from license_svc.verify_models import SeenPresentation

    _ident, _p, el1 = _issue(ctx, issuers, "business_licence")
    _qr(client, auth_headers["relying"], _ep1(ctx, el1, ctx.now()))
    clock.advance(minutes=10)
    _qr(client, auth_headers["relying"], _ep1(ctx, el1, ctx.now()))
    with ctx.unit_of_work() as s:
        assert s.scalar(select(func.count()).select_from(SeenPresentation)) == 1  # the old one purged


# -- the three answers, hostile input, HTML --------------------------------------------------------

def test_not_a_licence_vs_failed_vs_valid(ctx, client, issuers, auth_headers):
    _ident, _p, el1 = _issue(ctx, issuers, "business_licence")
    valid = _qr(client, auth_headers["relying"], el1).json()
    failed = _qr(client, auth_headers["relying"], el1[:-6] + "ABCDEF").json()
    other = _qr(client, auth_headers["relying"], "https://pay.example.com/q/1234").json()
    assert (valid["subject"], valid["indication"]) == ("qr-el1", "TOTAL_PASSED")
    assert failed["indication"] == "TOTAL_FAILED" and failed["subject"] == "qr-el1"
    assert (other["subject"], other["indication"], other["sub_indication"]) == (
        "not-a-licence", "INDETERMINATE", "SIGNED_DATA_NOT_FOUND")


@pytest.mark.parametrize("kwargs, status", [
    ({"content": b"\x00\x01garbage" * 10, "headers": {"content-type": "application/octet-stream"}}, 422),
    ({"files": {"file": ("x.bin", b"\x13\x37" * 50, "application/octet-stream")}}, 422),
    ({"files": {"file": ("x.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 30, "image/png")}}, 422),
    ({"files": {"file": ("x.zip", b"PK\x03\x04junk", "application/zip")}}, 422),
    ({"files": {"other": ("x", b"abc", "text/plain")}}, 400),
    ({"content": b"", "headers": {"content-type": "application/pdf"}}, 400),
    ({"content": b"{not json", "headers": {"content-type": "application/json"}}, 400),
    ({"json": {"qr": "EL1:x", "ses": "AA=="}}, 400),
    ({"json": {}}, 400),
    ({"json": ["qr"]}, 400),
    ({"json": {"qr": 12}}, 400),
    ({"json": {"qr": ""}}, 400),
    ({"json": {"ses": "***"}}, 400),
    ({"json": {"ses": base64.b64encode(b"\x30\x03\x02\x01\x05").decode()}}, 422),
    ({"json": {"qr": "EL1:" + "A" * 20000}}, 400),
])
def test_hostile_requests_are_problems_never_500(client, auth_headers, kwargs, status):
    kwargs = dict(kwargs)
    headers = {**auth_headers["relying"], **kwargs.pop("headers", {})}
    r = client.post(URL, headers=headers, **kwargs)
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["type"].startswith("urn:license-svc:problem:") and body["title_zh"] and body["title_en"]


def test_too_large_is_413(client, auth_headers, ctx):
    big = b"%PDF-1.7\n" + b"0" * (ctx.settings.max_body_bytes + 10)
    r = client.post(URL, content=big, headers={**auth_headers["relying"], "content-type": "application/pdf"})
    assert r.status_code == 413


def test_roles(client, auth_headers):
    assert client.post(URL, json={"qr": "x"}).status_code == 401
    assert client.post(URL, json={"qr": "x"}, headers=auth_headers["issuer"]).status_code == 403
    for role in ("relying", "auditor", "admin", "citizen"):
        assert client.post(URL, json={"qr": "x"}, headers=auth_headers[role]).status_code == 200


def test_html_report_is_escaped(client, auth_headers):
    r = client.post(URL, json={"qr": "<script>alert(1)</script>"},
                    headers={**auth_headers["relying"], "Accept": "text/html"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "<script>" not in r.text and "&lt;script&gt;" in r.text
    assert "无法确定" in r.text


# -- audit ------------------------------------------------------------------------------------------

def test_every_verification_request_is_audited(ctx, client, issuers, auth_headers):
    ident, pdf, el1 = _issue(ctx, issuers, "business_licence")
    start = _audit(ctx, "licence.verify")
    _pdf(client, auth_headers["relying"], pdf)
    _qr(client, auth_headers["relying"], el1)
    _qr(client, auth_headers["relying"], "not a licence")
    client.post(URL, content=b"\x00garbage", headers={**auth_headers["relying"],
                                                      "content-type": "application/octet-stream"})
    assert _audit(ctx, "licence.verify") == start + 4
    with ctx.unit_of_work() as s:
        rows = s.execute(select(AuditEntryRow).where(AuditEntryRow.action == "licence.verify")
                         .order_by(AuditEntryRow.idx)).scalars().all()[-4:]
    assert [r.outcome for r in rows] == ["success", "success", "invalid", "invalid"]
    assert [r.licence_id for r in rows] == [ident, ident, None, None]
    leaf = json.loads(rows[0].leaf)
    assert leaf["detail"]["indication"] == "TOTAL_PASSED" and leaf["detail"]["kind"] == "pdf"
    holder = json.loads(lifecycle_record(ctx, ident))["holders"][0]["code"]
    assert all(holder not in r.leaf.decode() for r in rows)  # the ID number never in clear


def lifecycle_record(ctx, ident):
    with ctx.unit_of_work() as s:
        return lifecycle.load_version(s, ident).record


# -- another region ---------------------------------------------------------------------------------

def test_another_region_sees_revocation_within_one_refresh(ctx, client, issuers, amr, clock,
                                                         settings_factory, ctx_factory, make_api_client):
    """A js node verifies an sh licence: status from sh's signed HTTP answers, cached."""
    from fastapi.testclient import TestClient

    from license_svc.auth.clients import upsert_client
    from license_svc.web import create_app

    ident, pdf, el1 = _issue(ctx, issuers, "business_licence")

    def sh_node(request):  # the sh node's public routes, reached through js's peer client
        if request.url.host != "sh.peer.test":  # zj and ah run no node in this test
            raise httpx.ConnectError("no such node", request=request)
        got = client.get(request.url.path, params=request.url.params)
        return httpx.Response(got.status_code, content=got.content)

    js_ctx = ctx_factory(settings_factory("js", peers={"sh": "http://sh.peer.test"}),
                         peer_transport=httpx.MockTransport(sh_node))
    with js_ctx.unit_of_work() as s:
        _principal, key = upsert_client(s, client_id="js-relying-test", name="江苏用证部门",
                                        region="js", org_code="11320000MB0000010X", roles=["relying"])
    headers = {"Authorization": f"Bearer {key}"}

    with TestClient(create_app(ctx=js_ctx)) as js:
        body = js.post(URL, json={"qr": el1}, headers=headers).json()
        assert body["indication"] == "TOTAL_PASSED", body["checks"]
        assert "signed status response" in next(c["detail"] for c in body["checks"]
                                                 if c["name"] == "status.licence")
        assert _pdf(js, headers, pdf).json()["indication"] == "TOTAL_PASSED"  # now from the list
        with ctx.unit_of_work() as s:
            lifecycle.revoke(ctx, s, ident, amr, "依法吊销")
        assert js.post(URL, json={"qr": el1}, headers=headers).json()["indication"] == "TOTAL_PASSED"
        clock.advance(hours=6, seconds=1)  # past the list's next_update: one refresh
        body = js.post(URL, json={"qr": el1}, headers=headers).json()
        assert (body["indication"], body["sub_indication"]) == ("TOTAL_FAILED", "REVOKED")
    with js_ctx.unit_of_work() as s:  # the js node audited its own verifications
        audit.sequence_pending(s)
        assert s.scalar(select(func.count()).select_from(AuditEntryRow)
                        .where(AuditEntryRow.action == "licence.verify")) == 4

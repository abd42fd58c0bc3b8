"""`POST /api/v1/seals/{id}/stamp`: a department's PDF comes back stamped (visible seal, SM2 or
RSA signature with the SESeal bound in) and verifies TOTAL_PASSED through `POST /api/v1/verify`;
two organisations in turn; refusals (another organisation's client, certified P=1, not a
PDF, OFD until stamp_ofd is wired, a keyword that is not there); every stamp audited with the
document's SM3."""

import io
import json
import zipfile

import pytest
from sqlalchemy import text

from formats import algorithms as alg
from license_svc import audit
from tests.support.documents import KEYWORD, notice

SH_AMR = "11310000MB0000010A"
SH_POLICE = "11310000MB0000020B"


@pytest.fixture
def api(client, make_api_client):
    admin = make_api_client(["admin"])[1]
    amr = make_api_client(["issuer"], org_code=SH_AMR)[1]
    police = make_api_client(["issuer"], org_code=SH_POLICE)[1]
    relying = make_api_client(["relying"], org_code="91310000RELY00000X")[1]
    return client, admin, amr, police, relying


def make_seal(client, admin, org_code):
    res = client.post("/api/v1/seals", headers=admin,
                      json={"org_code": org_code, "name": "行政审批专用章", "type": 3})
    assert res.status_code == 201, res.text
    return res.json()["id"]


def stamp(client, headers, es_id, document, **query):
    return client.post(f"/api/v1/seals/{es_id}/stamp", headers=headers, params=query,
                       content=document)


def verify(client, relying, pdf):
    res = client.post("/api/v1/verify", headers=relying, files={"file": ("d.pdf", pdf)})
    assert res.status_code == 200, res.text
    return res.json()


def stamp_entries(ctx):
    with ctx.unit_of_work() as session:
        audit.sequence_pending(session)
        rows = session.execute(text("SELECT leaf FROM audit_entries ORDER BY idx")).all()
    entries = [json.loads(bytes(r[0])) for r in rows]
    return [e for e in entries if e["action"] == "seal.stamp"]


@pytest.mark.parametrize("algorithm", ["sm2", "rsa"])
def test_stamp_at_position_verifies_and_is_audited(api, ctx, algorithm):
    client, admin, amr, _police, relying = api
    es_id = make_seal(client, admin, SH_AMR)
    doc = notice()
    res = stamp(client, amr, es_id, doc, page=1, x=120, y=150, algorithm=algorithm)
    assert res.status_code == 200, res.text
    assert res.headers["content-type"] == "application/pdf"
    stamped = res.content
    assert stamped.startswith(doc)  # an incremental update: the original bytes untouched
    report = verify(client, relying, stamped)
    assert report["indication"] == "TOTAL_PASSED", [c for c in report["checks"] if not c["passed"]]
    names = {c["name"] for c in report["checks"]}
    assert {"pdf.seal_binding", "pdf.seal", "pdf.timestamp"} <= names
    (entry,) = stamp_entries(ctx)
    d = entry["detail"]
    assert entry["outcome"] == "success" and d["seal_id"] == es_id
    assert d["document_sm3"] == alg.sm3(doc).hex() and d["stamped_sm3"] == alg.sm3(stamped).hex()
    assert (d["format"], d["algorithm"], d["placement"], d["page"]) == ("pdf", algorithm,
                                                                        "position", 1)


def test_two_organisations_in_turn(api, ctx):
    client, admin, amr, police, relying = api
    first = stamp(client, amr, make_seal(client, admin, SH_AMR), notice(), keyword=KEYWORD)
    assert first.status_code == 200, first.text
    second = stamp(client, police, make_seal(client, admin, SH_POLICE), first.content,
                   straddle="true", algorithm="rsa")
    assert second.status_code == 200, second.text
    report = verify(client, relying, second.content)
    assert report["indication"] == "TOTAL_PASSED", report
    assert [c["passed"] for c in report["checks"] if c["name"] == "pdf.signature_value"] == \
        [True, True]
    assert len(stamp_entries(ctx)) == 2


def test_refusals(api, ctx):
    client, admin, amr, police, _relying = api
    es_id = make_seal(client, admin, SH_AMR)
    doc = notice()
    # another organisation's client, and the region's operator, may not use the seal
    assert stamp(client, police, es_id, doc, page=1, x=10, y=10).status_code == 403
    assert stamp(client, admin, es_id, doc, page=1, x=10, y=10).status_code == 403
    # placement: none, two at once, off the page, a page that is not there
    for query in ({}, {"page": 1, "x": 10, "y": 10, "straddle": "true"},
                  {"page": 1, "x": 200, "y": 10}, {"page": 9, "x": 10, "y": 10},
                  {"keyword": "不存在的文字"}):
        res = stamp(client, amr, es_id, doc, **query)
        assert res.status_code == 422, (query, res.text)
        assert res.json()["title_zh"] and res.json()["title_en"]
    # over the service's body limit: 413 before anything is read or signed
    too_big = b"%PDF-1.7\n" + bytes(ctx.settings.max_body_bytes)
    assert stamp(client, amr, es_id, too_big, page=1, x=10, y=10).status_code == 413
    # not a document we can stamp
    res = stamp(client, amr, es_id, b"hello", page=1, x=10, y=10)
    assert res.status_code == 415 and res.json()["reason"] == "document-type-unsupported"
    ofd = io.BytesIO()
    with zipfile.ZipFile(ofd, "w") as z:
        z.writestr("OFD.xml", "<ofd:OFD xmlns:ofd='http://www.ofdspec.org/2016'/>")
    res = stamp(client, amr, es_id, ofd.getvalue(), page=1, x=10, y=10)  # an OFD with no document
    assert res.status_code == 422, res.text
    assert res.json()["title_zh"] and res.json()["title_en"]
    # a document certified "no changes" (DocMDP P=1): refused, the attempt on record
    from tests.support.pdf import genuine

    res = stamp(client, amr, es_id, genuine("sm2"), page=1, x=10, y=10)
    assert res.status_code == 409, res.text
    assert "DocMDP P=1" in res.json()["detail"]
    outcomes = [(e["outcome"], e["detail"].get("reason")) for e in stamp_entries(ctx)]
    assert ("invalid", "stamp-refused") in outcomes and ("invalid", "ofd-sign") in outcomes
    assert ("denied", None) in [(o, None) for o, _ in outcomes]
    # a suspended seal stamps nothing
    assert client.post(f"/api/v1/seals/{es_id}/suspend", headers=admin).status_code == 200
    assert stamp(client, amr, es_id, doc, page=1, x=10, y=10).status_code == 409


def test_certify_closes_the_document(api):
    client, admin, amr, police, relying = api
    amr_seal, police_seal = make_seal(client, admin, SH_AMR), make_seal(client, admin, SH_POLICE)
    approved = stamp(client, police, police_seal, notice(), page=1, x=20, y=80)
    # a certification must be the first signature
    res = stamp(client, amr, amr_seal, approved.content, page=1, x=20, y=20, certify="true")
    assert res.status_code == 409 and "first" in res.json()["detail"], res.text
    certified = stamp(client, amr, amr_seal, notice(), page=1, x=20, y=20, certify="true")
    assert certified.status_code == 200, certified.text
    report = verify(client, relying, certified.content)
    assert report["indication"] == "TOTAL_PASSED", report
    assert report["signer"]["certification"]
    later = stamp(client, police, police_seal, certified.content, page=1, x=20, y=80)
    assert later.status_code == 409 and "DocMDP P=1" in later.json()["detail"], later.text


def test_cli_stamp(api, ctx, settings, tmp_path):
    """`license-svc seal stamp` acts as the seal's organisation, through the same function."""
    from typer.testing import CliRunner

    from license_svc.cli import _register, app

    _register()
    client, admin, _amr, _police, relying = api
    es_id = make_seal(client, admin, SH_AMR)
    doc, out = tmp_path / "告知书.pdf", tmp_path / "stamped.pdf"
    doc.write_bytes(notice(2))
    env = {"LICENSE_SVC_DATABASE_URL": settings.database_url, "LICENSE_SVC_REGION": "sh",
           "LICENSE_SVC_DATA_DIR": str(tmp_path / "var")}

    def run(*args):
        return CliRunner().invoke(app, ["seal", "stamp", str(doc), "--seal", es_id,
                                        "--out", str(out), *map(str, args)], env=env)

    res = run("--straddle", "--alg", "rsa")
    assert res.exit_code == 0, res.output
    assert verify(client, relying, out.read_bytes())["indication"] == "TOTAL_PASSED"
    res = run("--keyword", KEYWORD)  # SM2, then `license-svc verify` on it
    assert res.exit_code == 0, res.output
    checked = CliRunner().invoke(app, ["verify", str(out), "--json"], env=env)
    assert checked.exit_code == 0, checked.output
    assert json.loads(checked.output)["indication"] == "TOTAL_PASSED"
    assert stamp_entries(ctx)[-1]["actor"]["client_id"] == "cli"
    assert run("--page", "1", "--x", "10").exit_code == 3  # no y: usage
    assert run("--page", "3", "--x", "10", "--y", "10").exit_code == 1  # no third page
    doc.write_bytes(b"not a document")
    assert run("--keyword", "盖章").exit_code == 3


def test_ofd_documents_are_stamped_by_two_organisations_in_turn(api, ctx):
    """The same route for an OFD: one more GB/T 38540 seal signature each time (SM2, as OFD
    seal signatures are), the earlier one still valid; certification is a PDF notion."""
    from tests.signing.test_ofd_stamp import unsigned

    client, admin, amr, police, relying = api
    amr_seal, police_seal = make_seal(client, admin, SH_AMR), make_seal(client, admin, SH_POLICE)
    doc = unsigned(pages=2, text="行政许可决定书 甲方盖章处")
    assert stamp(client, amr, amr_seal, doc, page=1, x=20, y=20, certify="true").status_code == 422
    once = stamp(client, amr, amr_seal, doc, keyword="甲方盖章处")
    assert once.status_code == 200, once.text
    twice = stamp(client, police, police_seal, once.content, straddle="true", algorithm="rsa")
    assert twice.status_code == 200, twice.text
    res = client.post("/api/v1/verify", headers=relying, files={"file": ("d.ofd", twice.content)})
    report = res.json()
    assert report["indication"] == "TOTAL_PASSED", json.dumps(report, ensure_ascii=False)[:3000]
    assert sum(c["name"].endswith(".signature.value") and c["passed"] for c in report["checks"]) == 2
    entries = [e for e in stamp_entries(ctx) if e["outcome"] == "success"]
    assert [e["detail"]["format"] for e in entries] == ["ofd", "ofd"]
    assert entries[1]["detail"]["algorithm"] == "sm2"  # asked for rsa: OFD seal signatures are SM2
    assert entries[1]["detail"]["document_sm3"] == alg.sm3(once.content).hex()

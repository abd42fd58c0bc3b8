"""The seal registry over HTTP: make, list, suspend/revoke, sign with a seal, verify — each use
audited in the same transaction."""

import json

import pytest
from sqlalchemy import text

from license_svc import audit
from formats import algorithms as alg
from verification.seal import parse_seal, parse_signature

SH_AMR = "11310000MB0000010A"
SH_POLICE = "11310000MB0000020B"
JS_AMR = "11320000MB0000010E"
DOC = "营业执照申请表".encode()


@pytest.fixture
def api(client, make_api_client):
    admin = make_api_client(["admin"])[1]
    issuer = make_api_client(["issuer"], org_code=SH_AMR)[1]
    other_issuer = make_api_client(["issuer"], org_code=SH_POLICE)[1]
    relying = make_api_client(["relying"], org_code="91310000RELY00000X")[1]
    return client, admin, issuer, other_issuer, relying


def make(client, admin, **body):
    res = client.post("/api/v1/seals", headers=admin,
                      json={"org_code": SH_AMR, "name": "合同专用章", "type": 3, **body})
    assert res.status_code == 201, res.text
    return res.json()


def audit_actions(ctx):
    with ctx.unit_of_work() as session:
        audit.sequence_pending(session)  # entries are queued until sequenced
        rows = session.execute(text("SELECT leaf FROM audit_entries ORDER BY idx")).all()
    return [json.loads(bytes(r[0]))["action"] for r in rows]


def test_make_list_get_download(api, ctx):
    client, admin, issuer, _other, relying = api
    seal = make(client, admin)
    assert seal["status"] == "active" and seal["region"] == "sh"
    listed = client.get(f"/api/v1/seals?org_code={SH_AMR}", headers=issuer).json()
    assert [s["id"] for s in listed] == [seal["id"]]
    assert client.get("/api/v1/seals", headers=relying).status_code == 403
    der = client.get(f"/api/v1/seals/{seal['id']}/seal.esl", headers=relying).content
    parsed = parse_seal(der)
    assert parsed.es_id == seal["id"] and len(parsed.certs) == 2  # the org's SM2 + RSA signers
    png = client.get(f"/api/v1/seals/{seal['id']}/picture.png", headers=relying)
    assert png.headers["content-type"] == "image/png" and png.content == parsed.picture
    assert client.get("/api/v1/seals/nope", headers=admin).status_code == 404
    assert "seal.create" in audit_actions(ctx)


def test_only_admin_makes_and_only_own_region(api):
    client, admin, issuer, _o, _r = api
    body = {"org_code": SH_AMR, "name": "公章", "type": 1}
    assert client.post("/api/v1/seals", headers=issuer, json=body).status_code == 403
    res = client.post("/api/v1/seals", headers=admin, json={**body, "org_code": JS_AMR})
    assert res.status_code == 403 and res.json()["type"].endswith("seal-forbidden")
    res = client.post("/api/v1/seals", headers=admin, json={**body, "type": 9})
    assert res.status_code == 422


def test_sign_and_verify_round_trip(api, ctx):
    client, admin, issuer, other_issuer, relying = api
    seal = make(client, admin)
    res = client.post(f"/api/v1/seals/{seal['id']}/sign?property_info=form.txt", headers=issuer,
                      content=DOC)
    assert res.status_code == 200, res.text
    sig = parse_signature(res.content)
    assert sig.data_hash == alg.sm3(DOC) and sig.timestamp is not None
    # A relying party verifies it, with the document.
    report = client.post("/api/v1/verify/seal", headers=relying,
                         files={"file": ("s.dat", res.content), "document": ("d", DOC)}).json()
    assert report["indication"] == "TOTAL_PASSED", report
    names = {c["name"] for c in report["checks"]}
    assert {"seal.status", "signature.timestamp", "signature.data_hash"} <= names
    # By digest, RSA.
    res = client.post(f"/api/v1/seals/{seal['id']}/sign?algorithm=rsa", headers=issuer,
                      json={"sha256": alg.sha256(DOC).hex(), "property_info": "form.txt"})
    assert res.status_code == 200, res.text
    report = client.post("/api/v1/verify/seal", headers=relying,
                         files={"file": ("s.dat", res.content), "document": ("d", DOC)}).json()
    assert report["indication"] == "TOTAL_PASSED", report
    # Another organisation may not use the seal.
    res = client.post(f"/api/v1/seals/{seal['id']}/sign", headers=other_issuer, content=DOC)
    assert res.status_code == 403
    actions = audit_actions(ctx)
    # two uses and the refused attempt (audited in its own transaction)
    assert actions.count("seal.sign") == 3 and actions.count("seal.verify") == 2


def test_suspend_revoke_and_their_effect(api):
    client, admin, issuer, _o, relying = api
    seal = make(client, admin)
    signed = client.post(f"/api/v1/seals/{seal['id']}/sign", headers=issuer, content=DOC).content
    assert client.post(f"/api/v1/seals/{seal['id']}/suspend", headers=issuer).status_code == 403
    res = client.post(f"/api/v1/seals/{seal['id']}/suspend", headers=admin, json={"reason": "遗失"})
    assert res.json()["status"] == "suspended"
    assert client.post(f"/api/v1/seals/{seal['id']}/sign", headers=issuer,
                       content=DOC).status_code == 409
    report = client.post("/api/v1/verify/seal", headers=relying, content=signed).json()
    assert report["indication"] == "INDETERMINATE"
    assert client.post(f"/api/v1/seals/{seal['id']}/reinstate", headers=admin).status_code == 200
    assert client.post(f"/api/v1/seals/{seal['id']}/revoke", headers=admin).status_code == 200
    report = client.post("/api/v1/verify/seal", headers=relying,
                         files={"file": ("s.dat", signed), "document": ("d", DOC)}).json()
    assert (report["indication"], report["sub_indication"]) == ("TOTAL_FAILED", "REVOKED")
    assert client.post(f"/api/v1/seals/{seal['id']}/reinstate", headers=admin).status_code == 409


def test_verify_hostile_and_foreign_input(api, ctx):
    client, admin, _i, _o, relying = api
    report = client.post("/api/v1/verify/seal", headers=relying, content=b"\x30\x03abc").json()
    assert report["sub_indication"] == "FORMAT_FAILURE"
    with open("/work/shared/interop/ofdrw/UserV4.esl", "rb") as f:
        ofdrw = f.read()
    report = client.post("/api/v1/verify/seal?at=2021-01-01T00:00:00Z", headers=relying,
                         content=ofdrw).json()
    assert (report["indication"], report["sub_indication"]) == \
        ("INDETERMINATE", "NO_CERTIFICATE_CHAIN_FOUND")
    # A seal that claims this region's maker but is not in the registry: unknown, not passed.
    seal = make(client, admin)
    der = client.get(f"/api/v1/seals/{seal['id']}/seal.esl", headers=admin).content
    with ctx.unit_of_work() as session:
        session.execute(text("DELETE FROM seals WHERE es_id = :i"), {"i": seal["id"]})
    report = client.post("/api/v1/verify/seal", headers=relying, content=der).json()
    assert report["indication"] == "INDETERMINATE"
    assert [c["name"] for c in report["checks"] if not c["passed"]] == ["seal.status"]
    assert client.post("/api/v1/verify/seal", content=b"x").status_code == 401

"""Issue 14 item 5: ID numbers that escaped the filter — followed by a letter, inside a forged
QR's identifier or presentation id, in a lifecycle reason or a seal name — are masked (or
refused) by the one filter, `formats.privacy`, wherever text leaves the service or enters the
audit log, and a forged EP1 carrying one is still audited (masked) instead of refused unrecorded."""

from __future__ import annotations

import json

import cbor2

from formats.qr_claims import (CLAIM_CTI, CLAIM_EL1, CLAIM_EXP, CLAIM_IAT, CLAIM_ISS, EL1_PREFIX,
                               EP1_PREFIX)
from signing.qr.cose import sign1
from signing.qr.credentials import cose_from_text, encode_text, make_el1
from tests.security.support import audit_entries
from tests.support.grants import PERSON
from tests.support.issuing import TRAFFIC_SH, example

GLUED = f"ID{PERSON}x"   # the attack's spelling: a letter right after the number


def _no_number(text: str) -> None:
    assert PERSON not in text and PERSON.lower() not in text, text[:400]


def _forged(prefix: str, text: str) -> str:
    """The same code with one bit of its signature flipped: what a forger without the key has."""
    cose = cbor2.loads(cose_from_text(text, prefix))
    protected, unprotected, payload, signature = cose.value
    signature = signature[:-1] + bytes([signature[-1] ^ 1])
    return encode_text(prefix, cbor2.dumps(cbor2.CBORTag(cose.tag, [protected, unprotected, payload, signature])))


def _issue(http, issuers) -> str:
    resp = http.post("/api/v1/licences", json=example("driving_licence"), headers=issuers[TRAFFIC_SH][1])
    assert resp.status_code == 201, resp.text[:300]
    return resp.json()["identifier"]


def test_a_reason_holding_an_id_number_is_masked_in_the_signed_event_status_and_log(http, ctx, issuers):
    ident = _issue(http, issuers)
    before = len(audit_entries(ctx))
    resp = http.post(f"/api/v1/licences/{ident}/suspend", json={"reason": f"核查 {GLUED}"},
                     headers=issuers[TRAFFIC_SH][1])
    assert resp.status_code == 200, resp.text[:300]
    _no_number(resp.text)
    status = http.get(f"/api/v1/licences/{ident}/status")   # unauthenticated
    assert status.status_code == 200
    _no_number(status.text)
    assert "[REDACTED-ID]" in status.text
    from license_svc.licences.models import LicenceEvent
    from sqlalchemy import select
    with ctx.unit_of_work() as s:
        events = [e.event for e in s.scalars(select(LicenceEvent).where(LicenceEvent.identifier == ident))]
    assert any("[REDACTED-ID]" in e for e in events)
    for e in events:
        _no_number(e)
    new = audit_entries(ctx)[before:]
    assert any(e["action"].startswith("licence.suspend") for _, e, _ in new)
    for _, _, leaf in new:
        _no_number(leaf.decode())


def test_a_seal_name_holding_an_id_number_is_refused(http, ctx, make_api_client):
    _, admin_h = make_api_client(["admin"], org_code="")
    org = TRAFFIC_SH
    for field in ("name", "number"):
        body = {"org_code": org, "name": "合同专用章", "type": 3, field: GLUED[:24] if field == "number" else GLUED}
        resp = http.post("/api/v1/seals", json=body, headers=admin_h)
        assert resp.status_code == 422, (field, resp.status_code, resp.text[:300])
        _no_number(resp.text)


def test_a_forged_el1_whose_id_holds_an_id_number_is_audited_masked(http, ctx, parties):
    signer = ctx.keystore.credential("sh", "licence_signer", "sm2", org_code=TRAFFIC_SH)
    forged_id = f"1.2.156.3005.2.{PERSON}x.SH2026000001.001.K"
    el1 = _forged(EL1_PREFIX, make_el1(
        signer.key, signer.cert.dump(), issuer_code=TRAFFIC_SH, claims={"id": forged_id, "t": "x", "n": "张*", "h": "x", "vf": "2026-01-01", "r": "sh", "v": 1},
        iat=ctx.now(), exp=ctx.now().replace(year=ctx.now().year + 1)))
    before = len(audit_entries(ctx))
    resp = http.post("/api/v1/verify", json={"qr": el1}, headers=parties.dept_h)
    assert resp.status_code == 200 and resp.json()["indication"] != "TOTAL_PASSED", resp.text[:300]
    new = audit_entries(ctx)[before:]
    assert [e["action"] for _, e, _ in new] == ["licence.verify"]
    assert "[REDACTED-ID]" in new[0][1]["licence_id"]
    for _, _, leaf in new:
        _no_number(leaf.decode())


def test_a_forged_ep1_whose_cti_holds_an_id_number_leaves_a_masked_audit_trace(http, ctx, issuers, parties):
    ident = _issue(http, issuers)
    el1 = http.get(f"/api/v1/licences/{ident}/qr?format=text", headers=issuers[TRAFFIC_SH][1]).text.strip()
    node = ctx.keystore.credential("sh", "node", "sm2")
    iat = int(ctx.now().timestamp())
    cti = bytes.fromhex(PERSON + "ab" * 7)                          # its hex spells the number
    payload = {CLAIM_ISS: "sh", CLAIM_IAT: iat, CLAIM_EXP: iat + 30, CLAIM_CTI: cti,
               CLAIM_EL1: cose_from_text(el1)}
    genuine = encode_text(EP1_PREFIX, sign1(node.key, node.cert.dump(), payload))
    for ep1 in (_forged(EP1_PREFIX, genuine), genuine):
        before = len(audit_entries(ctx))
        resp = http.post("/api/v1/verify", json={"qr": ep1}, headers=parties.dept_h)
        assert resp.status_code == 200, resp.text[:300]
        new = audit_entries(ctx)[before:]
        presented = [e for _, e, _ in new if e["action"] == "qr.present"]
        assert presented and "[REDACTED-ID]" in json.dumps(presented[0]["detail"]), new
        for _, _, leaf in new:
            _no_number(leaf.decode())

"""A licence with several holders (the marriage certificate: two spouses) belongs to each of
them alike: the second spouse grants, is the holder a department names when retrieving, finds
the certificate in the wallet, reads and presents it, and sees who looked at it — with proofs
an independent RFC 9162 verifier accepts — exactly as the first spouse does.  A third person's
code finds nothing, and the refusal is audited."""

from __future__ import annotations

import base64
import json

import pytest
from sqlalchemy import select, text

from license_svc import audit
from license_svc.audit.checkpoint import log_signer
from license_svc.auth.clients import Client
from license_svc.licences import amend, lifecycle
from license_svc.licences.models import LicenceHolder
from tests.support.grants import (DEPT, MATTER, PERSON, STRANGER, grant_body, issue_licence,
                                  problem, retrieval_body)
from tests.support.issuing import CIVIL_SH
from tests.support.rfc9162 import rfc_leaf, rfc_verify_inclusion
from verification import tlog

__all__ = ["http", "parties"]  # fixtures
SPOUSE1 = PERSON                 # first holder of the example marriage certificate (张三)
SPOUSE2 = "310104199303221041"   # second holder (李晓梅)
MARRIAGE = "marriage_certificate"


@pytest.fixture
def couple(ctx, parties, make_api_client):
    """`parties` plus the example marriage certificate (張三 first, 李晓梅 second) and a
    citizen client for each spouse (the first is `parties.person`) and for a stranger."""
    parties.marriage = issue_licence(ctx, MARRIAGE, CIVIL_SH, [MARRIAGE])
    parties.spouse2, parties.spouse2_h = make_api_client(["citizen"], org_code="", holder_code=SPOUSE2,
                                                         name="李晓梅")
    parties.stranger, parties.stranger_h = make_api_client(["citizen"], org_code="",
                                                           holder_code=STRANGER, name="王五")
    return parties


def _grant(http, ctx, headers, **changes) -> str:
    changes.setdefault("licence_type", MARRIAGE)
    r = http.post("/api/v1/grants", json=grant_body(ctx, **changes), headers=headers)
    assert r.status_code == 201, r.text
    return r.json()["id"]


def _retrieve(http, world, code, **changes):
    return http.post("/api/v1/retrievals", headers=world.dept_h,
                     json=retrieval_body(holder_code=code, licence_type=MARRIAGE, **changes))


def _access_log(http, ctx, headers) -> list[dict]:
    """The caller's access log, every entry's inclusion proof checked independently against the
    signed checkpoint that came with it."""
    r = http.get("/api/v1/holders/me/access-log", headers=headers)
    assert r.status_code == 200, r.text
    assert SPOUSE1 not in r.text and SPOUSE2 not in r.text and STRANGER not in r.text
    log = r.json()
    cp = tlog.verify_checkpoint(log["checkpoint"]["note"].encode(),
                                [log_signer(ctx.keystore, "sh").verifier_key], origin="licence-audit/sh")
    assert cp.ok, cp.detail
    size, root = cp.checkpoint.size, cp.checkpoint.root
    for item in log["entries"]:
        leaf = base64.b64decode(item["leaf"])
        assert json.loads(leaf) == item["entry"]
        hashes = [base64.b64decode(h) for h in item["inclusion_proof"]["hashes"]]
        assert rfc_verify_inclusion(rfc_leaf(leaf), item["index"], size, hashes, root)
    return log["entries"]


def test_the_second_spouse_grants_and_a_department_retrieves_with_her_code(http, ctx, couple):
    gid = _grant(http, ctx, couple.spouse2_h)
    r = _retrieve(http, couple, SPOUSE2, grant_id=gid, operator="赵六")
    assert r.status_code == 200, r.text
    [lic] = r.json()["licences"]
    assert lic["identifier"] == couple.marriage
    assert [h["code"] for h in lic["signed_record"]["payload"]["holders"]] == [SPOUSE1, SPOUSE2]
    audit.publish(ctx)

    ref1, ref2 = audit.holder_reference(ctx, SPOUSE1), audit.holder_reference(ctx, SPOUSE2)
    second = _access_log(http, ctx, couple.spouse2_h)
    first = _access_log(http, ctx, couple.person_h)
    # newest first: the retrieval, her grant (hers alone: a type grant names no licence), the issuance
    assert [(i["action"], i["outcome"]) for i in second] == [
        ("licence.retrieve", "success"), ("grant.create", "success"), ("licence.issue", "success")]
    retrieved = second[0]
    assert (retrieved["licence_id"], retrieved["grant_id"], retrieved["matter_code"],
            retrieved["department"]["org_code"], retrieved["department"]["operator"],
            retrieved["entry"]["holder_ref"]) == (couple.marriage, gid, MATTER, DEPT, "赵六", ref2)
    assert second[2]["entry"]["holder_ref"] == ref1  # licence-wide entries name the first holder
    # the first spouse sees the same retrieval of the certificate (and its issuance), not her grant
    assert [(i["action"], i["index"]) for i in first] == [
        ("licence.retrieve", retrieved["index"]), ("licence.issue", second[2]["index"])]


def test_a_third_persons_code_finds_nothing_and_is_refused_and_audited(http, ctx, couple):
    gid = _grant(http, ctx, couple.spouse2_h, max_uses=3)
    body = problem(_retrieve(http, couple, STRANGER, grant_id=gid), 403, "retrieval-refused")
    assert body["reason"] == "grant-other-holder"
    # the stranger's own grant: nothing to find under the stranger's code
    own = _grant(http, ctx, couple.stranger_h)
    problem(_retrieve(http, couple, STRANGER, grant_id=own), 404, "retrieval-no-licence")
    r = _retrieve(http, couple, STRANGER, legal_basis="《婚姻登记条例》第二条", want="verify")
    assert r.status_code == 200 and r.json()["valid"] is False and r.json()["licences"] == []
    audit.publish(ctx)

    stranger = _access_log(http, ctx, couple.stranger_h)
    ref = audit.holder_reference(ctx, STRANGER)
    assert [(i["action"], i["outcome"], i["entry"]["detail"].get("reason")) for i in stranger] == [
        ("licence.verify", "not_found", None), ("licence.retrieve", "not_found", "retrieval-no-licence"),
        ("grant.create", "success", None), ("licence.retrieve", "denied", "grant-other-holder")]
    assert all(i["entry"]["holder_ref"] == ref and i["licence_id"] is None for i in stranger)
    assert stranger[3]["grant_id"] == gid and stranger[3]["department"]["org_code"] == DEPT
    # the spouses' logs do not show a stranger's attempts (no licence of theirs was involved)
    for headers in (couple.person_h, couple.spouse2_h):
        assert all(i["entry"]["holder_ref"] != ref for i in _access_log(http, ctx, headers))


def test_a_spouses_grant_is_hers_and_a_one_licence_grant_survives_amendment(http, ctx, couple):
    gid = _grant(http, ctx, couple.spouse2_h, licence_type=..., licence_id=couple.marriage, max_uses=2)
    # a grant is its giver's: the other spouse's code does not ride on it
    body = problem(_retrieve(http, couple, SPOUSE1, grant_id=gid), 403, "retrieval-refused")
    assert body["reason"] == "grant-other-holder"
    issuer = Client(client_id=f"test-issuer-{CIVIL_SH}", name="婚姻登记处", org_code=CIVIL_SH,
                    region="sh", roles=frozenset({"issuer"}), licence_types=(MARRIAGE,))
    with ctx.unit_of_work() as s:
        record = json.loads(lifecycle.load_version(s, couple.marriage).record)
        new = amend.amend(ctx, s, couple.marriage, issuer,
                              {"fields": {"remarks": "补领"}}, "补领").identifier
        assert record["holders"] == json.loads(lifecycle.load_version(s, new).record)["holders"]
        assert s.scalars(select(LicenceHolder.position).where(LicenceHolder.identifier == new)
                         .order_by(LicenceHolder.position)).all() == [0, 1]
    r = _retrieve(http, couple, SPOUSE2, grant_id=gid)
    assert r.status_code == 200, r.text
    assert [x["identifier"] for x in r.json()["licences"]] == [new]  # the superseded one is history


def test_the_second_spouse_lists_reads_and_presents_the_certificate(http, ctx, couple):
    listed = http.get("/api/v1/holders/me/licences", headers=couple.spouse2_h).json()["licences"]
    assert [(x["identifier"], x["holder_name"]) for x in listed] == [(couple.marriage, "张三、李晓梅")]
    assert http.get("/api/v1/holders/me/licences", headers=couple.stranger_h).json()["licences"] == []
    r = http.get(f"/api/v1/licences/{couple.marriage}", headers=couple.spouse2_h)
    assert r.status_code == 200, r.text
    r = http.post(f"/api/v1/licences/{couple.marriage}/presentations", headers=couple.spouse2_h)
    assert r.status_code == 201, r.text
    problem(http.post(f"/api/v1/licences/{couple.marriage}/presentations",
                      headers=couple.stranger_h), 403, "issuer-authority")
    audit.publish(ctx)

    entries = {(i["action"], i["outcome"]): i for i in _access_log(http, ctx, couple.spouse2_h)}
    ref2 = audit.holder_reference(ctx, SPOUSE2)
    # her own acts are entered under her own reference
    assert entries[("licence.read.record", "success")]["entry"]["holder_ref"] == ref2
    assert entries[("qr.presentation.create", "success")]["entry"]["holder_ref"] == ref2
    # the stranger's refused presentation concerns the certificate: both spouses see it
    assert ("qr.presentation.create", "denied") in entries
    # an entry naming the first spouse is the second's to read too (it is about her licence)
    issued = entries[("licence.issue", "success")]["index"]
    assert http.get(f"/api/v1/audit/entries/{issued}", headers=couple.spouse2_h).status_code == 200
    assert http.get(f"/api/v1/audit/entries/{issued}", headers=couple.stranger_h).status_code == 403


def test_no_holder_code_is_stored_in_clear_outside_the_record(http, ctx, couple):
    gid = _grant(http, ctx, couple.spouse2_h)
    assert _retrieve(http, couple, SPOUSE2, grant_id=gid).status_code == 200
    needles = [c.encode() for c in (SPOUSE1, SPOUSE2)]
    with ctx.engine.connect() as conn:
        rows = conn.execute(text("SELECT identifier, position, holder_ref FROM licence_holders")).all()
        assert sorted((r[1], r[2]) for r in rows) == [
            (0, audit.holder_reference(ctx, SPOUSE1)), (1, audit.holder_reference(ctx, SPOUSE2))]
        for table in ("licence_holders", "audit_entries", "audit_queue", "grants"):
            for row in conn.execute(text(f"SELECT * FROM {table}")):
                for value in row:
                    raw = value if isinstance(value, (bytes, memoryview)) else str(value).encode()
                    assert not any(n in bytes(raw) for n in needles), (table, row)

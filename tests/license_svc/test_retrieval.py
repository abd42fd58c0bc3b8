"""免证办 retrieval by a relying department: under a grant or a legal basis, as data, PDF or a
verification-only answer; every refusal is a 403 problem *and* an audit entry."""

from __future__ import annotations

import json
import logging

import pytest
from sqlalchemy import select

from license_svc import audit
from license_svc.grants.models import Grant
from license_svc.identifiers import make_identifier, parse_identifier
from license_svc.licences import amend, lifecycle
from tests.support.grants import (DEPT, MATTER, OTHER_DEPT, PERSON, STRANGER, audit_count,
                                  audit_rows, grant_body, problem, retrieval_body)

__all__ = ["http", "parties", "world"]  # fixtures
LEGAL_BASIS = "《中华人民共和国行政许可法》第三十四条"


def _grant(http, ctx, world, **changes) -> str:
    r = http.post("/api/v1/grants", json=grant_body(ctx, **changes), headers=world.person_h)
    assert r.status_code == 201, r.text
    return r.json()["id"]


def _last_entry(ctx) -> dict:
    return json.loads(audit_rows(ctx)[-1][1])


def _uses_left(ctx, gid):
    with ctx.unit_of_work() as s:
        return s.get(Grant, gid).uses_left


def test_retrieval_under_a_grant_returns_the_licence_and_is_audited(http, ctx, world):
    gid = _grant(http, ctx, world, max_uses=2)
    r = http.post("/api/v1/retrievals", json=retrieval_body(gid, operator="王五"), headers=world.dept_h)
    assert r.status_code == 200, r.text
    body = r.json()
    [lic] = body["licences"]
    assert lic["identifier"] == world.driving and lic["status"] == "active"
    assert lic["signed_record"]["payload"]["holders"][0]["code"] == PERSON  # the data itself
    assert body["grant"]["id"] == gid and body["grant"]["uses_left"] == 1
    assert body["matter_code"] == MATTER and body["legal_basis"] is None
    entry = _last_entry(ctx)
    assert entry["request_id"] == r.headers["x-request-id"]
    assert (entry["action"], entry["outcome"], entry["licence_id"], entry["grant_id"], entry["purpose"],
            entry["legal_basis"], entry["holder_ref"]) == (
        "licence.retrieve", "success", world.driving, gid, MATTER, None, audit.holder_reference(ctx, PERSON))
    assert entry["actor"] == {"org_code": DEPT, "client_id": world.dept.client_id, "operator": "王五"}
    assert entry["detail"] == {"want": "data", "type_code": "11100000MB0000002X001"}
    assert _uses_left(ctx, gid) == 1


def test_without_grant_or_legal_basis_the_retrieval_is_refused_and_the_refusal_audited(http, ctx, world):
    before = audit_count(ctx)
    body = problem(http.post("/api/v1/retrievals", json=retrieval_body(), headers=world.dept_h),
                   403, "retrieval-refused")
    assert body["reason"] == "no-grant-or-legal-basis" and "licences" not in body
    assert world.driving not in json.dumps(body)
    assert audit_count(ctx) == before + 1
    entry = _last_entry(ctx)
    assert (entry["action"], entry["outcome"], entry["licence_id"], entry["grant_id"], entry["legal_basis"],
            entry["purpose"], entry["detail"]["reason"]) == (
        "licence.retrieve", "denied", None, None, None, MATTER, "no-grant-or-legal-basis")
    assert entry["holder_ref"] == audit.holder_reference(ctx, PERSON)
    assert entry["actor"]["org_code"] == DEPT


def _revoke(http, world, gid):
    assert http.delete(f"/api/v1/grants/{gid}", headers=world.person_h).status_code == 200


# scenario: (grant changes, what happens before, retrieval changes, who asks, expected reason)
REFUSALS = {
    "revoked": ({}, "revoke", {}, "dept", "grant-revoked"),
    "expired": ({}, "expire", {}, "dept", "grant-expired"),
    "used-up": ({"max_uses": 1}, "use", {}, "dept", "grant-used-up"),
    "other-department": ({}, None, {}, "other", "grant-not-found"),
    "granted-to-other-department": ({"grantee_org": OTHER_DEPT}, None, {}, "dept", "grant-not-found"),
    "other-matter": ({}, None, {"matter_code": "310000-000-0002"}, "dept", "grant-other-matter"),
    "other-type": ({"licence_type": "marriage_certificate"}, None, {}, "dept", "grant-other-type"),
    "other-holder": ({}, None, {"holder_code": STRANGER}, "dept", "grant-other-holder"),
    "unknown-grant": (None, None, {"grant_id": "grt_" + "A" * 22}, "dept", "grant-not-found"),
}


@pytest.mark.parametrize("scenario", list(REFUSALS))
def test_refused_retrievals_are_audited(http, ctx, parties, clock, scenario):
    world = parties  # no licences needed: refusals are decided before any licence is looked up
    grant_changes, before_step, changes, who, reason = REFUSALS[scenario]
    gid = _grant(http, ctx, world, **grant_changes) if grant_changes is not None else None
    if before_step == "revoke":
        _revoke(http, world, gid)
    elif before_step == "expire":
        clock.advance(days=7, seconds=1)
    elif before_step == "use":
        # a verification-only answer ("no valid licence") uses the grant too
        assert http.post("/api/v1/retrievals", json=retrieval_body(gid, want="verify"),
                         headers=world.dept_h).json()["valid"] is False
    headers = world.dept_h if who == "dept" else world.other_h
    uses = _uses_left(ctx, gid) if gid else None
    count = audit_count(ctx)
    resp = http.post("/api/v1/retrievals", json=retrieval_body(**{"grant_id": gid, **changes}),
                     headers=headers)
    body = problem(resp, 403, "retrieval-refused")
    assert body["reason"] == reason and body["detail"] and body["detail_zh"]
    assert PERSON not in resp.text
    assert audit_count(ctx) == count + 1
    entry = _last_entry(ctx)
    assert (entry["outcome"], entry["detail"]["reason"], entry["licence_id"]) == ("denied", reason, None)
    assert entry["grant_id"] == changes.get("grant_id", gid) and entry["purpose"] == changes.get("matter_code", MATTER)
    assert entry["actor"]["org_code"] == (DEPT if who == "dept" else OTHER_DEPT)
    if gid:
        assert _uses_left(ctx, gid) == uses  # a refusal takes no use


def test_legal_basis_retrieval_of_the_pdf_records_the_basis(http, ctx, world):
    r = http.post("/api/v1/retrievals", headers=world.dept_h, json=retrieval_body(
        legal_basis=LEGAL_BASIS, want="pdf", holder_code="91310000MA00000012", holder_code_type="001",
        licence_type="business_licence"))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/pdf" and r.content.startswith(b"%PDF-")
    assert r.headers["x-licence-id"] == world.business
    with ctx.unit_of_work() as s:
        assert r.content == lifecycle.load_version(s, world.business).pdf
    entry = _last_entry(ctx)
    assert (entry["action"], entry["legal_basis"], entry["grant_id"], entry["licence_id"]) == (
        "licence.file", LEGAL_BASIS, None, world.business)


def test_verification_only_answers_without_the_licence_content(http, ctx, world):
    gid = _grant(http, ctx, world)
    r = http.post("/api/v1/retrievals", json=retrieval_body(gid, want="verify"), headers=world.dept_h)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["valid"] is True
    [item] = body["licences"]
    assert item["identifier"] == world.driving and item["signature_valid"] and item["status"] == "active"
    assert "张三" not in r.text and PERSON not in r.text and "signed_record" not in item
    assert _last_entry(ctx)["action"] == "licence.verify"
    # a suspended licence is reported, and is not valid
    lic_actor = _issuer(world)
    with ctx.unit_of_work() as s:
        lifecycle.suspend(ctx, s, world.driving, lic_actor, "核查")
    r = http.post("/api/v1/retrievals", headers=world.dept_h,
                  json=retrieval_body(legal_basis=LEGAL_BASIS, want="verify"))
    assert r.json()["valid"] is False and r.json()["licences"][0]["status"] == "suspended"


def _issuer(world):
    from license_svc.auth.clients import Client
    from tests.support.issuing import TRAFFIC_SH

    return Client(client_id=f"test-issuer-{TRAFFIC_SH}", name="审批", org_code=TRAFFIC_SH, region="sh",
                  roles=frozenset({"issuer"}), licence_types=("driving_licence",))


def test_no_licence_is_a_404_audited_and_takes_no_use(http, ctx, world):
    gid = _grant(http, ctx, world, licence_type="marriage_certificate")
    body = problem(http.post("/api/v1/retrievals", headers=world.dept_h,
                             json=retrieval_body(gid, licence_type="marriage_certificate")),
                   404, "retrieval-no-licence")
    assert body["detail"]
    entry = _last_entry(ctx)
    assert (entry["outcome"], entry["grant_id"]) == ("not_found", gid)
    assert _uses_left(ctx, gid) == 1
    # verification-only: "no valid licence" is the answer (and uses the grant)
    r = http.post("/api/v1/retrievals", headers=world.dept_h,
                  json=retrieval_body(gid, licence_type="marriage_certificate", want="verify"))
    assert r.status_code == 200 and r.json()["valid"] is False and r.json()["licences"] == []
    assert _uses_left(ctx, gid) == 0


def test_amended_licence_is_still_covered_by_a_one_licence_grant(http, ctx, world):
    gid = _grant(http, ctx, world, licence_type=..., licence_id=world.driving)
    with ctx.unit_of_work() as s:
        record = json.loads(lifecycle.load_version(s, world.driving).record)
        new = amend.amend(ctx, s, world.driving, _issuer(world), {"holders": record["holders"]}, "换证").identifier
    r = http.post("/api/v1/retrievals", json=retrieval_body(gid), headers=world.dept_h)
    assert [x["identifier"] for x in r.json()["licences"]] == [new]
    # and a one-licence grant refuses a request naming another licence of the type
    gid2 = _grant(http, ctx, world, licence_type=..., licence_id=new)
    p = parse_identifier(new)
    other = str(make_identifier(p.type_code, p.issuer_code, "SH2026999999"))  # same type, other serial
    body = problem(http.post("/api/v1/retrievals", json=retrieval_body(gid2, licence_id=other),
                             headers=world.dept_h), 403, "retrieval-refused")
    assert body["reason"] == "grant-other-licence"


@pytest.mark.parametrize("changes", [
    {"holder_code": "310101199003071231"},               # wrong check digit
    {"holder_code_type": "001"},                          # an ID number is not a USCC
    {"holder_code": 310101199003071230},
    {"matter_code": ""},
    {"licence_type": "passport"},
    {"want": "everything"},
    {"grant_id": "grt_x", "legal_basis": LEGAL_BASIS},
    {"grant_id": "not-a-grant"},
    {"legal_basis": "依法"},                              # too short to name a basis
    {"operator": "王五 310101199003071230"},              # an ID number in free text
    {"legal_basis": "协查 110105194912310037 一案"},
    {"extra": True},
])
def test_invalid_requests_are_422_and_audited_without_the_code(http, ctx, parties, changes):
    count = audit_count(ctx)
    body = problem(http.post("/api/v1/retrievals", json=retrieval_body(**changes), headers=parties.dept_h),
                   422, "retrieval-invalid")
    assert PERSON not in json.dumps(body) and "310101199003071231" not in json.dumps(body)
    rows = audit_rows(ctx)
    assert len(rows) == count + 1
    entry = json.loads(rows[-1][1])
    assert entry["outcome"] == "invalid" and entry["licence_id"] is None
    assert b"31010119900307123" not in rows[-1][1] and b"110105194912310037" not in rows[-1][1]


def test_only_relying_departments_retrieve(http, ctx, parties):
    problem(http.post("/api/v1/retrievals", json=retrieval_body(legal_basis=LEGAL_BASIS),
                      headers=parties.person_h), 403, "forbidden")
    problem(http.post("/api/v1/retrievals", json=retrieval_body(legal_basis=LEGAL_BASIS)), 401, "unauthorized")


def test_holder_code_never_reaches_the_logs(http, ctx, world, caplog):
    gid = _grant(http, ctx, world)
    with caplog.at_level(logging.DEBUG):
        http.post("/api/v1/retrievals", json=retrieval_body(gid), headers=world.dept_h)
        http.post("/api/v1/retrievals", json=retrieval_body(gid), headers=world.dept_h)  # refused
    text = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert "/api/v1/retrievals" in text  # the access log did see the requests
    assert PERSON not in text
    with ctx.unit_of_work() as s:
        assert s.scalar(select(Grant.uses_left).where(Grant.id == gid)) == 0

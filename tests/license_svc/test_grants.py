"""Grants from the holder's side: create, list, read, revoke — each change audited with the
holder's keyed reference only; bad requests refused with nothing written."""

from __future__ import annotations

import json
import pytest
from sqlalchemy import func, select

from license_svc import audit
from license_svc.grants.models import Grant
from tests.support.grants import (COMPANY, DEPT, MATTER, OTHER_DEPT, PERSON, audit_count,
                                  audit_rows, grant_body, problem)

__all__ = ["http", "parties", "world"]  # fixtures


def _grants(ctx) -> int:
    with ctx.unit_of_work() as s:
        return s.scalar(select(func.count()).select_from(Grant))


def test_holder_creates_lists_and_revokes_a_grant_each_change_audited(http, ctx, world, clock):
    before = audit_count(ctx)
    r = http.post("/api/v1/grants", json=grant_body(ctx, max_uses=3), headers=world.person_h)
    assert r.status_code == 201, r.text
    g = r.json()
    assert g["id"].startswith("grt_") and r.headers["location"] == f"/api/v1/grants/{g['id']}"
    assert (g["status"], g["grantee_org"], g["licence_type"], g["matter_code"], g["uses_left"],
            g["max_uses"], g["holder_code_type"]) == ("active", DEPT, "driving_licence", MATTER, 3, 3, "111")
    assert PERSON not in r.text

    listed = http.get("/api/v1/grants", headers=world.person_h).json()["grants"]
    assert [x["id"] for x in listed] == [g["id"]]
    # the department sees the grants addressed to it; another department does not
    assert [x["id"] for x in http.get("/api/v1/grants", headers=world.dept_h).json()["grants"]] == [g["id"]]
    assert http.get("/api/v1/grants", headers=world.other_h).json()["grants"] == []
    assert http.get(f"/api/v1/grants/{g['id']}", headers=world.dept_h).json()["id"] == g["id"]
    problem(http.get(f"/api/v1/grants/{g['id']}", headers=world.other_h), 404, "grant-not-found")
    problem(http.get(f"/api/v1/grants/{g['id']}", headers=world.company_h), 404, "grant-not-found")

    clock.advance(minutes=5)
    r = http.delete(f"/api/v1/grants/{g['id']}", headers=world.person_h)
    assert r.status_code == 200 and r.json()["status"] == "revoked" and r.json()["revoked_at"]
    again = http.post(f"/api/v1/grants/{g['id']}/revoke", headers=world.person_h)
    assert again.status_code == 200 and again.json()["revoked_at"] == r.json()["revoked_at"]
    assert http.get("/api/v1/grants?status=active", headers=world.person_h).json()["grants"] == []

    rows = audit_rows(ctx)[before:]
    entries = [json.loads(leaf) for _, leaf in rows]
    assert [e["action"] for e in entries] == ["grant.create", "grant.revoke"]  # one revoke entry
    ref = audit.holder_reference(ctx, PERSON)
    for e in entries:
        assert (e["holder_ref"], e["grant_id"], e["purpose"], e["outcome"]) == (ref, g["id"], MATTER, "success")
        assert e["actor"]["client_id"] == world.person.client_id
    assert entries[0]["detail"] == {"grantee_org": DEPT, "grantee_region": "sh",
                                    "type_code": "11100000MB0000002X001",
                                    "valid_until": g["valid_until"], "max_uses": 3}
    assert all(PERSON.encode() not in leaf for _, leaf in rows)


def test_company_grants_one_licence(http, ctx, world):
    r = http.post("/api/v1/grants", headers=world.company_h, json=grant_body(
        ctx, licence_type=..., licence_id=world.business, grantee_org=OTHER_DEPT, max_uses=None))
    assert r.status_code == 201, r.text
    g = r.json()
    assert (g["licence_type"], g["licence_id"], g["holder_code_type"], g["max_uses"], g["uses_left"]) == \
        ("business_licence", world.business, "001", None, None)
    entry = json.loads(audit_rows(ctx)[-1][1])
    assert entry["licence_id"] == world.business and entry["actor"]["org_code"] == COMPANY


@pytest.mark.parametrize("changes, field", [
    (dict(grantee_org="91310000TEST00000X"), "grantee_org"),
    (dict(grantee_org=None), "grantee_org"),
    (dict(matter_code="事项 1"), "matter_code"),
    (dict(matter_code=...), "matter_code"),
    (dict(valid_until="2026-06-02T00:00:00"), "valid_until"),        # no time zone
    (dict(valid_until="2026-05-01T00:00:00Z"), "valid_until"),       # past
    (dict(valid_until="2027-06-03T00:00:00Z"), "valid_until"),       # > 366 days
    (dict(max_uses=0), "max_uses"),
    (dict(max_uses=True), "max_uses"),
    (dict(max_uses="1"), "max_uses"),
    (dict(licence_type="no_such_type"), "licence_type"),
    (dict(licence_type="business_licence"), "licence_type"),          # a person holds none
    (dict(licence_type=...), "licence_type"),
    (dict(licence_id="1.2.156.3005.2.bad"), "licence_id"),
    (dict(surprise=1), "unknown keys"),
])
def test_bad_grant_requests_write_nothing(http, ctx, parties, changes, field):
    before = (audit_count(ctx), _grants(ctx))
    body = problem(http.post("/api/v1/grants", json=grant_body(ctx, **changes), headers=parties.person_h),
                   422, "grant-invalid")
    assert field in body["detail"] and body["detail_zh"]
    assert (audit_count(ctx), _grants(ctx)) == before


def test_a_grant_for_someone_elses_licence_is_refused_without_saying_whose(http, ctx, world):
    body = problem(http.post("/api/v1/grants", headers=world.person_h,
                             json=grant_body(ctx, licence_type=..., licence_id=world.business)),
                   422, "grant-invalid")
    assert "licence_id" in body["detail"]
    assert _grants(ctx) == 0


def test_only_holders_manage_grants(http, ctx, parties, make_api_client):
    problem(http.post("/api/v1/grants", json=grant_body(ctx), headers=parties.dept_h), 403, "forbidden")
    _, no_code = make_api_client(["citizen"], org_code="")
    problem(http.post("/api/v1/grants", json=grant_body(ctx), headers=no_code), 403, "grant-forbidden")
    gid = http.post("/api/v1/grants", json=grant_body(ctx), headers=parties.person_h).json()["id"]
    # another holder, and the department it was given to, cannot revoke it
    problem(http.delete(f"/api/v1/grants/{gid}", headers=parties.company_h), 404, "grant-not-found")
    problem(http.delete(f"/api/v1/grants/{gid}", headers=parties.dept_h), 403, "forbidden")
    problem(http.delete("/api/v1/grants/grt_nonexistent", headers=parties.person_h), 404, "grant-not-found")
    with ctx.unit_of_work() as s:
        assert s.get(Grant, gid).revoked_at is None


def test_grant_table_holds_no_holder_code(http, ctx, parties):
    http.post("/api/v1/grants", json=grant_body(ctx), headers=parties.person_h)
    with ctx.unit_of_work() as s:
        row = s.scalars(select(Grant)).one()
        values = [str(getattr(row, c.key)) for c in Grant.__table__.columns]
    assert row.holder_ref == audit.holder_reference(ctx, PERSON)
    assert not any(PERSON in v for v in values)


def test_expired_and_used_up_are_derived_states(http, ctx, parties, clock):
    gid = http.post("/api/v1/grants", json=grant_body(ctx), headers=parties.person_h).json()["id"]
    clock.advance(days=8)
    assert http.get(f"/api/v1/grants/{gid}", headers=parties.person_h).json()["status"] == "expired"
    assert http.get("/api/v1/grants?status=active", headers=parties.dept_h).json()["grants"] == []
    clock.advance(days=-8)
    assert http.get(f"/api/v1/grants/{gid}", headers=parties.person_h).json()["status"] == "active"


def test_demo_seed_leaves_an_access_log(http, ctx, parties, make_api_client):
    from license_svc.demo_seed import seed_demo

    make_api_client(["relying"], org_code=DEPT, client_id="sh-relying")
    seed_demo(ctx)
    seed_demo(ctx)  # idempotent
    with ctx.unit_of_work() as s:
        assert s.scalar(select(func.count()).select_from(Grant)) == 1
    items = http.get("/api/v1/holders/me/access-log", headers=parties.person_h).json()["entries"]
    seen = [(i["action"], i["outcome"], i["department"]["org_code"]) for i in items
            if not i["action"].startswith("licence.") or i["department"]["org_code"] == DEPT]
    # the demo issues one driving licence per holder (issue 16 item 4): one entry per retrieval
    assert seen == [("licence.verify", "success", DEPT), ("licence.retrieve", "denied", DEPT),
                    ("licence.retrieve", "success", DEPT), ("grant.create", "success", "citizen")]

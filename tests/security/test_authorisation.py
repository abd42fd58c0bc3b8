"""Authorisation attacks: one organisation or region acting on another's licences, relying
departments reading without a grant, citizens reading other holders' data, grant IDOR and grant
misuse, and clients calling routes of a role they do not hold.  Each test fails if the hole is
open: the attacker gets anything but a refusal, or the victim's data changes."""

from __future__ import annotations

from datetime import timedelta

import pytest

from license_svc.identifiers import make_identifier
from license_svc.licences import issue as issuing
from tests.support.grants import (COMPANY, DEPT, PERSON, grant_body, issue_licence,
                                  retrieval_body)
from tests.support.issuing import AMR_SH, CIVIL_SH, TRAFFIC_SH, example
from tests.security.support import audit_entries, new_entries, refused

JS_AMR = "11320000MB0000010E"   # 江苏省市场监督管理局 (an issuing organisation of region js)


def _status(http, ident, headers) -> str:
    return http.get(f"/api/v1/licences/{ident}", headers=headers).json()["status"]


# -- issuers -----------------------------------------------------------------------------------

def test_an_issuer_cannot_issue_another_organisations_types_or_in_its_name(http, ctx, issuers):
    amr_h = issuers[AMR_SH][1]
    before = len(audit_entries(ctx))
    # a type its organisation does not issue, in its own name
    refused(http.post("/api/v1/licences", json=example("driving_licence"), headers=amr_h), 403,
            "issuer-authority")
    # the other organisation's type, in the other organisation's name
    refused(http.post("/api/v1/licences", json=example("driving_licence", issuer_code=TRAFFIC_SH),
                      headers=amr_h), 403, "issuer-authority")
    refused(http.post("/api/v1/licences/batch", json=[example("business_licence"),
                                                      example("marriage_certificate")],
                      headers=amr_h), 403, "issuer-authority")
    assert len(audit_entries(ctx)) == before  # nothing issued


@pytest.mark.parametrize("region, org", [("js", JS_AMR), ("sh", JS_AMR), ("js", AMR_SH)])
def test_an_issuer_of_another_region_cannot_issue_here(http, ctx, make_api_client, region, org):
    actor, headers = make_api_client(["issuer"], org_code=org, region=region)
    # Another region's client is refused at authentication; a client of this region naming
    # another region's organisation, by issuance itself — and so is the former, called directly.
    status, slug = (401, "client-other-region") if region != "sh" else (403, "issuer-authority")
    refused(http.post("/api/v1/licences", json=example("business_licence", issuer_code=org),
                      headers=headers), status, slug)
    with pytest.raises(issuing.IssuerAuthorityError):
        issuing.issue(ctx, actor, example("business_licence", issuer_code=org))


def test_an_issuer_cannot_change_another_organisations_licence(http, ctx, issuers, make_api_client):
    amr, amr_h = issuers[AMR_SH]
    ident = issuing.issue(ctx, amr, example("business_licence")).identifiers[0]
    attackers = [issuers[TRAFFIC_SH][1],
                 make_api_client(["issuer"], org_code=AMR_SH, region="js")[1],  # same org code, other region
                 make_api_client(["issuer", "citizen"], org_code=CIVIL_SH, holder_code=COMPANY)[1]]
    for headers in attackers:
        for action, body in (("suspend", {"reason": "x"}), ("revoke", {"reason": "x"}),
                             ("amend", {"changes": {"fields": {"address": "上海市黄浦区1号"}},
                                        "reason": "x"})):
            refused(http.post(f"/api/v1/licences/{ident}/{action}", json=body, headers=headers),
                    (401, 403))  # the js client: 401 client-other-region, at authentication
    assert _status(http, ident, amr_h) == "active"
    for suffix in ("", "/pdf", "/qr"):  # nor read it: another org's issuer is no reader of it
        refused(http.get(f"/api/v1/licences/{ident}{suffix}", headers=attackers[0]), 403)
    with ctx.unit_of_work() as s:  # still one version: no amendment slipped through
        from license_svc.licences.models import LicenceVersion
        from sqlalchemy import func, select
        assert s.scalar(select(func.count()).select_from(LicenceVersion)) == 1
    # and a suspended licence cannot be reinstated by them either
    http.post(f"/api/v1/licences/{ident}/suspend", json={"reason": "核查"}, headers=amr_h)
    for headers in attackers:
        refused(http.post(f"/api/v1/licences/{ident}/reinstate", json={}, headers=headers),
                (401, 403))
    assert _status(http, ident, amr_h) == "suspended"


def test_a_narrowed_issuer_cannot_change_types_it_may_not_issue(http, ctx, issuers, make_api_client):
    """An approval system narrowed to business licences could suspend and revoke its
    organisation's food licences (the change check ignored the client's licence_types)."""
    amr = issuers[AMR_SH][0]
    food = issuing.issue(ctx, amr, example("food_business_licence")).identifiers[0]
    _, narrowed = make_api_client(["issuer"], org_code=AMR_SH, licence_types=["business_licence"])
    refused(http.post("/api/v1/licences", json=example("food_business_licence"), headers=narrowed),
            403, "issuer-authority")  # issuing is refused (holds today) ...
    for action in ("suspend", "revoke"):  # ... and so must be changing
        refused(http.post(f"/api/v1/licences/{food}/{action}", json={"reason": "x"}, headers=narrowed),
                403, "issuer-authority")
    refused(http.post(f"/api/v1/licences/{food}/amend", headers=narrowed,
                      json={"changes": {"fields": {}}, "reason": "x"}), 403, "issuer-authority")
    assert http.get(f"/api/v1/licences/{food}", headers=issuers[AMR_SH][1]).json()["status"] == "active"


def test_seal_of_one_organisation_cannot_be_used_by_another(http, ctx, issuers):
    amr = issuers[AMR_SH][0]
    issuing.issue(ctx, amr, example("business_licence"))  # makes the AMR licence seal
    seals = http.get(f"/api/v1/seals?org_code={AMR_SH}", headers=issuers[AMR_SH][1]).json()
    assert seals
    refused(http.post(f"/api/v1/seals/{seals[0]['id']}/sign", content=b"document",
                      headers=issuers[TRAFFIC_SH][1]), 403, "seal-forbidden")


# -- role confusion ------------------------------------------------------------------------------

ISSUER_ROUTES = [("post", "/api/v1/licences", {"json": {}}), ("post", "/api/v1/licences/batch", {"json": []}),
                 ("post", "/api/v1/licences/{id}/suspend", {"json": {}}),
                 ("post", "/api/v1/licences/{id}/reinstate", {"json": {}}),
                 ("post", "/api/v1/licences/{id}/revoke", {"json": {"reason": "x"}}),
                 ("post", "/api/v1/licences/{id}/amend", {"json": {"changes": {}}})]
ADMIN_ROUTES = [("post", "/api/v1/seals", {"json": {"org_code": AMR_SH, "name": "章"}}),
                ("post", "/api/v1/seals/x/suspend", {"json": {}}),
                ("post", "/api/v1/seals/x/revoke", {"json": {}}),
                ("post", "/api/v1/audit/checkpoint", {})]
AUDITOR_ROUTES = [("get", "/api/v1/audit/search", {})]
CITIZEN_ROUTES = [("get", "/api/v1/holders/me/access-log", {}), ("post", "/api/v1/grants", {"json": {}}),
                  ("delete", "/api/v1/grants/grt_AAAAAAAAAAAAAAAAAAAAAA", {})]
RELYING_ROUTES = [("post", "/api/v1/retrievals", {"json": {}})]


@pytest.mark.parametrize("roles, routes", [
    (["citizen"], ISSUER_ROUTES + ADMIN_ROUTES + AUDITOR_ROUTES + RELYING_ROUTES),
    (["relying"], ISSUER_ROUTES + ADMIN_ROUTES + AUDITOR_ROUTES + CITIZEN_ROUTES),
    (["auditor"], ISSUER_ROUTES + ADMIN_ROUTES + CITIZEN_ROUTES + RELYING_ROUTES),
    (["issuer"], ADMIN_ROUTES + AUDITOR_ROUTES + CITIZEN_ROUTES + RELYING_ROUTES),
])
def test_role_confusion_is_403_before_anything_runs(http, ctx, make_api_client, roles, routes):
    _, headers = make_api_client(roles, org_code=AMR_SH, holder_code=PERSON if roles == ["citizen"] else None)
    before = len(audit_entries(ctx))
    for method, path, kwargs in routes:
        ident = str(make_identifier("11100000MB0000001T001", AMR_SH))  # refused before any lookup
        resp = getattr(http, method)(path.replace("{id}", ident), headers=headers, **kwargs)
        body = refused(resp, 403, "forbidden")
        assert body["required_roles"], (path, body)
    assert len(audit_entries(ctx)) == before


# -- readers ------------------------------------------------------------------------------------

def test_a_relying_department_cannot_read_a_licence_by_identifier(http, ctx, world):
    """免证办 only under a grant or legal basis (POST /retrievals); the identifier routes refuse,
    with or without a matter code, and each refused read is audited."""
    before = len(audit_entries(ctx))
    for suffix in ("", "/pdf", "/qr", "/qr?format=text"):
        for purpose in ("", "purpose=310000-000-0001"):
            sep = "&" if "?" in suffix else "?"
            url = f"/api/v1/licences/{world.driving}{suffix}" + (sep + purpose if purpose else "")
            body = refused(http.get(url, headers=world.dept_h), 403)
            assert PERSON not in str(body)
    denied = [e for e in new_entries(ctx, before) if e["outcome"] == "denied"]
    assert len(denied) == 8 and {e["actor"]["org_code"] for e in denied} == {DEPT}
    assert all(e["licence_id"] == world.driving and e["action"].startswith("licence.read.")
               for e in denied)


def test_a_citizen_cannot_read_another_holders_licence(http, ctx, world, make_api_client):
    _, stranger = make_api_client(["citizen"], org_code="", holder_code="11010519491231002X")
    before = len(audit_entries(ctx))
    for suffix in ("", "/pdf", "/qr"):
        refused(http.get(f"/api/v1/licences/{world.driving}{suffix}", headers=stranger), 403)
        refused(http.get(f"/api/v1/licences/{world.driving}{suffix}", headers=world.company_h), 403)
    assert [e["outcome"] for e in new_entries(ctx, before)] == ["denied"] * 6
    # the holder does read it
    assert http.get(f"/api/v1/licences/{world.driving}", headers=world.person_h).status_code == 200


def test_a_citizen_sees_only_their_own_access_log_and_audit_entries(http, ctx, world):
    # activity about the company: a grant and a retrieval of its licence
    gid = http.post("/api/v1/grants", json=grant_body(ctx, licence_type="business_licence"),
                    headers=world.company_h).json()["id"]
    r = http.post("/api/v1/retrievals", headers=world.dept_h, json=retrieval_body(
        gid, holder_code=COMPANY, holder_code_type="001", licence_type="business_licence"))
    assert r.status_code == 200, r.text
    entries = audit_entries(ctx)
    company_ref = next(e for _, e, _ in entries if e["grant_id"] == gid)["holder_ref"]
    company_idx = [i for i, e, _ in entries if e["holder_ref"] == company_ref]
    person_log = http.get("/api/v1/holders/me/access-log?limit=200", headers=world.person_h).json()
    assert {e["index"] for e in person_log["entries"]}.isdisjoint(company_idx)
    assert all(e["entry"]["holder_ref"] != company_ref for e in person_log["entries"])
    # entries by index: the company's are refused to the person, and to a department
    for idx in company_idx:
        refused(http.get(f"/api/v1/audit/entries/{idx}", headers=world.person_h), 403, "forbidden")
        refused(http.get(f"/api/v1/audit/entries/{idx}", headers=world.dept_h), 403, "forbidden")
        assert http.get(f"/api/v1/audit/entries/{idx}", headers=world.company_h).status_code == 200
        assert http.get(f"/api/v1/audit/entries/{idx}", headers=world.auditor_h).status_code == 200
    # the auditor's search is not open to holders or departments
    for h in (world.person_h, world.company_h, world.dept_h):
        refused(http.get("/api/v1/audit/search", headers=h), 403, "forbidden")


# -- grants: IDOR and misuse ----------------------------------------------------------------------

def _grant(http, ctx, headers, **changes) -> str:
    r = http.post("/api/v1/grants", json=grant_body(ctx, **changes), headers=headers)
    assert r.status_code == 201, r.text
    return r.json()["id"]


def test_grant_idor_another_holder_cannot_read_list_or_revoke(http, ctx, parties):
    world = parties  # no licence needed
    gid = _grant(http, ctx, world.person_h, max_uses=5)
    for h in (world.company_h, world.other_h):
        refused(http.get(f"/api/v1/grants/{gid}", headers=h), 404, "grant-not-found")
        assert gid not in http.get("/api/v1/grants", headers=h).text
    refused(http.delete(f"/api/v1/grants/{gid}", headers=world.company_h), 404, "grant-not-found")
    refused(http.post(f"/api/v1/grants/{gid}/revoke", headers=world.company_h), 404, "grant-not-found")
    # the department it is addressed to may read it but not revoke it (the holder's decision)
    assert http.get(f"/api/v1/grants/{gid}", headers=world.dept_h).status_code == 200
    refused(http.delete(f"/api/v1/grants/{gid}", headers=world.dept_h), 403, "forbidden")
    assert http.get(f"/api/v1/grants/{gid}", headers=world.person_h).json()["status"] == "active"


@pytest.mark.parametrize("attack, reason", [
    ("other-department", "grant-not-found"),
    ("other-matter", "grant-other-matter"),
    ("other-type", "grant-other-type"),
    ("other-holder", "grant-other-holder"),
    ("other-licence", "grant-other-licence"),
    ("expired", "grant-expired"),
    ("revoked", "grant-revoked"),
    ("used-up", "grant-used-up"),
    ("forged-id", "grant-not-found"),
    ("none", "no-grant-or-legal-basis"),
])
def test_a_grant_cannot_be_stretched(http, ctx, parties, clock, attack, reason):
    """Refusals come before any licence is looked up, so only two attacks need one issued."""
    world = parties
    if attack in ("used-up", "other-licence"):
        world.driving = issue_licence(ctx, "driving_licence", TRAFFIC_SH, ["driving_licence"])
    gid = _grant(http, ctx, world.person_h, max_uses=1, valid_until=(ctx.now() + timedelta(days=1)).isoformat())
    body, headers = retrieval_body(gid), world.dept_h
    if attack == "other-department":
        headers = world.other_h
    elif attack == "other-matter":
        body["matter_code"] = "310000-000-0002"  # on the scenario list, but not the grant's
    elif attack == "other-type":
        body["licence_type"] = "business_licence"
    elif attack == "other-holder":
        body["holder_code"] = "11010519491231002X"
    elif attack == "other-licence":
        gid = _grant(http, ctx, world.person_h, licence_type=..., licence_id=world.driving)
        other = make_identifier("11100000MB0000002X001", TRAFFIC_SH)
        body = retrieval_body(gid, licence_id=str(other))
    elif attack == "expired":
        clock.advance(days=1)
    elif attack == "revoked":
        assert http.delete(f"/api/v1/grants/{gid}", headers=world.person_h).status_code == 200
    elif attack == "used-up":
        assert http.post("/api/v1/retrievals", json=body, headers=headers).status_code == 200
    elif attack == "forged-id":
        body["grant_id"] = gid[:-2] + ("AA" if gid[-2:] != "AA" else "BB")
    elif attack == "none":
        del body["grant_id"]
    before = len(audit_entries(ctx))
    resp = http.post("/api/v1/retrievals", json=body, headers=headers)
    problem = refused(resp, 403, "retrieval-refused")
    assert problem["reason"] == reason
    assert PERSON not in resp.text and "signed_record" not in resp.text
    [entry] = new_entries(ctx, before)  # the refusal is itself audited
    assert (entry["outcome"], entry["detail"]["reason"]) == ("denied", reason)


def test_a_department_cannot_create_grants_for_itself(http, ctx, world, make_api_client):
    """Only the holder's own client grants: a department with a citizen role but no holder code,
    or a holder naming another holder's licence, is refused."""
    _, dept_citizen = make_api_client(["relying", "citizen"], org_code=DEPT)
    refused(http.post("/api/v1/grants", json=grant_body(ctx), headers=dept_citizen), 403, "grant-forbidden")
    resp = http.post("/api/v1/grants", headers=world.company_h,
                     json=grant_body(ctx, licence_type=..., licence_id=world.driving))
    refused(resp, 422)
    assert world.driving not in http.get("/api/v1/grants", headers=world.dept_h).text

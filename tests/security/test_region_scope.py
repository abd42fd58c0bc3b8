"""Clients belong to a region, an organisation and licence types (issue 12): a node serves only
its own region's clients, and read, seal, audit and admin rights stop at the client's
organisation and licence types (docs/authorisation.md, "Who may do what").

Each test fails if a boundary is open: js's clients acting on the sh node, a client narrowed to
one licence type reading, changing or stamping another, an organisation-bound client touching
another organisation's licences or seals, an auditor seeing beyond its scope."""

from __future__ import annotations

import re

import pytest
from fastapi.routing import APIRoute

from license_svc.licences import issue as issuing
from license_svc.web.auth import current_client
from tests.security.support import audit_entries, refused
from tests.support.grants import PERSON
from tests.support.issuing import AMR_SH, TRAFFIC_SH, example, row_counts

JS_AMR = "11320000MB0000010E"
ALL_ROLES = ["issuer", "relying", "citizen", "auditor", "admin"]
# Routes that need no API key: liveness and metrics, the public trust material and federation
# lists, the TSA, signed status (peers and verifiers of every region read them), the audit
# log's hashes, and the pages (static HTML; their data comes from the authenticated API).
PUBLIC = {
    ("GET", "/healthz"), ("GET", "/readyz"), ("GET", "/metrics"),
    ("GET", "/api/v1/pki"), ("GET", "/api/v1/trust-list"), ("GET", "/api/v1/federation"),
    ("GET", "/api/v1/scenarios"), ("GET", "/api/v1/scenarios/signed"),
    ("POST", "/api/v1/tsa"),
    ("GET", "/api/v1/licences/{identifier}/status"), ("GET", "/api/v1/status-lists/{issuer}"),
    ("GET", "/api/v1/audit/checkpoint"), ("GET", "/api/v1/audit/proof/inclusion"),
    ("GET", "/api/v1/audit/proof/consistency"),
    # a witness delivers its cosignature unauthenticated; it is checked against the trust lists
    ("POST", "/api/v1/audit/cosignature"),
    ("POST", "/api/v1/federation/retrievals"),  # node-signed (Licence-Node-Request), no key
    ("GET", "/"), ("GET", "/wallet"), ("GET", "/verify"), ("GET", "/console"),
    # the API documentation pages (their scripts come from the package, not a CDN)
    ("GET", "/docs"), ("GET", "/docs/oauth2-redirect"), ("GET", "/redoc"),
    # node to node, authenticated by a signed node request instead of a key (disputes)
    ("POST", "/api/v1/federation/disputes"), ("POST", "/api/v1/federation/disputes/{dispute_id}/outcome"),
    # sign-in through the identity provider: before there is anyone to authenticate (logout
    # ends only the session of the cookie it is sent with; the probe says only whether it has one)
    ("GET", "/auth/login"), ("GET", "/auth/callback"), ("POST", "/auth/logout"),
    ("GET", "/auth/session"),
}


def _api_routes(routes):
    """Every APIRoute the app serves, through included routers (FastAPI wraps them)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        inner = getattr(route, "original_router", None)
        if inner is not None:
            yield from _api_routes(inner.routes)


def _needs_key(dependant) -> bool:
    return any(d.call is current_client or _needs_key(d) for d in dependant.dependencies)


def _routes(app):
    seen = set()
    for route in _api_routes(app.routes):
        for method in sorted(route.methods - {"HEAD"}):
            if (method, route.path) not in seen:
                seen.add((method, route.path))
                yield method, route.path, _needs_key(route.dependant)


@pytest.fixture
def sh_world(ctx, issuers, make_api_client):
    """One sh licence of each of two organisations, a seal, and a js client holding every role
    (with sh's AMR code and a sh holder's code, so only the region tells it apart)."""
    amr = issuers[AMR_SH][0]
    business = issuing.issue(ctx, amr, example("business_licence")).identifiers[0]
    traffic = issuers[TRAFFIC_SH][0]
    driving = issuing.issue(ctx, traffic, example("driving_licence", issuer_code=TRAFFIC_SH)
                            ).identifiers[0]
    from sqlalchemy import select
    from license_svc.seals.models import SealRow
    with ctx.unit_of_work() as s:
        seal = s.scalars(select(SealRow).where(SealRow.org_code == AMR_SH)).first().es_id
    _, js = make_api_client(ALL_ROLES, org_code=AMR_SH, region="js", holder_code=PERSON,
                            name="江苏全能客户端")
    return {"business": business, "driving": driving, "seal": seal, "js": js}


def _path(path: str, world) -> str:
    values = {"identifier": world["driving"], "es_id": world["seal"], "grant_id": "grt_x",
              "issuer": TRAFFIC_SH, "index": "0",
              "dispute_id": "00000000-0000-4000-8000-000000000000"}
    return re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], path)


def test_every_route_refuses_a_client_of_another_region(app, http, ctx, sh_world):
    """Generated from the app's router: a route added later is covered without editing this."""
    routes = list(_routes(app))
    public = {(m, p) for m, p, needs in routes if not needs}
    assert public == PUBLIC, f"a route without authentication appeared or went: {public ^ PUBLIC}"
    before = row_counts(ctx)
    checked = 0
    for method, path, needs in routes:
        if not needs:
            continue
        resp = http.request(method, _path(path, sh_world), headers=sh_world["js"],
                            json={"reason": "x", "changes": {"fields": {}}})
        body = refused(resp, 401, "client-other-region")
        assert "federation" in body["detail"], body
        assert body["title_zh"] and body["title_en"]
        checked += 1
    assert checked >= 25, checked
    assert row_counts(ctx) == before  # refused before anything was read, written or audited


def test_the_issue_12_scenario_js_admin_and_auditor_on_the_sh_node(http, ctx, sh_world,
                                                                   make_api_client):
    _, js_admin = make_api_client(["admin"], org_code="12320000MB00001000", region="js")
    _, js_auditor = make_api_client(["auditor"], org_code="11320000MB00004004", region="js")
    refused(http.get(f"/api/v1/licences/{sh_world['driving']}", headers=js_admin), 401,
            "client-other-region")
    refused(http.post("/api/v1/seals", headers=js_admin,
                      json={"org_code": AMR_SH, "name": "合同专用章", "type": 3}), 401)
    refused(http.post(f"/api/v1/seals/{sh_world['seal']}/revoke", headers=js_admin, json={}), 401)
    refused(http.post(f"/api/v1/seals/{sh_world['seal']}/sign", headers=js_admin,
                      content=b"doc"), 401)
    refused(http.get("/api/v1/audit/search", headers=js_auditor), 401, "client-other-region")
    refused(http.get("/api/v1/audit/entries/0", headers=js_auditor), 401)


def test_a_client_narrowed_to_one_type_cannot_read_change_or_stamp_another(http, ctx, issuers,
                                                                          make_api_client):
    amr = issuers[AMR_SH][0]
    food = issuing.issue(ctx, amr, example("food_business_licence")).identifiers[0]
    business = issuing.issue(ctx, amr, example("business_licence")).identifiers[0]
    _, narrow = make_api_client(["issuer"], org_code=AMR_SH, licence_types=["business_licence"])
    assert http.get(f"/api/v1/licences/{business}", headers=narrow).status_code == 200
    for suffix in ("", "/pdf", "/qr"):
        refused(http.get(f"/api/v1/licences/{food}{suffix}", headers=narrow), 403, "issuer-authority")
    for action, body in (("suspend", {"reason": "x"}), ("revoke", {"reason": "x"}),
                         ("amend", {"changes": {"fields": {"address": "上海市黄浦区1号"}}})):
        refused(http.post(f"/api/v1/licences/{food}/{action}", json=body, headers=narrow), 403,
                "issuer-authority")
    listed = http.get("/api/v1/issuers/me/licences", headers=narrow).json()["licences"]
    assert {i["identifier"] for i in listed} == {business}
    # The organisation's seal: a narrowed client stamps only inside issuance of its own types.
    seal = http.get("/api/v1/seals", headers=issuers[AMR_SH][1]).json()[0]["id"]
    refused(http.post(f"/api/v1/seals/{seal}/sign", headers=narrow, content=b"doc"), 403,
            "seal-forbidden")


def test_an_org_bound_client_cannot_touch_another_orgs_licences_or_seals(http, ctx, sh_world,
                                                                        issuers, make_api_client):
    _, amr_admin = make_api_client(["admin"], org_code=AMR_SH)  # the AMR's own administrator
    _, regional = make_api_client(["admin"])                    # the region's operator
    traffic_h = issuers[TRAFFIC_SH][1]
    traffic_seal = http.post("/api/v1/seals", headers=regional, json={
        "org_code": TRAFFIC_SH, "name": "合同专用章", "type": 3}).json()["id"]
    # Licences: the AMR's admin reads the AMR's, not the police's (driving licence numbers).
    assert http.get(f"/api/v1/licences/{sh_world['business']}", headers=amr_admin).status_code == 200
    refused(http.get(f"/api/v1/licences/{sh_world['driving']}", headers=amr_admin), 403)
    listed = http.get("/api/v1/issuers/me/licences", headers=amr_admin).json()["licences"]
    assert {i["identifier"] for i in listed} == {sh_world["business"]}
    # Seals: makes and manages its own organisation's only, and stamps with no other's.
    refused(http.post("/api/v1/seals", headers=amr_admin,
                      json={"org_code": TRAFFIC_SH, "name": "公章", "type": 1}), 403, "seal-forbidden")
    refused(http.post(f"/api/v1/seals/{traffic_seal}/suspend", headers=amr_admin, json={}), 403,
            "seal-forbidden")
    refused(http.post(f"/api/v1/seals/{traffic_seal}/sign", headers=amr_admin, content=b"d"), 403,
            "seal-forbidden")
    refused(http.post(f"/api/v1/seals/{traffic_seal}/sign", headers=issuers[AMR_SH][1],
                      content=b"d"), 403, "seal-forbidden")
    assert http.post("/api/v1/seals", headers=amr_admin,
                     json={"org_code": AMR_SH, "name": "合同专用章", "type": 3}).status_code == 201
    # Listing: an issuer sees its organisation's seals only, whatever it asks for.
    assert {s["org_code"] for s in http.get("/api/v1/seals", headers=traffic_h).json()} == {TRAFFIC_SH}
    assert http.get(f"/api/v1/seals?org_code={AMR_SH}", headers=traffic_h).json() == []
    assert {s["org_code"] for s in http.get("/api/v1/seals", headers=regional).json()} \
        == {AMR_SH, TRAFFIC_SH}
    # The region's operator manages every seal of the region but stamps with none of them.
    assert http.post(f"/api/v1/seals/{traffic_seal}/suspend", headers=regional,
                     json={}).status_code == 200
    refused(http.post(f"/api/v1/seals/{sh_world['seal']}/sign", headers=regional, content=b"d"),
            403, "seal-forbidden")


def test_an_auditor_searches_only_its_scope(http, ctx, sh_world, make_api_client):
    _, regional = make_api_client(["auditor"], org_code="11310000MB00004000")
    _, amr_auditor = make_api_client(["auditor"], org_code=AMR_SH)
    everything = http.get("/api/v1/audit/search?limit=200", headers=regional).json()["entries"]
    assert any(sh_world["driving"] == e["entry"]["licence_id"] for e in everything)
    own = http.get("/api/v1/audit/search?limit=200", headers=amr_auditor).json()["entries"]
    assert own, "the AMR's auditor sees its organisation's entries"
    for e in own:
        assert e["entry"]["actor"]["org_code"] == AMR_SH or \
            f".{AMR_SH}." in (e["entry"]["licence_id"] or ""), e["entry"]
    # Asking for another organisation's licence by name finds nothing.
    found = http.get(f"/api/v1/audit/search?licence={sh_world['driving']}", headers=amr_auditor)
    assert found.json()["entries"] == []
    entry = next(e for e in everything if e["entry"]["licence_id"] == sh_world["driving"])
    refused(http.get(f"/api/v1/audit/entries/{entry['index']}", headers=amr_auditor), 403)
    assert len(audit_entries(ctx)) > 0

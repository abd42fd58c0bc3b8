"""Real answers match docs/openapi.json: one walk through the API with real licences, grants,
seals and reports, each 2xx body (and a few problems) validated against the schema the document
gives its operation, status and media type.  schemathesis (.ci/api-contract) sends generated
requests, which mostly meet 4xx on routes that need an existing licence; this walk reaches the
success answers a client generator's types are for."""

from __future__ import annotations

import re

import jsonschema
import pytest

from license_svc.cli.openapi import openapi_document
from tests.support.grants import MATTER, PERSON, grant_body
from tests.support.issuing import AMR_SH, example


@pytest.fixture(scope="module")
def document() -> dict:
    return openapi_document()


def _operation(document: dict, method: str, path: str) -> dict:
    for template, item in document["paths"].items():
        pattern = "^" + re.sub(r"\\{[^}]+\\}", "[^/]+", re.escape(template)) + "$"
        if re.match(pattern, path) and method.lower() in item:
            return item[method.lower()]
    raise AssertionError(f"{method} {path} is not in the document")


def conforms(document: dict, response) -> None:
    """`response` matches what the document says its operation answers with this status."""
    request = response.request
    op = _operation(document, request.method, request.url.path)
    status = str(response.status_code)
    declared = op["responses"].get(status) or op["responses"].get(status[0] + "XX")
    assert declared is not None, f"{request.method} {request.url.path}: {status} undocumented"
    media = response.headers.get("content-type", "").split(";")[0].strip()
    content = declared.get("content", {})
    assert media in content or any(m.split(";")[0] == media for m in content), \
        f"{request.method} {request.url.path}: {status} {media} not among {list(content)}"
    schema = next(v["schema"] for m, v in content.items() if m.split(";")[0] == media)
    if media.endswith("json"):
        root = {**schema, "components": document["components"]}
        jsonschema.Draft202012Validator(root).validate(response.json())


def test_answers_conform(document, http, world, make_api_client):
    _, issuer = make_api_client(["issuer"], org_code=AMR_SH,
                                licence_types=["business_licence", "food_business_licence"])
    _, admin = make_api_client(["admin"])
    seen = []

    def check(response, status: int):
        assert response.status_code == status, response.text[:500]
        conforms(document, response)
        seen.append(response)
        return response

    for path in ("/healthz", "/readyz", "/api/v1/pki", "/api/v1/trust-list", "/metrics"):
        check(http.get(path), 200)
    check(http.post("/api/v1/audit/checkpoint", headers=admin), 200)
    check(http.get("/api/v1/audit/checkpoint"), 200)

    made = check(http.post("/api/v1/licences", json=example("food_business_licence"),
                           headers=issuer), 201).json()
    ident = made["identifier"]
    check(http.get(f"/api/v1/licences/{ident}", headers=issuer), 200)
    check(http.get(f"/api/v1/licences/{ident}/status"), 200)
    check(http.get(f"/api/v1/status-lists/{AMR_SH}"), 200)
    check(http.get(f"/api/v1/licences/{ident}/pdf", headers=issuer), 200)
    check(http.get(f"/api/v1/licences/{ident}/qr", headers=issuer), 200)
    check(http.get(f"/api/v1/licences/{ident}/qr?format=text", headers=issuer), 200)
    check(http.post(f"/api/v1/licences/{ident}/suspend", json={"reason": "年报核查"},
                    headers=issuer), 200)
    check(http.post(f"/api/v1/licences/{ident}/reinstate", headers=issuer), 200)
    amended = check(http.post(f"/api/v1/licences/{ident}/amend", headers=issuer, json={
        "changes": {"fields": {"complaint_hotline": "021-12315"}}, "reason": "电话变更"}), 201)
    check(http.post(f"/api/v1/licences/{amended.json()['identifier']}/revoke",
                    json={"reason": "依法吊销"}, headers=issuer), 200)
    check(http.get("/api/v1/issuers/me/licences", headers=issuer), 200)
    check(http.get("/api/v1/issuers/me/templates", headers=issuer), 200)
    check(http.get("/api/v1/me", headers=issuer), 200)

    el1 = http.get(f"/api/v1/licences/{world.driving}", headers=world.person_h).json()["el1"]
    check(http.post("/api/v1/verify", json={"qr": el1}, headers=world.dept_h), 200)
    check(http.post("/api/v1/verify", json={"qr": "EL1:nonsense"}, headers=world.dept_h), 200)
    check(http.get("/api/v1/holders/me/licences", headers=world.person_h), 200)
    shown = check(http.post(f"/api/v1/licences/{world.driving}/presentations",
                            headers=world.person_h), 201).json()
    check(http.post("/api/v1/verify", json={"qr": shown["text"]}, headers=world.dept_h), 200)

    grant = check(http.post("/api/v1/grants", json=grant_body(http.app.state.ctx, max_uses=2),
                            headers=world.person_h), 201).json()
    check(http.get("/api/v1/grants", headers=world.person_h), 200)
    check(http.get(f"/api/v1/grants/{grant['id']}", headers=world.dept_h), 200)
    for want in ("data", "verify"):
        check(http.post("/api/v1/retrievals", headers=world.dept_h, json={
            "holder_code": PERSON, "holder_code_type": "111", "licence_type": "driving_licence",
            "matter_code": MATTER, "grant_id": grant["id"], "want": want, "operator": "王五"}), 200)
    check(http.delete(f"/api/v1/grants/{grant['id']}", headers=world.person_h), 200)
    check(http.get("/api/v1/holders/me/access-log", headers=world.person_h), 200)
    check(http.get("/api/v1/audit/search?limit=5", headers=world.auditor_h), 200)
    check(http.get("/api/v1/audit/entries/0", headers=admin), 200)
    check(http.get("/api/v1/disputes", headers=admin), 200)
    check(http.get("/api/v1/federation/status", headers=admin), 200)

    seal = check(http.post("/api/v1/seals", headers=admin, json={
        "org_code": AMR_SH, "name": "合同专用章", "type": 3}), 201).json()
    check(http.get("/api/v1/seals", headers=admin), 200)
    check(http.get(f"/api/v1/seals/{seal['id']}", headers=admin), 200)
    check(http.post(f"/api/v1/seals/{seal['id']}/suspend", headers=admin, json={"reason": "停用"}), 200)
    esl = check(http.get(f"/api/v1/seals/{seal['id']}/seal.esl", headers=admin), 200).content
    check(http.post("/api/v1/verify/seal", content=esl, headers=admin), 200)

    # Problems: the declared problem+json shape, whatever the route.
    check(http.get(f"/api/v1/licences/{ident}"), 401)
    check(http.post("/api/v1/licences", json={"type": "no_such_type"}, headers=issuer), 422)
    check(http.get("/api/v1/grants/grt_none", headers=world.person_h), 404)
    assert len(seen) > 40

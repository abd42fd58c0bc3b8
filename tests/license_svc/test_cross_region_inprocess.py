"""Cross-region retrieval in process (issue 13): the zj node's app calls the js node's app
through the peer client (Starlette's test transport), so checks that need a changed world — a
licence type js does not recognise — run without real processes.  Both sides audit."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from license_svc.auth.clients import Client
from license_svc.grants import federated
from license_svc.web import create_app
from tests.support.grants import audit_rows, issue_licence

HOLDER = "310101199003071230"
TRAFFIC_JS = "11320000MB0000020F"
ZJ_DEPT = "11330000MB0000300J"
MATTER = "YRD000-003-0001"  # a Delta-wide matter (scenario list) accepting driving licences


@pytest.fixture
def pair(ctx_factory, settings_factory):
    js = ctx_factory(settings_factory("js"))
    js_http = TestClient(create_app(ctx=js))
    zj = ctx_factory(settings_factory("zj", peers={"js": "http://testserver"}),
                     peer_transport=js_http._transport)
    return js, zj


def _entries(ctx) -> list[dict]:
    return [json.loads(bytes(leaf)) for _, leaf in audit_rows(ctx)]


def test_a_type_js_does_not_recognise_is_refused_and_audited_on_both(pair, monkeypatch):
    js, zj = pair
    licence = issue_licence(js, "driving_licence", TRAFFIC_JS, ["driving_licence"])
    holder = Client("js-citizen", "持证人", None, "js", frozenset({"citizen"}), holder_code=HOLDER)
    from license_svc.grants import grants
    from license_svc.grants.auditing import audited_transaction
    with audited_transaction(js) as s:
        grant = grants.create_grant(js, s, holder, {
            "grantee_org": ZJ_DEPT, "grantee_region": "zj", "licence_type": "driving_licence",
            "matter_code": MATTER, "valid_until": (js.now() + timedelta(days=1)).isoformat()}).id
    dept = Client("zj-relying", "浙江省某局", ZJ_DEPT, "zj", frozenset({"relying"}))
    body = {"holder_code": HOLDER, "holder_code_type": "111", "licence_type": "driving_licence",
            "matter_code": MATTER, "grant_id": grant, "licence_id": licence}

    monkeypatch.setattr("license_svc.federation.publish.recognised_types", lambda *a: [])
    with pytest.raises(federated.RemoteAnswer) as exc:
        federated.retrieve_remote(zj, dept, body, federated.issuing_region(zj, body))
    assert exc.value.reason == "type-not-recognised" and exc.value.code == "retrieval-refused"
    [at_js] = [e for e in _entries(js) if e["action"] == "licence.retrieve"]
    [at_zj] = [e for e in _entries(zj) if e["action"] == "licence.retrieve"]
    for entry in (at_js, at_zj):
        assert entry["outcome"] == "denied" and entry["detail"]["reason"] == "type-not-recognised"
        assert entry["actor"]["org_code"] == ZJ_DEPT and entry["source_region"] == "zj"
    assert at_js["request_id"] == at_zj["request_id"]

    monkeypatch.undo()  # recognised again: the same request is served, the grant's use taken
    result = federated.retrieve_remote(zj, dept, body, "js")
    assert [item["identifier"] for item in result.licences] == [licence]


def test_a_grant_for_another_regions_department_is_not_usable_locally(pair):
    """The grant names the department's region: the same org code asking locally (or a node
    of a third region) is 'no such grant'; an unknown region is refused when granting."""
    js, _ = pair
    from license_svc.grants import grants, retrieval
    from license_svc.grants.auditing import audited_transaction
    from license_svc.grants.errors import GrantError, RetrievalRefused
    issue_licence(js, "driving_licence", TRAFFIC_JS, ["driving_licence"])
    holder = Client("js-citizen", "持证人", None, "js", frozenset({"citizen"}), holder_code=HOLDER)
    body = {"grantee_org": ZJ_DEPT, "grantee_region": "zj", "licence_type": "driving_licence",
            "matter_code": MATTER, "valid_until": (js.now() + timedelta(days=1)).isoformat()}
    with audited_transaction(js) as s:
        grant = grants.create_grant(js, s, holder, body)
        assert grants.grant_view(grant, js.now())["grantee_region"] == "zj"
        with pytest.raises(GrantError):
            grants.create_grant(js, s, holder, {**body, "grantee_region": "xx"})
    ask = {"holder_code": HOLDER, "holder_code_type": "111", "licence_type": "driving_licence",
           "matter_code": MATTER, "grant_id": grant.id}
    for region in ("js", "sh"):
        same_code = Client("dept", "某局", ZJ_DEPT, region, frozenset({"relying"}))
        with pytest.raises(RetrievalRefused) as exc:
            retrieval.retrieve(js, same_code, ask)
        assert exc.value.reason == "grant-not-found"
    zj_dept = Client("zj-relying", "浙江省某局", ZJ_DEPT, "zj", frozenset({"relying"}))
    assert retrieval.retrieve(js, zj_dept, ask).licences

"""The scenario list (应用场景清单) in the service: the development list covers every template
type in a matter all four regions offer; the routes (verified JSON, signed envelope with
ETag/304, 503 without a list); `license-svc trust-list show|verify|publish --scenarios`;
exported stores carrying scenarios.json; sync from a peer (httpx.MockTransport) with rollback
and tampering refused; and retrieval limited to listed matters and their types."""

from __future__ import annotations

import json
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select

from formats.canonical_json import canonical_json
from formats.envelope import sign_envelope
from license_svc.audit.models import AuditEntryRow
from license_svc.config import DEV_KEYS_DIR
from license_svc.federation import scenarios
from license_svc.federation.dev import REGION_ORDER, export_node_store, node_urls
from license_svc.federation.models import SyncedList
from license_svc.federation.peer_client import PeerClient
from license_svc.federation.publish import etag_of, scenario_content
from license_svc.federation.sync import pinned_roots, sync
from license_svc.licences.record import iso_time
from license_svc.templates import load_templates
from signing.keystore import KeyStore
from tests.license_svc.test_federation import cli  # noqa: F401 (the trust-list CLI fixture)
from tests.support.grants import PERSON, audit_count, problem, retrieval_body
from verification.report import TOTAL_PASSED
from verification.scenarios import SCENARIOS_SCHEMA, verify_scenario_list

LEGAL_BASIS = "《中华人民共和国行政许可法》第三十四条"


def test_dev_list_covers_every_template_type_in_a_matter_all_regions_offer():
    matters = scenario_content()["matters"]
    everywhere = {t for m in matters if set(REGION_ORDER) <= set(m["regions"])
                  for t in m["licence_types"]}
    types = {t.type_code for t in load_templates().values()}
    assert types <= everywhere, types - everywhere
    listed = {t for m in matters for t in m["licence_types"]}
    assert listed <= types, listed - types  # nothing names a type no template has
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in m["name"]) for m in matters)
    delta = [m["matter_code"] for m in matters if m["matter_code"].startswith("YRD000-")]
    assert len(delta) >= 4 and all(set(m["regions"]) == set(REGION_ORDER)
                                   for m in matters if m["matter_code"] in delta)


# -- routes -------------------------------------------------------------------------------------

def test_routes_serve_the_verified_and_the_signed_list(client, ctx):
    r = client.get("/api/v1/scenarios")
    assert r.status_code == 200, r.text
    listed = r.json()
    assert listed == sorted(scenario_content()["matters"], key=lambda m: m["matter_code"])
    assert set(listed[0]) == {"matter_code", "name", "licence_types", "regions"}
    assert r.headers["x-scenario-list-source"] == "published"

    signed = client.get("/api/v1/scenarios/signed")
    assert signed.status_code == 200 and signed.headers["etag"] == etag_of(signed.content)
    result = verify_scenario_list(signed.content, pinned_roots(ctx.keystore), ctx.now())
    assert result.ok and result.payload["schema"] == SCENARIOS_SCHEMA
    again = client.get("/api/v1/scenarios/signed", headers={"If-None-Match": signed.headers["etag"]})
    assert again.status_code == 304 and again.content == b""


@pytest.fixture
def exported_js(tmp_path, clock):
    out = tmp_path / "js-keys"
    export_node_store("js", out, node_urls(), now=clock())
    return out


def test_node_without_the_root_key_uses_the_file_and_503_without_it(exported_js, settings_factory,
                                                                     ctx_factory):
    from fastapi.testclient import TestClient

    from license_svc.web import create_app

    assert (exported_js / "scenarios.json").is_file()
    ctx = ctx_factory(settings_factory("js", keys_dir=exported_js, peers={}))
    with TestClient(create_app(ctx=ctx)) as http:
        r = http.get("/api/v1/scenarios")
        assert r.status_code == 200 and r.headers["x-scenario-list-source"] in ("file", "synced")
        assert http.get("/api/v1/scenarios/signed").content == (exported_js / "scenarios.json").read_bytes()

    (exported_js / "scenarios.json").unlink()
    with ctx.unit_of_work() as s:
        s.query(SyncedList).filter(SyncedList.kind == "scenarios").delete()
    with TestClient(create_app(ctx=ctx)) as http:
        r = http.get("/api/v1/scenarios")
        assert r.status_code == 503, r.text
        assert r.json()["type"] == "urn:license-svc:problem:scenario-list-unavailable"
        assert r.json()["title_zh"] and r.json()["title_en"]
        assert http.get("/api/v1/scenarios/signed").status_code == 404
    with pytest.raises(scenarios.ScenarioListUnavailable):
        scenarios.check_matter(ctx, "YRD000-003-0001", "11100000MB0000002X001", "js")


# -- sync from a peer ---------------------------------------------------------------------------

class ScenarioPeer:
    """js behind httpx.MockTransport, serving a scenario list signed by the dev federation root."""

    def __init__(self, ks, clock):
        self.ks, self.clock, self.sequence, self.tamper = ks, clock, 2_000_000_000, False
        self.requests: list[httpx.Request] = []

    def body(self) -> bytes:
        now = self.clock().replace(microsecond=0)
        payload = {"schema": SCENARIOS_SCHEMA, **scenario_content(), "sequence": self.sequence,
                   "issued_at": iso_time(now), "next_update": iso_time(now + timedelta(days=7))}
        root = self.ks.federation_root()
        envelope = sign_envelope(payload, root.key, root.cert)
        if self.tamper:
            envelope["payload"]["matters"][0]["regions"] = ["ah", "js", "sh", "zj"]
        return canonical_json(envelope)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.path != "/api/v1/scenarios/signed":
            return httpx.Response(404)
        body = self.body()
        return httpx.Response(200, content=body, headers={"ETag": etag_of(body)})


def test_sync_takes_the_list_from_a_peer_and_refuses_rollback_and_tampering(
        exported_js, settings_factory, ctx_factory, clock):
    (exported_js / "scenarios.json").unlink()  # only the peer has it
    ctx = ctx_factory(settings_factory("js", keys_dir=exported_js,
                                       peers={"sh": "http://sh.peer.test"}))
    peer = ScenarioPeer(KeyStore.load(DEV_KEYS_DIR), clock)  # the operator's root key

    def round_():
        with PeerClient(transport=httpx.MockTransport(peer.handle)) as client:
            return {(o.kind, o.region): o for o in sync(ctx, client=client)}[("scenarios", "federation")]

    got = round_()
    assert (got.outcome, got.sequence, got.url) == ("updated", peer.sequence,
                                                    "http://sh.peer.test/api/v1/scenarios/signed")
    assert any(r.url.path == "/api/v1/scenarios/signed" for r in peer.requests)
    assert scenarios.check_matter(ctx, "YRD000-003-0001", "11100000MB0000002X001", "js").name

    peer.sequence -= 1
    assert round_().outcome == "rejected"  # rollback
    peer.sequence += 2
    peer.tamper = True
    bad = round_()
    assert bad.outcome == "rejected" and "signature" in bad.detail
    with ctx.unit_of_work() as s:
        row = s.get(SyncedList, ("scenarios", "federation"))
        assert row.sequence == peer.sequence - 1 and row.last_error  # the last good list kept
        held = scenarios.held_scenarios(ctx, s)
    assert held.source == "synced" and held.sequence == peer.sequence - 1


# -- retrieval ----------------------------------------------------------------------------------

def _last_entry(ctx) -> dict:
    with ctx.unit_of_work() as s:
        leaf = s.scalars(select(AuditEntryRow.leaf).order_by(AuditEntryRow.idx.desc())).first()
    return json.loads(leaf)


@pytest.mark.parametrize("changes, reason", [
    ({"matter_code": "YRD000-999-9999"}, "matter-not-listed"),
    ({"matter_code": "YRD000-003-0001", "licence_type": "marriage_certificate"}, "type-not-for-matter"),
    ({"matter_code": "YRD000-004-0001"}, "type-not-for-matter"),  # 夫妻投靠: marriage certificate only
])
def test_retrieval_limited_to_listed_matters_and_their_types(http, ctx, world, changes, reason):
    count = audit_count(ctx)
    resp = http.post("/api/v1/retrievals", headers=world.dept_h,
                     json=retrieval_body(legal_basis=LEGAL_BASIS, **changes))
    body = problem(resp, 403, "retrieval-refused")
    assert body["reason"] == reason and body["detail"] and body["detail_zh"]
    assert PERSON not in resp.text and world.driving not in resp.text
    assert audit_count(ctx) == count + 1
    entry = _last_entry(ctx)
    assert (entry["outcome"], entry["detail"]["reason"], entry["purpose"]) == (
        "denied", reason, changes["matter_code"])


def test_retrieval_for_a_delta_matter_succeeds(http, ctx, world):
    resp = http.post("/api/v1/retrievals", headers=world.dept_h,
                     json=retrieval_body(legal_basis=LEGAL_BASIS, matter_code="YRD000-003-0001"))
    assert resp.status_code == 200, resp.text
    assert [lic["identifier"] for lic in resp.json()["licences"]] == [world.driving]


def test_check_matter_for_a_region_not_offering_it(ctx):
    driving = "11100000MB0000002X001"
    assert scenarios.check_matter(ctx, "310000-000-0001", driving, "sh").matter_code == "310000-000-0001"
    for region in ("ah", "zj", "js"):
        with pytest.raises(scenarios.MatterRefused) as exc:
            scenarios.check_matter(ctx, "310000-000-0001", driving, region)
        assert exc.value.reason == "matter-not-listed" and exc.value.message_zh
    assert scenarios.check_matter(ctx, "YRD000-003-0001", driving, "ah").regions


# -- CLI ----------------------------------------------------------------------------------------

def test_cli_publish_show_verify_a_scenario_list(cli, tmp_path):
    out = tmp_path / "scenarios.json"
    assert cli("publish", "--scenarios", "--out", str(out)).exit_code == 0
    envelope = json.loads(out.read_bytes())
    assert envelope["payload"]["schema"] == SCENARIOS_SCHEMA
    shown = cli("show", str(out))
    assert shown.exit_code == 0 and "应用场景清单" in shown.output
    assert "YRD000-003-0001" in shown.output and "机动车驾驶证异地换领" in shown.output
    at = envelope["payload"]["issued_at"]
    ok = cli("verify", str(out), "--at", at, "--json")
    assert ok.exit_code == 0 and json.loads(ok.output)["indication"] == TOTAL_PASSED
    envelope["payload"]["matters"][0]["licence_types"].append("11100000MB00000031001")
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(envelope))
    assert cli("verify", str(bad), "--at", at).exit_code == 1
    assert cli("verify", str(out), "--at", "2030-01-01T00:00:00Z").exit_code == 2

"""Syncing peers' trust lists (license_svc.federation.sync) against peers behind
httpx.MockTransport that sign real lists with the dev keys: ETag/304, LICENSE_SVC_PEERS
overriding node_url, rollback / bad signature / wrong signer / equivocation / garbage /
unreachable peer all rejected with the last good list kept, stale beyond the grace → TRY_LATER,
and the synced lists feeding QR verification."""

import json

import httpx
import pytest
from sqlalchemy import select

from license_svc.federation.models import SyncedList
from license_svc.federation.peer_client import PeerClient
from license_svc.federation.sync import sync, sync_status, trust_state
from signing.qr import credentials
from tests.license_svc.federation_support import Peers
from verification import qr as vqr
from verification.report import INDETERMINATE, TOTAL_FAILED, TOTAL_PASSED
from verification.trustlist import DEFAULT_GRACE

PEERS = {"js": "http://js.peer.test", "zj": "http://zj.peer.test", "ah": "http://ah.peer.test"}


@pytest.fixture
def node(settings_factory, ctx_factory):
    return ctx_factory(settings_factory("sh", peers=dict(PEERS)))


@pytest.fixture
def peers(node, clock):
    return Peers(node.keystore, clock)


def outcomes(node, peers, **kw):
    return over(node, peers.transport(), **kw)


def over(node, transport, **kw):
    with PeerClient(transport=transport) as client:
        return {(o.kind, o.region): o for o in sync(node, client=client, **kw)}


def held(node, region):
    with node.unit_of_work() as s:
        row = s.get(SyncedList, ("trust-list", region))
        return None if row is None else (row.sequence, row.last_error)


def test_first_sync_takes_every_region_then_304(node, peers):
    got = outcomes(node, peers)
    assert got[("federation", "federation")].outcome == "updated"
    assert {r: got[("trust-list", r)].outcome for r in ("sh", "js", "zj", "ah")} == \
        dict.fromkeys(("sh", "js", "zj", "ah"), "updated")
    assert got[("trust-list", "sh")].url == "local"  # own region: no HTTP to itself
    with node.unit_of_work() as s:
        state = trust_state(node, s)
    assert state.unavailable() == [] and len(state.payloads()) == 4
    assert {p["region"] for p in state.payloads()} == {"sh", "js", "zj", "ah"}

    before = len(peers.requests)
    again = outcomes(node, peers)
    assert {again[("trust-list", r)].outcome for r in ("js", "zj", "ah")} == {"not-modified"}
    assert len(peers.requests) - before == 3
    assert all(len(peers.conditional_requests(r)) == 1 for r in ("js", "zj", "ah"))
    assert again[("trust-list", "sh")].outcome == "unchanged"


def test_peers_override_node_url(node, peers):
    # The federation list fetched from an operator names placeholder addresses; LICENSE_SVC_PEERS
    # (settings.peers) overrides them for js and zj, ah is reached at its listed node_url.
    peers.lotl = peers.lotl_envelope({"js": "https://js.example.invalid",
                                      "zj": "https://zj.example.invalid",
                                      "ah": "http://ah.listed.test"})
    node.settings.peers.pop("ah")
    got = outcomes(node, peers, federation_urls=["http://operator.test/api/v1/federation"])
    assert got[("federation", "federation")].outcome == "updated"
    hosts = {r.url.host for r in peers.requests}
    assert {"js.peer.test", "zj.peer.test", "ah.listed.test", "operator.test"} <= hosts
    assert not any(h.endswith("example.invalid") for h in hosts)
    assert got[("trust-list", "ah")].outcome == "updated"


def test_federation_list_not_signed_by_the_pinned_root_is_refused(node, peers):
    peers.lotl = peers.lotl_envelope({}, signer=node.keystore.credential("js", "trust_list", "sm2"))
    got = outcomes(node, peers, federation_urls=["http://operator.test/api/v1/federation"])
    fed = got[("federation", "federation")]
    assert fed.outcome == "rejected" and "trust_list.signer_trusted" in fed.detail
    assert ("trust-list", "js") not in got  # nothing synced without a federation list
    with node.unit_of_work() as s:
        assert trust_state(node, s).unavailable() == ["ah", "js", "sh", "zj"]


@pytest.mark.parametrize("mode,why", [
    ("rollback", "trust_list.sequence"),
    ("tampered", "trust_list.signature"),
    ("wrong-signer", "trust_list.signer_trusted"),
    ("garbage", "not JSON"),
    ("down", "unreachable"),
    ("http500", "HTTP 500"),
])
def test_bad_answers_keep_the_last_good_list(node, peers, mode, why):
    outcomes(node, peers)
    assert held(node, "js") == (10, None)
    peers.sequence["js"] = 11
    peers.mode["js"] = mode
    got = outcomes(node, peers)[("trust-list", "js")]
    assert got.outcome in ("rejected", "unreachable") and why in got.detail, got.detail
    sequence, error = held(node, "js")
    assert sequence == 10 and why in error
    with node.unit_of_work() as s:
        state = trust_state(node, s)
        assert state.regions["js"].ok and state.regions["js"].sequence == 10
        status = {(h["kind"], h["region"]): h for h in sync_status(node, s)}
    assert why in status[("trust-list", "js")]["last_error"]
    # the peer recovers with a newer list: taken, error cleared
    peers.mode["js"] = "ok"
    assert outcomes(node, peers)[("trust-list", "js")].outcome == "updated"
    assert held(node, "js") == (11, None)


def test_same_sequence_with_other_content_is_refused(node, peers):
    outcomes(node, peers)
    peers.extra_types["js"] = ["99999999MB0000009X999"]  # content changes, sequence does not
    got = outcomes(node, peers)[("trust-list", "js")]
    assert got.outcome == "rejected" and "different content" in got.detail
    with node.unit_of_work() as s:
        payload = json.loads(s.get(SyncedList, ("trust-list", "js")).envelope)["payload"]
    assert "99999999MB0000009X999" not in payload["recognised_types"]


def test_newer_sequence_replaces(node, peers, clock):
    outcomes(node, peers)
    clock.advance(hours=1)
    peers.sequence["zj"] = 12
    assert outcomes(node, peers)[("trust-list", "zj")].outcome == "updated"
    assert held(node, "zj") == (12, None)


def test_stale_beyond_grace_is_try_later(node, peers, clock):
    outcomes(node, peers)
    peers.mode["js"] = "down"
    clock.advance(hours=24 + 1)  # past next_update, within the grace
    outcomes(node, peers)
    with node.unit_of_work() as s:
        assert trust_state(node, s).regions["js"].ok
    clock.advance(hours=DEFAULT_GRACE.total_seconds() / 3600)  # beyond the grace
    peers.sequence.update(zj=11, ah=11)  # the live peers re-signed meanwhile
    outcomes(node, peers)
    with node.unit_of_work() as s:
        state = trust_state(node, s)
    js = state.regions["js"]
    assert (js.report.indication, js.report.sub_indication) == (INDETERMINATE, "TRY_LATER")
    assert "js" in state.unavailable()
    assert "js" not in {p["region"] for p in state.payloads()}
    assert {"zj", "ah", "sh"} <= {p["region"] for p in state.payloads()}  # refreshed meanwhile
    assert state.report("js").sub_indication == "TRY_LATER"
    # QR codes of js now cannot be judged: their signer is in no usable list
    ks = node.keystore
    cred = ks.credential("js", "licence_signer", "sm2")
    record = {"identifier": "1.2.156.3005.2.X.Y.Z.001.1", "type_code": "X", "number": "N1",
              "holders": [{"name": "某公司", "code": "91320000MA00000012", "code_type": "001"}],
              "issuer": {"name": cred.org_name, "code": cred.org_code},
              "valid_from": "2026-01-15", "valid_until": "2030-01-14", "region": "js", "version": 1}
    el1 = credentials.el1_for_record(record, {}, cred.key, cred.cert.dump(), now=clock())
    r = vqr.verify_qr_text(el1, vqr.QrTrust.from_trust_lists(state.payloads()), clock())
    assert r.indication == INDETERMINATE


def test_stored_list_tampered_in_the_database_is_not_used(node, peers):
    outcomes(node, peers)
    with node.unit_of_work() as s:
        row = s.get(SyncedList, ("trust-list", "ah"))
        env = json.loads(row.envelope)
        env["payload"]["entries"][0]["status"] = "withdrawn"
        row.envelope = json.dumps(env)
    with node.unit_of_work() as s:
        state = trust_state(node, s)
    assert state.regions["ah"].report.sub_indication == "SIG_CRYPTO_FAILURE"
    assert "ah" in state.unavailable()


@pytest.mark.parametrize("body", [b"", b"[]", b"{}", b"null", b"[" * 50_000,
                                  b'{"payload": {}, "signature": {}}',
                                  "{\"payload\": \"\udcff\"}".encode("utf-8", "surrogatepass"),
                                  b"\xff\xfe\x00garbage"])
def test_hostile_peer_bodies_are_rejected(node, peers, body):
    outcomes(node, peers)

    def hostile(request):
        if request.url.host.startswith("js."):
            return httpx.Response(200, content=body, headers={"ETag": '"x"'})
        return peers.handle(request)
    got = over(node, httpx.MockTransport(hostile))
    assert got[("trust-list", "js")].outcome == "rejected"
    assert held(node, "js")[0] == 10


def test_synced_lists_verify_qr_codes_of_other_regions(node, peers, clock):
    outcomes(node, peers)
    with node.unit_of_work() as s:
        trust = vqr.QrTrust.from_trust_lists(trust_state(node, s).payloads())
    cred = node.keystore.credential("zj", "licence_signer", "rsa")
    record = {"identifier": "1.2.156.3005.2.X.Y.Z.001.1", "type_code": "X", "number": "N1",
              "holders": [{"name": "某公司", "code": "91330000MA00000012", "code_type": "001"}],
              "issuer": {"name": cred.org_name, "code": cred.org_code},
              "valid_from": "2026-01-15", "valid_until": "2030-01-14", "region": "zj", "version": 1}
    el1 = credentials.el1_for_record(record, {}, cred.key, cred.cert.dump(), now=clock())
    assert vqr.verify_qr_text(el1, trust, clock()).indication == TOTAL_PASSED
    # a licence signer no region lists
    rogue = node.keystore.credential("zj", "revoked_demo", "rsa")
    el1 = credentials.el1_for_record(record, {}, rogue.key, rogue.cert.dump(), now=clock())
    assert vqr.verify_qr_text(el1, trust, clock()).indication in (INDETERMINATE, TOTAL_FAILED)


def test_sync_rows_are_one_per_source(node, peers):
    outcomes(node, peers)
    outcomes(node, peers)
    with node.unit_of_work() as s:
        rows = s.scalars(select(SyncedList.kind)).all()
    assert len(rows) == 6  # federation, scenario list + four trust lists

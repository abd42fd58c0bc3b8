"""Verification with trust built from synced trust lists (verify_service.verifier_trust_from_lists)
instead of the key store: issued PDFs and QR codes verify, a withdrawn signer's later codes fail,
a region whose list went stale is not trusted."""

import hashlib
from datetime import timedelta

import pytest

from license_svc.federation.peer_client import PeerClient
from license_svc.federation.publish import withdraw
from license_svc.federation.sync import sync, trust_state
from license_svc.licences import issue as issuing
from license_svc.licences import lifecycle
from license_svc.verify_service import verifier_trust_from_lists, verify_offline
from tests.license_svc.federation_support import Peers
from tests.support.issuing import AMR_SH, example
from verification.report import TOTAL_FAILED, TOTAL_PASSED

PEERS = {"js": "http://js.peer.test", "zj": "http://zj.peer.test", "ah": "http://ah.peer.test"}


@pytest.fixture
def node(settings_factory, ctx_factory):
    return ctx_factory(settings_factory("sh", peers=dict(PEERS)))


def sync_from_peers(node, clock):
    with PeerClient(transport=Peers(node.keystore, clock).transport()) as client:
        sync(node, client=client)


def synced_trust(node, clock):
    with node.unit_of_work() as s:
        return verifier_trust_from_lists(trust_state(node, s, clock()).payloads())


@pytest.mark.parametrize("algorithm", ["sm2", "rsa"])
def test_issued_licence_verifies_with_trust_from_lists(node, clock, make_api_client, algorithm):
    issuer, _ = make_api_client(["issuer"], org_code=AMR_SH,
                                licence_types=["business_licence", "food_business_licence"])
    ident = issuing.issue(node, issuer, example("business_licence", algorithm=algorithm)).identifiers[0]
    with node.unit_of_work() as s:
        v = lifecycle.load_version(s, ident)
        pdf, el1 = v.pdf, v.el1
    sync_from_peers(node, clock)
    trust = synced_trust(node, clock)
    assert trust.regions == ("ah", "js", "sh", "zj")
    at = clock() + timedelta(minutes=5)
    for kwargs in ({"text": el1}, {"data": pdf}):
        r = verify_offline(node.keystore, at=at, trust=trust, **kwargs)
        assert r.indication == TOTAL_PASSED, r.to_text()

    # sh withdraws the signer from now: the published list changes, the next sync carries it
    cred = node.keystore.credential("sh", "licence_signer", algorithm, org_code=AMR_SH)
    with node.unit_of_work() as s:
        withdraw(node, s, hashlib.sha256(cred.cert.dump()).hexdigest(), since=clock(), reason="test")
    sync_from_peers(node, clock)
    trust = synced_trust(node, clock)
    r = verify_offline(node.keystore, text=el1, at=at, trust=trust)
    assert (r.indication, r.sub_indication) == (TOTAL_FAILED, "REVOKED")  # signed at the same second
    r = verify_offline(node.keystore, data=pdf, at=at, trust=trust)
    assert r.indication != TOTAL_PASSED

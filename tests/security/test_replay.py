"""Replay and time attacks: a 亮证 (EP1) code scanned twice, by another department, from the future
or with a long life; an Idempotency-Key reused by another client; an old signed "active" status
replayed after the licence was revoked."""

from __future__ import annotations

from datetime import timedelta

import pytest

from license_svc import verify_service
from license_svc.licences import issue as issuing
from license_svc.licences import lifecycle
from signing.qr.cose import sign1
from signing.qr.credentials import cose_from_text, encode_text, make_ep1
from tests.support.issuing import AMR_SH, CIVIL_SH, TRAFFIC_SH, example
from tests.security.support import refused
from verification.qr import CLAIM_CTI, CLAIM_EL1, CLAIM_EXP, CLAIM_IAT, CLAIM_ISS
from verification.status import (StatusCache, StatusError, TRY_LATER, verify_status_response)

URL = "/api/v1/verify"


@pytest.fixture
def licence(ctx, issuers):
    ident = issuing.issue(ctx, issuers[AMR_SH][0], example("business_licence")).identifiers[0]
    with ctx.unit_of_work() as s:
        return ident, lifecycle.load_version(s, ident).el1


def _node(ctx):
    return ctx.keystore.credential("sh", "node", "sm2")


def _ep1(ctx, el1, at):
    node = _node(ctx)
    return make_ep1(node.key, node.cert.dump(), region="sh", el1=el1, now=at)[0]


def _crafted_ep1(ctx, el1, iat, exp):
    """An EP1 the node's key signed with chosen times (what a tampered wallet could ask for)."""
    import secrets

    node = _node(ctx)
    payload = {CLAIM_ISS: "sh", CLAIM_IAT: int(iat.timestamp()), CLAIM_EXP: int(exp.timestamp()),
               CLAIM_CTI: secrets.token_bytes(16), CLAIM_EL1: cose_from_text(el1)}
    return encode_text("EP1:", sign1(node.key, node.cert.dump(), payload))


def _verdict(http, headers, qr, **params):
    resp = http.post(URL, json={"qr": qr}, headers=headers, params=params)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    return body["indication"], body


def test_an_ep1_is_accepted_once_whoever_scans_it_again(http, ctx, licence, parties, make_api_client, clock):
    _, el1 = licence
    ep1 = _ep1(ctx, el1, ctx.now())
    assert _verdict(http, parties.dept_h, ep1)[0] == "TOTAL_PASSED"
    clock.advance(seconds=5)
    _, other_dept = make_api_client(["relying"], org_code="11310000MB0000301Y")
    for headers in (parties.dept_h, other_dept, parties.auditor_h):
        indication, body = _verdict(http, headers, ep1)
        assert indication == "TOTAL_FAILED", body
        assert any(c["name"] == "service.presentation_replay" and not c["passed"] for c in body["checks"])
    # after the seen-table forgets it the code is stale anyway: never valid again
    clock.advance(minutes=10)
    assert _verdict(http, parties.dept_h, ep1)[0] != "TOTAL_PASSED"


def test_an_ep1_from_the_future_or_with_a_long_life_is_refused(http, ctx, licence, parties):
    _, el1 = licence
    now = ctx.now()
    future = _crafted_ep1(ctx, el1, now + timedelta(seconds=45), now + timedelta(seconds=100))
    indication, body = _verdict(http, parties.dept_h, future)
    assert (indication, body["sub_indication"]) == ("TOTAL_FAILED", "NOT_YET_VALID"), body
    long_lived = _crafted_ep1(ctx, el1, now, now + timedelta(hours=24))
    assert _verdict(http, parties.dept_h, long_lived)[0] == "TOTAL_FAILED"
    # a code an hour old cannot be judged "as of" an hour ago
    old = _ep1(ctx, el1, now - timedelta(hours=1))
    assert _verdict(http, parties.dept_h, old, at=(now - timedelta(hours=1)).isoformat())[0] == "TOTAL_FAILED"


def test_a_failed_presentation_does_not_burn_a_genuine_cti(http, ctx, licence, parties):
    """Only a presentation whose signature verifies is remembered, so a forger cannot pre-spend
    a holder's codes; and a forged one never passes."""
    import base45
    import zlib

    _, el1 = licence
    ep1 = _ep1(ctx, el1, ctx.now())
    cose = bytearray(zlib.decompress(base45.b45decode(ep1[4:])))
    cose[-5] ^= 0x01  # inside the signature
    forged = "EP1:" + base45.b45encode(zlib.compress(bytes(cose))).decode()
    assert _verdict(http, parties.dept_h, forged)[0] != "TOTAL_PASSED"
    assert _verdict(http, parties.dept_h, ep1)[0] == "TOTAL_PASSED"


def test_idempotency_keys_are_per_client(http, ctx, issuers, make_api_client):
    """One client's Idempotency-Key never returns another client's licence."""
    amr_h, traffic_h = issuers[AMR_SH][1], issuers[TRAFFIC_SH][1]
    key = {"Idempotency-Key": "order-2026-0001"}
    first = http.post("/api/v1/licences", json=example("business_licence"), headers={**amr_h, **key})
    assert first.status_code == 201, first.text
    mine = first.json()["identifier"]
    # the same key, another organisation, its own request: its own new licence
    other = http.post("/api/v1/licences", json=example("driving_licence"), headers={**traffic_h, **key})
    assert other.status_code == 201 and other.json()["identifier"] != mine
    assert "idempotent-replayed" not in other.headers
    # the same key and the first client's exact body from another organisation: refused, not
    # the first client's licence
    resp = http.post("/api/v1/licences", json=example("business_licence"),
                     headers={**issuers[CIVIL_SH][1], **key})
    refused(resp, 403, "issuer-authority")
    assert mine not in resp.text
    # a second approval system of the same organisation: no replay of the first one's licence;
    # its request is judged on its own — the same licence again is a duplicate, not a replay
    _, amr2 = make_api_client(["issuer"], org_code=AMR_SH)
    again = http.post("/api/v1/licences", json=example("business_licence"), headers={**amr2, **key})
    assert again.status_code == 409 and "idempotent-replayed" not in again.headers
    another = http.post("/api/v1/licences", json=example("business_licence", 1), headers={**amr2, **key})
    assert another.status_code == 201 and another.json()["identifier"] != mine
    # the owner's own retry replays, and a different body under its key is refused
    replay = http.post("/api/v1/licences", json=example("business_licence"), headers={**amr_h, **key})
    assert replay.json()["identifier"] == mine and replay.headers["idempotent-replayed"] == "true"
    changed = example("business_licence")
    changed["fields"]["address"] = "上海市黄浦区中山东一路1号"
    refused(http.post("/api/v1/licences", json=changed, headers={**amr_h, **key}), 422,
            "idempotency-key-reused")


# -- signed status replay ----------------------------------------------------------------------

def _status_envelope(http, ident):
    resp = http.get(f"/api/v1/licences/{ident}/status")
    assert resp.status_code == 200
    return resp.json()


def test_an_old_active_status_replayed_after_revocation_is_not_believed(http, ctx, licence, issuers, clock):
    ident, _ = licence
    trust = verify_service.verifier_trust(ctx.keystore).status
    old_active = _status_envelope(http, ident)
    assert old_active["payload"]["status"] == "active"
    clock.advance(minutes=5)
    with ctx.unit_of_work() as s:
        lifecycle.revoke(ctx, s, ident, issuers[AMR_SH][0], "依法吊销")
    revoked = _status_envelope(http, ident)
    produced = clock.current

    # 1. an attacker in the path serves the old answer to a verifier that knows the newer one:
    served = [revoked]
    cache = StatusCache(trust, clock=ctx.now, fetch_response=lambda region, i: served[0])
    clock.set(produced + timedelta(minutes=1))
    assert cache.lookup(ident, "sh")["status"] == "revoked"
    served[0] = old_active
    clock.set(produced + timedelta(hours=1, minutes=1))  # past next_update: a refresh happens
    assert cache.lookup(ident, "sh")["status"] == "revoked"  # rollback ignored

    # 2. a verifier with nothing cached is served the old answer: believed only while it is
    #    within next_update (+ grace), never later
    fresh_cache = StatusCache(trust, clock=ctx.now, fetch_response=lambda region, i: old_active)
    clock.set(produced + timedelta(hours=2, seconds=1))
    with pytest.raises(StatusError) as err:
        fresh_cache.lookup(ident, "sh")
    assert err.value.sub_indication == TRY_LATER

    # 3. a status "produced" in the future is refused outright
    with pytest.raises(StatusError):
        verify_status_response(revoked, trust, produced - timedelta(minutes=10))


def test_a_status_answer_for_another_licence_is_refused(http, ctx, issuers):
    a = issuing.issue(ctx, issuers[AMR_SH][0], example("business_licence")).identifiers[0]
    b = issuing.issue(ctx, issuers[AMR_SH][0], example("business_licence", 1)).identifiers[0]
    trust = verify_service.verifier_trust(ctx.keystore).status
    other = _status_envelope(http, b)
    cache = StatusCache(trust, clock=ctx.now, fetch_response=lambda region, i: other)
    with pytest.raises(StatusError):
        cache.lookup(a, "sh")
    tampered = _status_envelope(http, a)
    tampered["payload"]["status"] = "active"
    tampered["payload"]["next_update"] = "2099-01-01T00:00:00Z"
    with pytest.raises(StatusError):
        verify_status_response(tampered, trust, ctx.now())

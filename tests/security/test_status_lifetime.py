"""Issue 14 item 8: a status answer valid for years, genuinely signed by the region's status
signer, was accepted and cached; a verifier now believes a response for at most
MAX_RESPONSE_LIFETIME and a list for at most MAX_LIST_LIFETIME (next_update - produced_at)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from formats.envelope import sign_envelope
from license_svc import verify_service
from license_svc.licences import issue as issuing
from license_svc.licences.record import iso_time
from license_svc.licences.status import LIST_VALIDITY, RESPONSE_VALIDITY
from tests.support.issuing import AMR_SH, example
from verification.status import (MAX_LIST_LIFETIME, MAX_RESPONSE_LIFETIME, StatusCache, StatusError,
                                 verify_status_list, verify_status_response)


def _resigned(ctx, envelope: dict, lifetime: timedelta) -> dict:
    """The same answer with a longer life, signed with the region's real status signer."""
    payload = dict(envelope["payload"])
    payload["next_update"] = iso_time(ctx.now() + lifetime)
    payload["produced_at"] = iso_time(ctx.now())
    cred = ctx.keystore.credential("sh", "status_signer", "sm2")
    return sign_envelope(payload, cred.key, cred.cert)


def test_a_status_answer_valid_for_years_is_not_believed_or_cached(http, ctx, issuers):
    ident = issuing.issue(ctx, issuers[AMR_SH][0], example("business_licence")).identifiers[0]
    trust = verify_service.verifier_trust(ctx.keystore).status
    genuine = http.get(f"/api/v1/licences/{ident}/status").json()
    assert verify_status_response(genuine, trust, ctx.now()).status == "active"  # our own 1 h: fine
    assert RESPONSE_VALIDITY <= MAX_RESPONSE_LIFETIME and LIST_VALIDITY <= MAX_LIST_LIFETIME
    ok = _resigned(ctx, genuine, MAX_RESPONSE_LIFETIME)
    assert verify_status_response(ok, trust, ctx.now()).status == "active"
    years = _resigned(ctx, genuine, timedelta(days=3 * 365))
    with pytest.raises(StatusError, match="longer than the maximum"):
        verify_status_response(years, trust, ctx.now())
    cache = StatusCache(trust, clock=ctx.now, fetch_response=lambda region, i: years)
    with pytest.raises(StatusError):
        cache.lookup(ident, "sh")
    assert not cache._responses, "a long-lived answer must not be cached"


def test_a_status_list_valid_for_years_is_not_believed(http, ctx, issuers):
    ident = issuing.issue(ctx, issuers[AMR_SH][0], example("business_licence")).identifiers[0]
    trust = verify_service.verifier_trust(ctx.keystore).status
    genuine = http.get(f"/api/v1/licences/{ident}/status").json()
    issuer = genuine["payload"]["status_list"]["list"].rsplit("-", 2)[1]
    part = int(genuine["payload"]["status_list"]["list"].rsplit("-", 1)[1])
    lst = http.get(f"/api/v1/status-lists/{issuer}", params={"part": part}).json()
    assert verify_status_list(lst, trust, ctx.now())
    with pytest.raises(StatusError, match="longer than the maximum"):
        verify_status_list(_resigned(ctx, lst, timedelta(days=400)), trust, ctx.now())

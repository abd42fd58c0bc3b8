"""Signed status responses and bitstring status lists, checked as a relying party would: the
envelope against the region's status_signer certificate, the list decoded bit by bit."""

from datetime import datetime

import pytest

from license_svc.licences import issue as issuing
from license_svc.licences import amend, lifecycle, status
from license_svc.licences.bitstring import MIN_ENTRIES, Bitstring
from formats.envelope import verify_envelope
from tests.support.issuing import AMR_SH, example


def _signed_by_status_signer(ctx, envelope):
    cert = verify_envelope(envelope)
    assert cert.dump() == ctx.keystore.credential("sh", "status_signer", "sm2").cert.dump()
    return envelope["payload"]


def test_status_response_follows_the_lifecycle(ctx, amr, clock):
    ident = issuing.issue(ctx, amr, example("business_licence")).identifiers[0]
    with ctx.unit_of_work() as s:
        p = _signed_by_status_signer(ctx, status.signed_status(ctx, s, ident))
    assert p["identifier"] == ident and p["version"] == 1 and p["status"] == "active"
    assert p["reason"] is None
    produced = datetime.fromisoformat(p["produced_at"].replace("Z", "+00:00"))
    assert produced == clock() and p["next_update"] > p["produced_at"]
    with ctx.unit_of_work() as s:
        lifecycle.revoke(ctx, s, ident, amr, "依法吊销")
    with ctx.unit_of_work() as s:
        p = _signed_by_status_signer(ctx, status.signed_status(ctx, s, ident))
    assert (p["status"], p["reason"]) == ("revoked", "依法吊销")


def test_superseded_names_the_newer_version(ctx, amr):
    ident = issuing.issue(ctx, amr, example("business_licence")).identifiers[0]
    with ctx.unit_of_work() as s:
        new = amend.amend(ctx, s, ident, amr, {"valid_from": "2026-02-01"})
    with ctx.unit_of_work() as s:
        p = _signed_by_status_signer(ctx, status.signed_status(ctx, s, ident))
    assert p["status"] == "superseded" and p["superseded_by"] == new.identifier


def test_status_list_reflects_each_licence(ctx, amr):
    ids = issuing.issue_batch(ctx, amr, [example("business_licence", i) for i in range(4)]).identifiers
    with ctx.unit_of_work() as s:
        lifecycle.suspend(ctx, s, ids[0], amr, "核查")
        lifecycle.revoke(ctx, s, ids[1], amr, "吊销")
        amend.amend(ctx, s, ids[2], amr, {"valid_from": "2026-02-01"})
    with ctx.unit_of_work() as s:
        p = _signed_by_status_signer(ctx, status.signed_status_list(ctx, s, AMR_SH))
        slots = {i: lifecycle.load_version(s, i).status_index for i in ids}
    assert p["entries"] >= 131_072 and p["status_size"] == 2 and p["issuer"] == AMR_SH
    bits = Bitstring.decode(p["encoded_list"], p["entries"])
    assert [bits.get(slots[i]) for i in ids] == ["suspended", "revoked", "superseded", "active"]
    assert sum(bits.get(i) != "active" for i in range(MIN_ENTRIES)) == 3


def test_unknown_issuer_and_parts(ctx, amr):
    from license_svc.licences.errors import LicenceError

    with ctx.unit_of_work() as s:
        with pytest.raises(LicenceError):
            status.signed_status_list(ctx, s, "11310000MB0000099X")
        with pytest.raises(LicenceError):
            status.signed_status_list(ctx, s, AMR_SH, 0)

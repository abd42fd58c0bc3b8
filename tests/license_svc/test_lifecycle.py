"""Lifecycle: suspend ⇄ reinstate, revoke, amend (supersede), expiry by date; every change a
signed event in a hash chain, refused changes write nothing."""

import base64
import json
from datetime import datetime, timezone

import pytest
from asn1crypto import x509

from license_svc.licences import issue as issuing
from license_svc.licences import amend, lifecycle
from license_svc.licences.errors import IssuerAuthorityError, LicenceError, LicenceStateError
from formats.canonical_json import canonical_json
from formats import algorithms as alg
from formats.errors import ServiceError
from tests.support.issuing import AMR_SH, TRAFFIC_SH, example, row_counts


@pytest.fixture
def licence(ctx, amr):
    return issuing.issue(ctx, amr, example("business_licence")).identifiers[0]


def _change(ctx, action, ident, actor, reason=None):
    with ctx.unit_of_work() as s:
        return lifecycle.change_status(ctx, s, ident, action, actor, reason)


def _status(ctx, ident):
    with ctx.unit_of_work() as s:
        v = lifecycle.load_version(s, ident)
        return lifecycle.status_at(v, lifecycle.latest_event(s, ident), ctx.now())


def test_suspend_reinstate_revoke(ctx, amr, licence):
    assert _change(ctx, "suspended", licence, amr, "年报未公示").status == "suspended"
    assert _status(ctx, licence) == "suspended"
    assert _change(ctx, "reinstated", licence, amr).status == "active"
    assert _change(ctx, "revoked", licence, amr, "依法吊销").status == "revoked"
    assert _status(ctx, licence) == "revoked"
    for action in ("suspended", "reinstated", "revoked"):
        before = row_counts(ctx)
        with pytest.raises(LicenceStateError):
            _change(ctx, action, licence, amr, "again")
        assert row_counts(ctx) == before


def test_lifecycle_changes_reach_the_holders_access_log(ctx, amr, licence):
    from license_svc import audit

    _change(ctx, "suspended", licence, amr, "年报未公示")
    with ctx.unit_of_work() as s:
        code = lifecycle.holder_code_of(lifecycle.load_version(s, licence))
        assert code
        actions = [e.entry["action"] for e in audit.entries_for_holder(
            s, audit.holder_reference(ctx, code)) if e.entry["licence_id"] == licence]
    assert any("suspend" in a for a in actions), actions


def test_event_chain_is_signed_and_linked(ctx, amr, licence):
    _change(ctx, "suspended", licence, amr, "核查")
    _change(ctx, "reinstated", licence, amr)
    with ctx.unit_of_work() as s:
        version = lifecycle.load_version(s, licence)
        events = lifecycle.history(s, licence)
    assert [e["event"]["action"] for e in events] == ["issued", "suspended", "reinstated"]
    prev = version.data_hash
    for e in events:
        body = canonical_json(e["event"])
        cert = x509.Certificate.load(base64.b64decode(e["cert"]))
        alg.load_public_key(cert.public_key).verify(base64.b64decode(e["signature"]), body)
        assert e["event"]["prev"] == prev
        prev = alg.sm3(body).hex()


def test_rules_for_reasons_and_transitions(ctx, amr, licence):
    with pytest.raises(LicenceError):
        _change(ctx, "revoked", licence, amr, "  ")       # revoke needs a reason
    with pytest.raises(LicenceError):
        _change(ctx, "revoked", licence, amr, "x" * 501)
    with pytest.raises(LicenceStateError):
        _change(ctx, "reinstated", licence, amr)          # not suspended
    with pytest.raises(LicenceError):
        _change(ctx, "deleted", licence, amr)


def test_only_the_issuing_organisation_may_change(ctx, issuers, make_api_client, licence):
    for actor in (issuers[TRAFFIC_SH][0], make_api_client(["relying"], org_code=AMR_SH)[0],
                  make_api_client(["issuer"], org_code=AMR_SH, region="js")[0]):
        before = row_counts(ctx)
        with pytest.raises(IssuerAuthorityError):
            _change(ctx, "suspended", licence, actor)
        assert row_counts(ctx) == before


def test_amend_supersedes_and_keeps_the_old_version(ctx, amr, licence):
    with ctx.unit_of_work() as s:
        new = amend.amend(ctx, s, licence, amr, {"fields": {"address": "上海市黄浦区中山东一路1号"}},
                              "住所变更")
    with ctx.unit_of_work() as s:  # closed: an open session would block PostgreSQL's TRUNCATE
        old_rec = json.loads(lifecycle.load_version(s, licence).record)
    rec = json.loads(new.record)
    assert new.version == 2 and new.identifier.endswith(".002." + new.identifier[-1])
    assert new.identifier.split(".")[:-2] == licence.split(".")[:-2]
    assert rec["supersedes"] == licence and rec["number"] == old_rec["number"]
    assert rec["fields"]["address"] == "上海市黄浦区中山东一路1号"
    assert old_rec["fields"]["address"] != rec["fields"]["address"]
    assert _status(ctx, licence) == "superseded" and _status(ctx, new.identifier) == "active"
    with pytest.raises(LicenceStateError):   # only the newest version can be amended
        with ctx.unit_of_work() as s:
            amend.amend(ctx, s, licence, amr, {"valid_from": "2026-03-01"})
    with pytest.raises(ServiceError):        # and never into something the schema refuses
        with ctx.unit_of_work() as s:
            amend.amend(ctx, s, new.identifier, amr, {"fields": {"address": ""}})
    with pytest.raises(LicenceError):
        with ctx.unit_of_work() as s:
            amend.amend(ctx, s, new.identifier, amr, {"type": "driving_licence"})


def test_expiry_by_date_in_beijing_time(ctx, issuers, clock):
    actor = issuers[TRAFFIC_SH][0]
    # Ends before the dev signing certificates do (2031): revoking after that would be refused
    # (signing-key-expired, test_signing_key_withdrawn.py), as signing with an expired key is.
    body = example("driving_licence", valid_until="2030-01-15")
    ident = issuing.issue(ctx, actor, body).identifiers[0]
    end = datetime.fromisoformat(body["valid_until"])
    # 23:59 on the last day in Beijing is still valid; 00:00 the next day is not
    clock.set(datetime(end.year, end.month, end.day, 15, 59, tzinfo=timezone.utc))
    assert _status(ctx, ident) == "active"
    clock.advance(minutes=1)
    assert _status(ctx, ident) == "expired"
    with pytest.raises(LicenceStateError):
        _change(ctx, "suspended", ident, actor)
    assert _change(ctx, "revoked", ident, actor, "注销").status == "revoked"
    clock.advance(days=1)
    assert _status(ctx, ident) == "revoked"


def test_unknown_and_malformed_identifiers(ctx, amr, licence):
    from license_svc.identifiers import IdentifierError, make_identifier
    from license_svc.licences.errors import LicenceNotFound

    with pytest.raises(IdentifierError):  # one check character off
        _change(ctx, "suspended", licence[:-1] + ("0" if licence[-1] != "0" else "1"), amr)
    unknown = str(make_identifier(*licence.split(".")[5:7], serial="A" * 20))
    with pytest.raises(LicenceNotFound):
        _change(ctx, "suspended", unknown, amr)

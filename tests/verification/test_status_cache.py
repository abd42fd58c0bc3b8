"""Verifier-side licence status: signed lists and responses checked against the region's status
signer, a cache with an injected clock, revocation visible within one list refresh, stale
answers refused beyond the grace as TRY_LATER.  The issuer side is the service's own producer
code (sign_envelope, Bitstring), so producer and verifier are checked against each other."""

import copy
from datetime import datetime, timedelta, timezone

import pytest

from license_svc.config import DEV_KEYS_DIR
from license_svc.licences.bitstring import Bitstring
from license_svc.licences.record import iso_time
from formats.envelope import sign_envelope
from signing.keystore import KeyStore
from verification import status as vs
from verification.report import INDETERMINATE, TOTAL_FAILED, TOTAL_PASSED, Report

T0 = datetime(2026, 6, 1, 8, 0, tzinfo=timezone.utc)
ISSUER = "11310000MB0000010A"
LIST = f"sh-{ISSUER}-0001"
ID_A = "1.2.156.3005.2.X.11310000MB0000010A.AAAA.001.1"
ID_B = "1.2.156.3005.2.X.11310000MB0000010A.BBBB.001.2"


@pytest.fixture(scope="module")
def ks():
    return KeyStore.load(DEV_KEYS_DIR)


@pytest.fixture(scope="module")
def trust(ks):
    return vs.StatusTrust({r: [ks.credential(r, "status_signer").cert.dump()]
                           for r in ("sh", "js", "zj", "ah")})


class Clock:
    def __init__(self):
        self.now = T0

    def __call__(self):
        return self.now


class Issuer:
    """The sh node as a verifier in another region sees it: signed answers produced on demand,
    a register it can change, and a switch to go offline."""

    def __init__(self, ks, clock, region="sh", list_validity=timedelta(hours=6)):
        self.cred = ks.credential(region, "status_signer")
        self.clock, self.region, self.validity = clock, region, list_validity
        self.slots = {ID_A: 1234, ID_B: 99_999}
        self.status = {ID_A: "active", ID_B: "active"}
        self.online = True
        self.calls = []

    def _sign(self, payload):
        return sign_envelope(payload, self.cred.key, self.cred.cert)

    def list_payload(self):
        bits = Bitstring(vs.MIN_ENTRIES)
        for ident, index in self.slots.items():
            if self.status[ident] != "active":
                bits.set(index, self.status[ident])
        now = self.clock()
        return {"schema": vs.LIST_SCHEMA, "region": self.region, "issuer": ISSUER, "list": LIST,
                "entries": vs.MIN_ENTRIES, "status_size": 2,
                "statuses": {"0": "active", "1": "suspended", "2": "revoked", "3": "superseded"},
                "encoding": "gzip+base64", "encoded_list": bits.encode(),
                "produced_at": iso_time(now), "next_update": iso_time(now + self.validity)}

    def response_payload(self, ident):
        now = self.clock()
        return {"schema": vs.RESPONSE_SCHEMA, "identifier": ident, "version": 1,
                "status": self.status[ident], "reason": None, "since": iso_time(now),
                "produced_at": iso_time(now), "next_update": iso_time(now + timedelta(hours=1)),
                "status_list": {"list": LIST, "index": self.slots[ident]}}

    def fetch_list(self, region, list_id):
        self.calls.append(("list", region, list_id))
        if not self.online:
            raise ConnectionError("issuer unreachable")
        return self._sign(self.list_payload())

    def fetch_response(self, region, ident):
        self.calls.append(("response", region, ident))
        if not self.online:
            raise ConnectionError("issuer unreachable")
        return self._sign(self.response_payload(ident))


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def issuer(ks, clock):
    return Issuer(ks, clock)


def cache_for(trust, issuer, clock, **kw):
    return vs.StatusCache(trust, clock=clock, fetch_list=issuer.fetch_list,
                          fetch_response=issuer.fetch_response, **kw)


# -- pure verification ------------------------------------------------------------------------

def test_genuine_list_reads_each_entry(trust, issuer):
    issuer.status[ID_B] = "revoked"
    lst = vs.verify_status_list(issuer.fetch_list("sh", LIST), trust, T0)
    assert (lst.region, lst.issuer, lst.list_id, lst.entries) == ("sh", ISSUER, LIST, vs.MIN_ENTRIES)
    assert lst.status(1234) == "active" and lst.status(99_999) == "revoked"
    assert lst.status(0) == "active" and lst.status(vs.MIN_ENTRIES - 1) == "active"
    with pytest.raises(vs.StatusError):
        lst.status(vs.MIN_ENTRIES)


def test_genuine_response(trust, issuer):
    issuer.status[ID_A] = "suspended"
    r = vs.verify_status_response(issuer.fetch_response("sh", ID_A), trust, T0)
    assert (r.identifier, r.status, r.region, r.list_id, r.index) == (ID_A, "suspended", "sh", LIST, 1234)


def _resign(issuer, payload):
    return issuer._sign(payload)


@pytest.mark.parametrize("change", [
    lambda p: p.update(status="active"),                  # a revoked answer turned active
    lambda p: p.update(identifier=ID_B),                  # the answer moved to another licence
    lambda p: p.update(next_update="2099-01-01T00:00:00Z"),  # lifetime stretched
])
def test_any_change_to_a_signed_response_is_refused(trust, issuer, change):
    issuer.status[ID_A] = "revoked"
    env = issuer.fetch_response("sh", ID_A)
    forged = copy.deepcopy(env)
    change(forged["payload"])
    with pytest.raises(vs.StatusError) as e:
        vs.verify_status_response(forged, trust, T0)
    assert e.value.sub_indication == vs.GENERIC


def test_a_flipped_bit_in_the_list_breaks_the_signature(trust, issuer):
    issuer.status[ID_B] = "revoked"
    env = issuer.fetch_list("sh", LIST)
    bits = Bitstring(vs.MIN_ENTRIES)  # all active: what a forger would like a verifier to read
    env["payload"]["encoded_list"] = bits.encode()
    with pytest.raises(vs.StatusError, match="signature"):
        vs.verify_status_list(env, trust, T0)


def test_only_the_regions_status_signer_is_believed(ks, trust, issuer):
    payload = issuer.list_payload()
    # a licence signer's key is trusted for licences, not for status
    lic = ks.credential("sh", "licence_signer")
    with pytest.raises(vs.StatusError, match="not a trusted status signer"):
        vs.verify_status_list(sign_envelope(payload, lic.key, lic.cert), trust, T0)
    # the js status signer cannot speak for sh
    js = ks.credential("js", "status_signer")
    with pytest.raises(vs.StatusError, match="signed by the js"):
        vs.verify_status_list(sign_envelope(payload, js.key, js.cert), trust, T0)


@pytest.mark.parametrize("change, match", [
    (lambda p: p.update(entries=1024), "131072"),
    (lambda p: p.update(statuses={"0": "active", "1": "fine", "2": "revoked", "3": "superseded"}),
     "unknown status"),
    (lambda p: p.update(encoded_list="!!notbase64"), "malformed"),
    (lambda p: p.update(schema="yrd-trust-list/1"), "not a status list"),
    (lambda p: p.update(produced_at="2026-06-01T09:00:00Z"), "future"),
    (lambda p: p.update(next_update=p["produced_at"]), "next_update"),
])
def test_well_signed_but_malformed_lists_are_refused(trust, issuer, change, match):
    payload = issuer.list_payload()
    change(payload)
    with pytest.raises(vs.StatusError, match=match):
        vs.verify_status_list(_resign(issuer, payload), trust, T0)


def test_gzip_bomb_is_bounded(trust, issuer):
    import base64
    import gzip

    payload = issuer.list_payload()
    payload["encoded_list"] = base64.b64encode(gzip.compress(b"\0" * (64 * 1024 * 1024))).decode()
    with pytest.raises(vs.StatusError, match="malformed"):
        vs.verify_status_list(_resign(issuer, payload), trust, T0)


@pytest.mark.parametrize("garbage", [None, 1, "x", [], {}, {"payload": {}, "signature": {}},
                                     {"payload": [], "signature": {"alg": "SM2-SM3", "cert": "", "value": ""}}])
def test_garbage_envelopes_are_status_errors(trust, garbage):
    with pytest.raises(vs.StatusError):
        vs.verify_status_list(garbage, trust, T0)


# -- the cache -----------------------------------------------------------------------------------

def test_first_lookup_uses_a_response_then_the_list(trust, issuer, clock):
    cache = cache_for(trust, issuer, clock)
    assert cache.lookup(ID_A, "sh")["status"] == "active"
    assert cache.lookup(ID_B, "sh")["source"] == "signed status response"
    assert cache.lookup(ID_A, "sh")["source"] == f"status list {LIST}"
    assert cache.lookup(ID_B, "sh")["status"] == "active"
    assert [c[0] for c in issuer.calls] == ["response", "response", "list"]  # one list for both


def test_revocation_is_visible_within_one_list_refresh(trust, issuer, clock):
    cache = cache_for(trust, issuer, clock)
    cache.lookup(ID_A, "sh")
    assert cache.lookup(ID_A, "sh")["status"] == "active"      # list cached, next_update T0+6h
    issuer.status[ID_A] = "revoked"                            # the issuer revokes
    clock.now = T0 + timedelta(hours=5, minutes=59)
    assert cache.lookup(ID_A, "sh")["status"] == "active"      # still within the list's life
    clock.now = T0 + timedelta(hours=6, seconds=1)
    assert cache.lookup(ID_A, "sh")["status"] == "revoked"     # the next refresh shows it
    report = Report(subject="qr-el1")
    vs.add_status_check(report, "status.licence", ID_A, lambda i: cache.lookup(i, "sh"))
    assert (report.indication, report.sub_indication) == (TOTAL_FAILED, "REVOKED")


def test_unreachable_issuer_within_grace_then_try_later(trust, issuer, clock):
    cache = cache_for(trust, issuer, clock, grace=timedelta(hours=1))
    cache.lookup(ID_A, "sh")
    cache.lookup(ID_A, "sh")
    issuer.online = False
    clock.now = T0 + timedelta(hours=6, minutes=30)            # past next_update, within grace
    assert cache.lookup(ID_A, "sh")["status"] == "active"
    clock.now = T0 + timedelta(hours=7, minutes=1)             # beyond next_update + grace
    with pytest.raises(vs.StatusError) as e:
        cache.lookup(ID_A, "sh")
    assert e.value.sub_indication == vs.TRY_LATER
    report = Report(subject="qr-el1")
    vs.add_status_check(report, "status.licence", ID_A, lambda i: cache.lookup(i, "sh"))
    assert (report.indication, report.sub_indication) == (INDETERMINATE, "TRY_LATER")


def test_never_fetched_and_unreachable_is_try_later(trust, issuer, clock):
    issuer.online = False
    with pytest.raises(vs.StatusError) as e:
        cache_for(trust, issuer, clock).lookup(ID_A, "sh")
    assert e.value.sub_indication == vs.TRY_LATER


def test_a_replayed_older_list_does_not_undo_a_revocation(trust, issuer, clock):
    cache = cache_for(trust, issuer, clock)
    old = issuer.fetch_list("sh", LIST)                          # active, produced T0
    cache.lookup(ID_A, "sh")
    issuer.status[ID_A] = "revoked"
    clock.now = T0 + timedelta(hours=7)
    cache.lookup(ID_A, "sh")
    assert cache.lookup(ID_A, "sh")["status"] == "revoked"
    clock.now = T0 + timedelta(hours=13, minutes=30)           # the newer list is past next_update
    cache.fetch_list = lambda region, list_id: old              # an attacker serves the old list
    assert cache.lookup(ID_A, "sh")["status"] == "revoked"     # the newer one is kept (grace)
    clock.now = T0 + timedelta(hours=14, minutes=1)
    with pytest.raises(vs.StatusError):                         # stale beyond grace, never "active"
        cache.lookup(ID_A, "sh")


def test_the_answer_must_be_about_the_asked_licence(trust, issuer, clock):
    cache = vs.StatusCache(trust, clock=clock,
                           fetch_response=lambda region, ident: issuer.fetch_response(region, ID_B))
    with pytest.raises(vs.StatusError, match="another licence"):
        cache.lookup(ID_A, "sh")
    cache = cache_for(trust, issuer, clock)
    with pytest.raises(vs.StatusError, match="another licence or region"):
        cache.lookup(ID_A, "js")                                 # sh's signer answering for js


# -- reporting -----------------------------------------------------------------------------------

@pytest.mark.parametrize("answer, indication, sub", [
    ({"status": "active"}, TOTAL_PASSED, None),
    ({"status": "superseded", "superseded_by": "X"}, TOTAL_PASSED, None),
    ({"status": "revoked", "reason": "吊销"}, TOTAL_FAILED, "REVOKED"),
    ({"status": "suspended"}, INDETERMINATE, "TRY_LATER"),
    ({"status": "expired"}, TOTAL_FAILED, "EXPIRED"),
    ({"status": "unknown"}, INDETERMINATE, "GENERIC"),
    ("revoked", TOTAL_FAILED, "REVOKED"),
])
def test_status_check_vocabulary(answer, indication, sub):
    report = Report(subject="qr-el1")
    vs.add_status_check(report, "status.licence", ID_A, lambda _i: answer)
    assert (report.indication, report.sub_indication) == (indication, sub)
    assert report.licence["status"] == (answer if isinstance(answer, str) else answer["status"])


def test_no_status_source_is_a_note_not_a_verdict():
    report = Report(subject="qr-el1")
    report.add("el1.signature", True)
    vs.add_status_check(report, "status.licence", ID_A, None)
    assert report.indication == TOTAL_PASSED and "not checked" in report.notes[0]


def test_a_crashing_lookup_is_try_later():
    report = Report(subject="qr-el1")
    vs.add_status_check(report, "status.licence", ID_A, lambda _i: 1 / 0)
    assert (report.indication, report.sub_indication) == (INDETERMINATE, "TRY_LATER")

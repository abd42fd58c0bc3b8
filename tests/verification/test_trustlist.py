"""Trust lists as a verifier sees them (verification.trustlist): every named check fails for the
input that should fail it and for no other; withdrawn entries reach QR verification through
QrTrust.from_trust_lists; hostile JSON never crashes and never passes.

Lists are produced by the service's own producer code (license_svc.federation.publish and
sign_envelope) with the development key store, so producer and verifier are checked against
each other; the canonical JSON of both sides is compared directly."""

import base64
import copy
import json
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from license_svc.config import DEV_KEYS_DIR
from license_svc.federation.publish import federation_regions, trust_list_entries
from license_svc.licences.record import iso_time
from formats.envelope import sign_envelope
from signing.keystore import KeyStore
from signing.qr import credentials
from verification import qr as vqr
from verification import trustlist as tl
from formats.canonical_json import canonical_json
from verification.report import INDETERMINATE, TOTAL_FAILED, TOTAL_PASSED

T0 = datetime(2026, 6, 1, 8, 0, tzinfo=timezone.utc)
AMR = "11310000MB0000010A"
RECORD = {
    "identifier": "1.2.156.3005.2.11100000MB0000001T001.11310000MB0000010A.ABCDEFGHJK0123456789.001.X",
    "type_code": "11100000MB0000001T001", "number": "SH2026000000000001",
    "holders": [{"name": "上海示例科技有限公司", "code": "91310000MA00000012", "code_type": "001"}],
    "issuer": {"name": "上海市市场监督管理局", "code": AMR},
    "valid_from": "2026-01-15", "valid_until": "2030-01-14", "region": "sh", "version": 1,
}


@pytest.fixture(scope="module")
def ks():
    return KeyStore.load(DEV_KEYS_DIR)


def payload_for(ks, region="sh", sequence=5, issued=T0, withdrawals=None):
    return {"schema": tl.TRUST_LIST_SCHEMA, "region": region, "sequence": sequence,
            "issued_at": iso_time(issued), "next_update": iso_time(issued + timedelta(hours=24)),
            "entries": trust_list_entries(ks, region, withdrawals or {}, None, issued),
            "recognised_types": ["11100000MB0000001T001"]}


def sign(ks, payload, region="sh", role="trust_list"):
    cred = ks.credential(region, role, "sm2")
    return sign_envelope(payload, cred.key, cred.cert)


def signers(ks, region="sh"):
    return [ks.credential(region, "trust_list", "sm2").cert.dump()]


def lotl_for(ks, sequence=3, issued=T0):
    return {"schema": tl.LOTL_SCHEMA, "sequence": sequence, "issued_at": iso_time(issued),
            "next_update": iso_time(issued + timedelta(days=7)),
            "regions": federation_regions(ks, {"js": "http://127.0.0.1:8002"})}


def root(ks):
    return [ks.federation_root().cert.dump()]


@pytest.fixture(scope="module")
def good(ks):
    return sign(ks, payload_for(ks))


def failed(result):
    return [c.name for c in result.report.checks if not c.passed]


# -- the envelope ------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**60, 2**60) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=20)


@given(json_values)
@settings(max_examples=150, deadline=None)
def test_canonical_json_is_a_fixed_point_of_parsing(value):
    """What a verifier re-derives from the parsed JSON is byte for byte what was signed."""
    text = canonical_json(value)
    assert json.loads(text) == value
    assert canonical_json(json.loads(text)) == text


def test_valid_trust_list_passes_every_check(ks, good):
    r = tl.verify_trust_list(good, signers(ks), T0 + timedelta(hours=1), region="sh",
                             known_sequence=5)
    assert r.report.indication == TOTAL_PASSED, r.report.to_text()
    assert [c.name for c in r.report.checks] == [
        "trust_list.envelope_format", "trust_list.signer_trusted", "trust_list.signature",
        "trust_list.schema", "trust_list.list_format", "trust_list.signer_validity",
        "trust_list.region", "trust_list.sequence", "trust_list.freshness"]
    assert r.ok and r.usable and r.payload["region"] == "sh" and r.sequence == 5
    roles = {e.role for e in r.entries}
    assert roles == {"licence_signer", "seal_maker", "tsa", "status_signer", "node", "audit_log",
                     "witness"}
    # bytes in, same answer
    again = tl.verify_trust_list(json.dumps(good).encode(), signers(ks), T0, region="sh")
    assert again.ok


def test_federation_list_passes_and_names_signers(ks):
    env = sign_envelope(lotl_for(ks), ks.federation_root().key, ks.federation_root().cert)
    r = tl.verify_federation_list(env, root(ks), T0)
    assert r.ok, r.report.to_text()
    assert tl.trust_list_signers(r.payload, "zj") == signers(ks, "zj")
    assert tl.region_urls(r.payload)["js"] == "http://127.0.0.1:8002"
    assert tl.region_urls(r.payload)["sh"].startswith("https://")


@pytest.mark.parametrize("change", [
    lambda p: p["entries"][0].update(status="withdrawn"),
    lambda p: p.update(sequence=p["sequence"] + 1),
    lambda p: p["recognised_types"].append("X"),
    lambda p: p["entries"].append(copy.deepcopy(p["entries"][0])),
])
def test_tampered_payload_fails_the_signature(ks, good, change):
    env = copy.deepcopy(good)
    change(env["payload"])
    r = tl.verify_trust_list(env, signers(ks), T0, region="sh")
    assert (r.report.indication, r.report.sub_indication) == (TOTAL_FAILED, "SIG_CRYPTO_FAILURE")
    assert r.payload is None and not r.usable


def test_tampered_signature_fields(ks, good):
    env = copy.deepcopy(good)
    value = bytearray(base64.b64decode(env["signature"]["value"]))
    value[-3] ^= 1
    env["signature"]["value"] = base64.b64encode(bytes(value)).decode()
    assert tl.verify_trust_list(env, signers(ks), T0).report.sub_indication == "SIG_CRYPTO_FAILURE"
    env = copy.deepcopy(good)
    env["signature"]["alg"] = "RS256"
    assert tl.verify_trust_list(env, signers(ks), T0).report.sub_indication == "SIG_CRYPTO_FAILURE"


def test_wrong_signer_is_not_trusted(ks):
    # genuinely signed, but by js's trust-list key / by sh's node key: not a pinned signer
    for env in (sign(ks, payload_for(ks), region="js"), sign(ks, payload_for(ks), role="node")):
        r = tl.verify_trust_list(env, signers(ks, "sh"), T0, region="sh")
        assert (r.report.indication, r.report.sub_indication) == \
            (INDETERMINATE, "NO_CERTIFICATE_CHAIN_FOUND")
        assert r.payload is None and not r.usable


def test_pinned_certificate_with_someone_elses_signature(ks):
    env = sign(ks, payload_for(ks), region="js")
    env["signature"]["cert"] = base64.b64encode(signers(ks, "sh")[0]).decode()
    r = tl.verify_trust_list(env, signers(ks, "sh"), T0, region="sh")
    assert (r.report.indication, r.report.sub_indication) == (TOTAL_FAILED, "SIG_CRYPTO_FAILURE")


def test_federation_list_signed_by_a_region_key_is_refused(ks):
    env = sign(ks, lotl_for(ks))  # sh trust-list signer, not the federation root
    r = tl.verify_federation_list(env, root(ks), T0)
    assert r.report.sub_indication == "NO_CERTIFICATE_CHAIN_FOUND" and r.payload is None


def test_list_for_another_region(ks):
    env = sign(ks, payload_for(ks, "js"), region="js")
    r = tl.verify_trust_list(env, signers(ks, "js"), T0, region="sh")
    assert failed(r) == ["trust_list.region"] and r.report.indication == TOTAL_FAILED and not r.usable


def test_rollback_is_refused(ks, good):
    r = tl.verify_trust_list(good, signers(ks), T0, region="sh", known_sequence=6)
    assert failed(r) == ["trust_list.sequence"]
    assert (r.report.indication, r.report.sub_indication) == (TOTAL_FAILED, "SIG_CONSTRAINTS_FAILURE")
    assert not r.usable
    assert tl.verify_trust_list(good, signers(ks), T0, known_sequence=5).ok  # same sequence: fine


def test_freshness_grace_then_try_later(ks, good):
    next_update = T0 + timedelta(hours=24)
    within = tl.verify_trust_list(good, signers(ks), next_update + timedelta(hours=2),
                                  grace=timedelta(hours=6))
    assert within.ok and within.report.notes
    stale = tl.verify_trust_list(good, signers(ks), next_update + timedelta(hours=7),
                                 grace=timedelta(hours=6))
    assert (stale.report.indication, stale.report.sub_indication) == (INDETERMINATE, "TRY_LATER")
    assert failed(stale) == ["trust_list.freshness"]
    assert stale.usable and not stale.ok  # genuine: a syncing node may keep it, not use it


def test_issued_in_the_future(ks, good):
    r = tl.verify_trust_list(good, signers(ks), T0 - timedelta(hours=1))
    assert (r.report.indication, r.report.sub_indication) == (TOTAL_FAILED, "NOT_YET_VALID")
    assert tl.verify_trust_list(good, signers(ks), T0 - timedelta(minutes=2)).ok  # skew


def test_signer_certificate_not_valid_when_issued(ks):
    early = datetime(2025, 6, 1, tzinfo=timezone.utc)  # dev certificates start 2026-01-01
    env = sign(ks, payload_for(ks, issued=early))
    r = tl.verify_trust_list(env, signers(ks), early)
    assert failed(r) == ["trust_list.signer_validity"] and r.report.sub_indication == "NOT_YET_VALID"


def _entry0(p):
    return p["entries"][0]


@pytest.mark.parametrize("change", [
    lambda p: p.update(sequence=True),
    lambda p: p.update(sequence=-1),
    lambda p: p.update(sequence="7"),
    lambda p: p.update(issued_at="2026-06-01 08:00:00"),
    lambda p: p.update(next_update=p["issued_at"]),
    lambda p: p.update(entries={"a": 1}),
    lambda p: p.update(region="SH; drop"),
    lambda p: p.update(recognised_types="all"),
    lambda p: p.pop("recognised_types"),
    lambda p: _entry0(p).update(role="root"),
    lambda p: _entry0(p).update(status="suspended"),
    lambda p: _entry0(p).update(since="yesterday"),
    lambda p: _entry0(p).update(cert="not base64!"),
    lambda p: _entry0(p).update(cert=base64.b64encode(b"\x30\x03\x02\x01\x01").decode()),
    lambda p: _entry0(p).update(algorithm="rsa" if _entry0(p)["algorithm"] == "sm2" else "sm2"),
    lambda p: _entry0(p).update(org_name=None),
    lambda p: p["entries"].append("x"),
])
def test_malformed_but_signed_lists_fail_the_format_check(ks, change):
    payload = payload_for(ks)
    change(payload)
    r = tl.verify_trust_list(sign(ks, payload), signers(ks), T0, region="sh")
    assert r.report.indication == TOTAL_FAILED and r.report.sub_indication == "FORMAT_FAILURE"
    assert r.payload is None and failed(r)[0] in ("trust_list.list_format",), r.report.to_text()


@pytest.mark.parametrize("change", [
    lambda p: p.update(regions=[]),
    lambda p: p["regions"].append(copy.deepcopy(p["regions"][0])),
    lambda p: p["regions"][0].update(node_url="javascript:alert(1)"),
    lambda p: p["regions"][0].update(trust_list_signers=[]),
    lambda p: p["regions"][0].update(trust_list_signers=["AAAA"]),
])
def test_malformed_federation_lists(ks, change):
    payload = lotl_for(ks)
    change(payload)
    env = sign_envelope(payload, ks.federation_root().key, ks.federation_root().cert)
    r = tl.verify_federation_list(env, root(ks), T0)
    assert r.report.sub_indication == "FORMAT_FAILURE" and r.payload is None


def test_schema_confusion(ks, good):
    # a trust list is not a federation list, and the reverse
    assert tl.verify_federation_list(good, signers(ks), T0).report.check("trust_list.schema").passed is False
    env = sign_envelope(lotl_for(ks), ks.federation_root().key, ks.federation_root().cert)
    assert tl.verify_trust_list(env, root(ks), T0).report.check("trust_list.schema").passed is False


# -- withdrawn entries reach QR verification ---------------------------------------------------

def test_withdrawn_signer_fails_qr_codes_signed_after_since(ks):
    cred = ks.credential("sh", "licence_signer", "sm2", org_code=AMR)
    since = T0 + timedelta(days=1)

    class W:  # what publish reads from the withdrawals table
        pass
    w = W()
    w.since = since
    import hashlib
    withdrawals = {hashlib.sha256(cred.cert.dump()).hexdigest(): w}
    env = sign(ks, payload_for(ks, issued=since, withdrawals=withdrawals))
    r = tl.verify_trust_list(env, signers(ks), since, region="sh")
    assert r.ok
    entry = next(e for e in r.entries if e.cert_der == cred.cert.dump())
    assert entry.status == "withdrawn" and entry.since == since
    assert entry.granted_at(since - timedelta(seconds=1)) and not entry.granted_at(since)

    trust = vqr.QrTrust.from_trust_lists([r.payload])
    before = credentials.el1_for_record(RECORD, {}, cred.key, cred.cert.dump(), now=since - timedelta(hours=1))
    after = credentials.el1_for_record(RECORD, {}, cred.key, cred.cert.dump(), now=since + timedelta(hours=1))
    assert vqr.verify_qr_text(before, trust, since + timedelta(hours=2)).indication == TOTAL_PASSED
    late = vqr.verify_qr_text(after, trust, since + timedelta(hours=2))
    assert (late.indication, late.sub_indication) == (TOTAL_FAILED, "REVOKED")
    # another organisation of the same list is untouched
    other = ks.credential("sh", "licence_signer", "sm2", org_code="11310000MB0000020B")
    rec = dict(RECORD, issuer={"name": "上海市公安局交通警察总队", "code": "11310000MB0000020B"})
    el1 = credentials.el1_for_record(rec, {}, other.key, other.cert.dump(), now=since + timedelta(hours=1))
    assert vqr.verify_qr_text(el1, trust, since + timedelta(hours=2)).indication == TOTAL_PASSED


# -- hostile input --------------------------------------------------------------------------------

def _paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value[:3]):
            yield from _paths(v, prefix + (i,))


def _replace(value, path, new):
    if not path:
        return new
    out = copy.copy(value)
    out[path[0]] = _replace(value[path[0]], path[1:], new)
    return out


@pytest.fixture(scope="module")
def good_paths(good):
    return list(_paths(good))


@given(data=st.data(), new=json_values | st.floats(allow_nan=True) | st.binary(max_size=8).map(repr))
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_hostile_structures_never_crash_never_pass(ks, good, good_paths, data, new):
    path = data.draw(st.sampled_from(good_paths))
    env = _replace(good, path, new)
    for result in (tl.verify_trust_list(env, signers(ks), T0, region="sh"),
                   tl.verify_federation_list(env, root(ks), T0)):
        if result.report.indication == TOTAL_PASSED:
            assert result.kind == tl.KIND_TRUST_LIST and json.dumps(env, sort_keys=True) == \
                json.dumps(good, sort_keys=True)  # only an unchanged list passes


@given(st.binary(max_size=300) | st.text(max_size=300))
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_hostile_bytes_never_crash(ks, data):
    r = tl.verify_trust_list(data, signers(ks), T0)
    assert r.report.indication != TOTAL_PASSED and r.payload is None


def test_deep_nesting_and_oversize(ks):
    deep = b"[" * 100_000 + b"]" * 100_000
    fmt = "trust_list.envelope_format"
    assert tl.verify_trust_list(deep, signers(ks), T0).report.check(fmt).passed is False
    big = b'{"payload": "' + b"A" * (9 * 1024 * 1024) + b'"}'
    assert tl.verify_trust_list(big, signers(ks), T0).report.check(fmt).passed is False


def test_naive_time_is_a_programming_error(ks, good):
    with pytest.raises(ValueError):
        tl.verify_trust_list(good, signers(ks), datetime(2026, 6, 1))


def test_a_v1_list_is_still_read_and_keeps_to_the_v1_roles(ks):
    """Lists of nodes not yet upgraded (yrd-trust-list/1, no witness role, no licence_types)
    still verify; /1 with a witness entry is refused (that role is /2's)."""
    payload = payload_for(ks)
    v1_entries = [{k: v for k, v in e.items() if k != "licence_types"}
                  for e in payload["entries"] if e["role"] in tl.ENTRY_ROLES_V1]
    v1 = dict(payload, schema=tl.TRUST_LIST_SCHEMA_V1, entries=v1_entries)
    r = tl.verify_trust_list(sign(ks, v1), signers(ks), T0 + timedelta(hours=1), region="sh")
    assert r.ok, r.report.to_text()
    assert any(e["role"] == "witness" for e in payload["entries"])
    mixed = dict(payload, schema=tl.TRUST_LIST_SCHEMA_V1)
    r = tl.verify_trust_list(sign(ks, mixed), signers(ks), T0 + timedelta(hours=1), region="sh")
    assert r.report.indication == TOTAL_FAILED
    assert payload["schema"] == "yrd-trust-list/2"

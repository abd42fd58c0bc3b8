"""The compact 亮证 code (EP2): it verifies like an EP1 and reports the same licence; changed,
stale, wrongly signed, unknown-signer and random codes fail or stay undetermined, never crash;
an EP1 made before EP2 existed (a stored fixture) still verifies."""

from datetime import datetime, timedelta, timezone
from pathlib import Path

import base45
import cbor2
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from formats import algorithms as alg
from formats.qr_claims import claims_digest
from signing.keystore import KeyStore
from signing.qr import credentials, image
from signing.x509 import build_certificate, build_name
from verification import qr as vqr
from verification.report import INDETERMINATE, TOTAL_FAILED, TOTAL_PASSED

NOW = datetime(2026, 3, 1, 8, 0, tzinfo=timezone.utc)
TRAFFIC = "11310000MB0000020B"
RECORD = {
    "identifier": "1.2.156.3005.2.11100000MB0000002X001.11310000MB0000020B.ABCDEFGHJK0123456789.001.X",
    "type_code": "11100000MB0000002X001", "number": "310101199003071230",
    "holders": [{"name": "张三", "code": "310101199003071230", "code_type": "111"}],
    "issuer": {"name": "上海市公安局交通警察总队", "code": TRAFFIC},
    "valid_from": "2026-01-15", "valid_until": "2032-01-15", "region": "sh", "version": 1,
}
RULES = {"mask": {"h": "name", "hid": "keep:4:4", "n": "keep:4:4"}}
FIXTURE = Path(__file__).parent / "qr_fixtures" / "ep1-rsa-2026-03-01T08-00Z.txt"


@pytest.fixture(scope="module")
def ks():
    return KeyStore.load("keys_dev")


@pytest.fixture(scope="module")
def trust(ks):
    return vqr.QrTrust.from_keystore(ks)


def _el1(ks, algorithm="sm2", record=RECORD, rules=RULES, org=TRAFFIC):
    cred = ks.credential(record["region"], "licence_signer", algorithm, org_code=org)
    return credentials.el1_for_record(record, rules, cred.key, cred.cert.dump(), now=NOW)


def _ep2(ks, el1, region="sh", now=NOW, node_region=None):
    node = ks.credential(node_region or region, "node", "sm2")
    return credentials.make_ep2(node.key, node.cert.dump(), region=region, el1=el1, now=now)


def _cose(text):
    return cbor2.loads(base45.b45decode(text[4:]))


def _text(protected, payload, signature):
    return "EP2:" + base45.b45encode(cbor2.dumps(cbor2.CBORTag(18, [protected, {}, payload, signature]))).decode()


@pytest.mark.parametrize("algorithm", ["sm2", "rsa"])
def test_ep2_reports_what_the_el1_reports(ks, trust, algorithm):
    el1 = _el1(ks, algorithm)
    text, cti = _ep2(ks, el1)
    at = NOW + timedelta(seconds=20)
    r = vqr.verify_qr_text(text, trust, at)
    assert r.indication == TOTAL_PASSED, r.to_text()
    assert r.subject == "qr-ep1" and r.licence["presentation"]["format"] == "EP2"
    assert r.licence["presentation"]["cti"] == cti.hex()
    assert r.check("ep1.signature").passed and r.check("el1.attested").passed
    assert r.check("el1.signature") is None  # nothing claims the issuer's signature was checked
    alone = vqr.verify_qr_text(el1, trust, at)
    assert {k: v for k, v in r.licence.items() if k != "presentation"} == alone.licence
    assert r.signer == alone.signer  # the licence signer, found by its kid
    # the rebuilt claims are the EL1's to the byte: the digest the issuing register signs
    licence_signed = [s for s in r.signatures if s.role == vqr.ROLE_LICENCE_SIGNER]
    assert claims_digest(licence_signed[0].claims) == claims_digest(alone.signatures[0].claims)
    assert (len(image.modules(text, image.EC_SCREEN)) - 17) // 4 <= 13


def test_the_stored_ep1_still_verifies(ks, trust):
    ep1 = FIXTURE.read_text("ascii").strip()
    assert ep1.startswith("EP1:") and len(ep1) > 800
    r = vqr.verify_qr_text(ep1, trust, NOW + timedelta(seconds=30))
    assert r.indication == TOTAL_PASSED, r.to_text()
    assert r.licence["presentation"]["format"] == "EP1"
    assert r.check("el1.signature").passed and r.signer["algorithm"] == "rsa"
    again = vqr.verify_qr_text(_ep2(ks, _el1(ks, "rsa"))[0], trust, NOW + timedelta(seconds=30))
    assert again.licence["id"] == r.licence["id"] and again.licence["h"] == r.licence["h"] == "张*"
    assert (len(image.modules(ep1, image.EC_SCREEN)) - 17) // 4 > 15


def test_a_long_company_name_still_fits_version_15(ks, trust):
    record = dict(RECORD, holders=[{"name": "上海长三角一体化示范区数字政务电子证照联合创新服务有限责任公司",
                                    "code": "91310000MA00000012", "code_type": "001"}])
    text, _ = _ep2(ks, _el1(ks, "rsa", record, {}))
    assert (len(image.modules(text, image.EC_SCREEN)) - 17) // 4 <= 15
    assert vqr.verify_qr_text(text, trust, NOW).indication == TOTAL_PASSED


def test_changed_claim_fails_the_node_signature(ks, trust):
    text, _ = _ep2(ks, _el1(ks))
    protected, _u, payload, sig = _cose(text).value
    body = cbor2.loads(payload)
    body[-70002][3] = "李*"  # someone else's name
    r = vqr.verify_qr_text(_text(protected, cbor2.dumps(body), sig), trust, NOW)
    assert (r.indication, r.sub_indication) == (TOTAL_FAILED, "SIG_CRYPTO_FAILURE")
    assert not r.check("ep1.signature").passed and r.check("el1.attested") is None


def test_stale_and_future_presentations_fail(ks, trust):
    text, _ = _ep2(ks, _el1(ks))
    late = vqr.verify_qr_text(text, trust, NOW + timedelta(seconds=61))
    assert (late.indication, late.sub_indication) == (TOTAL_FAILED, "EXPIRED")
    assert not late.check("ep1.freshness").passed
    early = vqr.verify_qr_text(text, trust, NOW - timedelta(minutes=5))
    assert (early.indication, early.sub_indication) == (TOTAL_FAILED, "NOT_YET_VALID")


def test_wrong_key_under_the_nodes_kid_fails(ks, trust):
    text, _ = _ep2(ks, _el1(ks))
    protected, _u, payload, _sig = _cose(text).value
    attacker = alg.generate_private_key("sm2")
    forged = alg.registry.of_key(attacker).cose_sign(
        attacker, cbor2.dumps(["Signature1", protected, b"", payload]))
    r = vqr.verify_qr_text(_text(protected, payload, forged), trust, NOW)
    assert (r.indication, r.sub_indication) == (TOTAL_FAILED, "SIG_CRYPTO_FAILURE")


def test_another_regions_node_cannot_present_as_sh(ks, trust):
    text, _ = _ep2(ks, _el1(ks), region="sh", node_region="js")
    r = vqr.verify_qr_text(text, trust, NOW)
    assert (r.indication, r.sub_indication) == (TOTAL_FAILED, "SIG_CONSTRAINTS_FAILURE")
    assert not r.check("ep1.region").passed


def test_a_node_only_presents_its_own_regions_licences(ks):
    with pytest.raises(credentials.QRError):
        _ep2(ks, _el1(ks), region="js")


def test_unknown_node_or_licence_signer_is_indeterminate(ks, trust):
    key = alg.generate_private_key("sm2")
    cert = build_certificate(subject=build_name("rogue"), subject_public_key=key.public_key,
                             issuer_key=key, not_before=NOW - timedelta(days=1),
                             not_after=NOW + timedelta(days=30), key_usage={"digital_signature"})
    rogue_node = credentials.make_ep2(key, cert.dump(), region="sh", el1=_el1(ks), now=NOW)[0]
    r = vqr.verify_qr_text(rogue_node, trust, NOW)
    assert (r.indication, r.sub_indication) == (INDETERMINATE, "NO_CERTIFICATE_CHAIN_FOUND")
    rogue_el1 = credentials.el1_for_record(RECORD, RULES, key, cert.dump(), now=NOW)
    r = vqr.verify_qr_text(_ep2(ks, rogue_el1)[0], trust, NOW)
    assert (r.indication, r.sub_indication) == (INDETERMINATE, "NO_CERTIFICATE_CHAIN_FOUND")
    assert not r.check("el1.signer_known").passed


def test_a_signed_but_malformed_presented_licence_is_a_format_failure(ks, trust):
    node = ks.credential("sh", "node", "sm2")
    for presented in ({1: "no.such.identifier"}, {1: 5}, "text", {99: 1}):
        payload = {1: "sh", 6: int(NOW.timestamp()), 4: int(NOW.timestamp()) + 60,
                   7: b"\x01" * 16, -70002: presented}
        from signing.qr.cose import sign1
        text = "EP2:" + base45.b45encode(sign1(node.key, node.cert.dump(), payload)).decode()
        r = vqr.verify_qr_text(text, trust, NOW)
        assert (r.indication, r.sub_indication) == (TOTAL_FAILED, "FORMAT_FAILURE"), presented
        assert not r.check("el1.format").passed


def test_the_screen_png_decodes_to_the_text(ks, trust):
    text, _ = _ep2(ks, _el1(ks, "rsa"))
    r = vqr.verify_qr_image(image.png(text, scale=3, ec_level=image.EC_SCREEN), trust, NOW)
    assert r.indication == TOTAL_PASSED, r.to_text()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_random_changes_never_crash_and_never_pass(ks, trust, data):
    text, _ = _ep2(ks, _el1(ks))
    raw = bytearray(base45.b45decode(text[4:]))
    for _ in range(data.draw(st.integers(1, 4))):
        i = data.draw(st.integers(0, len(raw) - 1))
        raw[i] ^= data.draw(st.integers(1, 255))
    cut = data.draw(st.integers(1, len(raw)))
    r = vqr.verify_qr_text("EP2:" + base45.b45encode(bytes(raw[:cut])).decode(), trust, NOW)
    assert r.indication in (TOTAL_FAILED, INDETERMINATE), r.to_text()


def test_ep2_carries_only_what_the_template_masked(ks, trust):
    """A driving licence's number is its holder's ID number: the EP2 carries it (and the holder
    code and name) masked exactly as the EL1 does, never in clear."""
    person = RECORD["number"]
    text, _ = _ep2(ks, _el1(ks))
    raw = base45.b45decode(text[4:])
    assert person.encode() not in raw and person[4:-4].encode() not in raw and "张三".encode() not in raw
    r = vqr.verify_qr_text(text, trust, NOW)
    assert (r.licence["n"], r.licence["hid"], r.licence["h"]) == ("3101**********1230",) * 2 + ("张*",)


@pytest.mark.parametrize("change", [{"vf": "20260115"}, {"v": 2}, {"t": "11100000MB0000001T001"},
                                    {"extra": "x"}])
def test_an_el1_that_would_not_come_back_equal_is_refused(ks, change):
    """The producer side of "rebuilt to the byte": claims an EP2 would not restore exactly."""
    cred = ks.credential("sh", "licence_signer", "sm2", org_code=TRAFFIC)
    claims = dict(credentials.licence_claims(RECORD, RULES), **change)
    el1 = credentials.make_el1(cred.key, cred.cert.dump(), issuer_code=TRAFFIC, claims=claims,
                               iat=NOW, exp=NOW + timedelta(days=30))
    with pytest.raises(credentials.QRError):
        _ep2(ks, el1)

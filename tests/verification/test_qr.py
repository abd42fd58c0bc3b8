"""Offline QR verification: valid, a licence code that failed (and why), not a licence code.
Hostile input (garbage, truncation, zlib bombs, random CBOR) never crashes and never passes."""

import zlib
from datetime import datetime, timedelta, timezone

import base45
import cbor2
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from formats import algorithms as alg
from signing.keystore import KeyStore
from signing.qr import cose as signing_cose
from signing.qr import credentials, image
from signing.x509 import build_certificate, build_name
from verification import qr as vqr
from verification.report import INDETERMINATE, TOTAL_FAILED, TOTAL_PASSED

NOW = datetime(2026, 3, 1, 8, 0, tzinfo=timezone.utc)
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
    return KeyStore.load("keys_dev")


@pytest.fixture(scope="module")
def trust(ks):
    return vqr.QrTrust.from_keystore(ks)


def _el1(ks, algorithm="sm2", record=RECORD, now=NOW, org=AMR, region="sh"):
    cred = ks.credential(region, "licence_signer", algorithm, org_code=org)
    return credentials.el1_for_record(record, {}, cred.key, cred.cert.dump(), now=now)


def _ep1(ks, el1, region="sh", now=NOW, node_region=None):
    node = ks.credential(node_region or region, "node", "sm2")
    return credentials.make_ep1(node.key, node.cert.dump(), region=region, el1=el1, now=now)


def _pack(prefix, cose_bytes):
    return prefix + base45.b45encode(zlib.compress(cose_bytes)).decode()


def _unpack(text):
    return cbor2.loads(zlib.decompress(base45.b45decode(text[4:])))


def test_trust_from_keystore_covers_every_region(ks, trust):
    # every region's licence signers (SM2 and RSA, each organisation) + one SM2 node per region
    orgs = len(ks.organisations())
    assert orgs >= 4 * 3
    assert len(trust) == orgs * 2 + 4


@pytest.mark.parametrize("algorithm", ["sm2", "rsa"])
def test_valid_el1(ks, trust, algorithm):
    r = vqr.verify_qr_text(_el1(ks, algorithm), trust, NOW + timedelta(days=30))
    assert r.indication == TOTAL_PASSED, r.to_text()
    assert r.subject == "qr-el1"
    assert r.licence["id"] == RECORD["identifier"] and r.licence["issuer_code"] == AMR
    assert r.signer["org_name"] == "上海市市场监督管理局" and r.signer["algorithm"] == algorithm


def test_valid_ep1_exposes_cti(ks, trust):
    ep1, cti = _ep1(ks, _el1(ks))
    r = vqr.verify_qr_text(ep1, trust, NOW + timedelta(seconds=20))
    assert r.indication == TOTAL_PASSED, r.to_text()
    assert r.subject == "qr-ep1"
    assert r.licence["presentation"]["cti"] == cti.hex()
    assert r.licence["presentation"]["region"] == "sh"
    assert r.check("el1.signature").passed and r.check("ep1.signature").passed


def test_ep1_from_a_licence_of_another_region(ks, trust):
    """A js licence shown through the holder's sh wallet: both signatures verify."""
    rec = dict(RECORD, region="js", issuer={"name": "江苏省市场监督管理局", "code": "11320000MB0000010E"})
    el1 = _el1(ks, record=rec, org="11320000MB0000010E", region="js")
    ep1, _ = _ep1(ks, el1, region="sh")
    assert vqr.verify_qr_text(ep1, trust, NOW + timedelta(seconds=5)).indication == TOTAL_PASSED


def _resign_payload(text, change):
    """Change the payload but keep the original protected header and signature."""
    obj = _unpack(text)
    protected, unprot, payload, sig = obj.value
    body = cbor2.loads(payload)
    change(body)
    return _pack(text[:4], cbor2.dumps(cbor2.CBORTag(18, [protected, dict(unprot),
                                                          cbor2.dumps(body), sig])))


@pytest.mark.parametrize("algorithm", ["sm2", "rsa"])
def test_changed_claim_fails_signature(ks, trust, algorithm):
    text = _resign_payload(_el1(ks, algorithm),
                           lambda b: b[-70000].__setitem__("vu", "2099-12-31"))
    r = vqr.verify_qr_text(text, trust, NOW)
    assert (r.indication, r.sub_indication) == (TOTAL_FAILED, "SIG_CRYPTO_FAILURE")
    assert r.subject == "qr-el1"


def test_changed_el1_inside_ep1_fails(ks, trust):
    el1 = _resign_payload(_el1(ks), lambda b: b[-70000].__setitem__("h", "别人的公司"))
    ep1, _ = _ep1(ks, el1)
    r = vqr.verify_qr_text(ep1, trust, NOW + timedelta(seconds=1))
    assert (r.indication, r.sub_indication) == (TOTAL_FAILED, "SIG_CRYPTO_FAILURE")
    assert r.check("ep1.signature").passed and not r.check("el1.signature").passed


def test_wrong_key_claiming_a_trusted_kid_fails(ks, trust):
    cred = ks.credential("sh", "licence_signer", "sm2", org_code=AMR)
    good = _unpack(_el1(ks)).value
    attacker = alg.generate_private_key("sm2")
    forged = alg.registry.of_key(attacker).cose_sign(
        attacker, cbor2.dumps(["Signature1", good[0], b"", good[2]]))
    text = _pack("EL1:", cbor2.dumps(cbor2.CBORTag(18, [good[0], {}, good[2], forged])))
    r = vqr.verify_qr_text(text, trust, NOW)
    assert (r.indication, r.sub_indication) == (TOTAL_FAILED, "SIG_CRYPTO_FAILURE")
    assert cred.cert.dump()  # the kid in the header is the real signer's


def test_unknown_signer_is_indeterminate(ks, trust):
    key = alg.generate_private_key("sm2")
    cert = build_certificate(subject=build_name("rogue"), subject_public_key=key.public_key,
                             issuer_key=key, not_before=NOW - timedelta(days=1),
                             not_after=NOW + timedelta(days=30), key_usage={"digital_signature"})
    text = credentials.el1_for_record(RECORD, {}, key, cert.dump(), now=NOW)
    r = vqr.verify_qr_text(text, trust, NOW)
    assert (r.indication, r.sub_indication) == (INDETERMINATE, "NO_CERTIFICATE_CHAIN_FOUND")


def test_signer_of_another_organisation_cannot_speak_for_it(ks, trust):
    """The traffic police signer signing claims with the market regulator as issuer."""
    cred = ks.credential("sh", "licence_signer", "sm2", org_code="11310000MB0000020B")
    text = credentials.el1_for_record(RECORD, {}, cred.key, cred.cert.dump(), now=NOW)
    r = vqr.verify_qr_text(text, trust, NOW)
    assert (r.indication, r.sub_indication) == (TOTAL_FAILED, "SIG_CONSTRAINTS_FAILURE")
    assert r.check("el1.signature").passed and not r.check("el1.issuer_binding").passed


def test_ep1_from_the_wrong_region_node(ks, trust):
    ep1, _ = _ep1(ks, _el1(ks), region="sh", node_region="js")
    r = vqr.verify_qr_text(ep1, trust, NOW + timedelta(seconds=1))
    assert (r.indication, r.sub_indication) == (TOTAL_FAILED, "SIG_CONSTRAINTS_FAILURE")


def test_ep1_signed_by_a_licence_signer_is_not_a_node(ks, trust):
    cred = ks.credential("sh", "licence_signer", "sm2", org_code=AMR)
    ep1, _ = credentials.make_ep1(cred.key, cred.cert.dump(), region="sh", el1=_el1(ks), now=NOW)
    r = vqr.verify_qr_text(ep1, trust, NOW)
    assert (r.indication, r.sub_indication) == (INDETERMINATE, "NO_CERTIFICATE_CHAIN_FOUND")


def test_expired_and_future_presentations(ks, trust):
    ep1, _ = _ep1(ks, _el1(ks))
    stale = vqr.verify_qr_text(ep1, trust, NOW + timedelta(seconds=61))
    assert (stale.indication, stale.sub_indication) == (TOTAL_FAILED, "EXPIRED")
    assert not stale.check("ep1.freshness").passed
    assert vqr.verify_qr_text(ep1, trust, NOW + timedelta(seconds=60)).indication == TOTAL_PASSED
    future = vqr.verify_qr_text(ep1, trust, NOW - timedelta(minutes=5))
    assert (future.indication, future.sub_indication) == (TOTAL_FAILED, "NOT_YET_VALID")


def test_ep1_with_a_long_lifetime_is_refused(ks, trust):
    node = ks.credential("sh", "node", "sm2")
    el1 = credentials.cose_from_text(_el1(ks))
    iat = int(NOW.timestamp())
    cose = signing_cose.sign1(node.key, node.cert.dump(),
                              {1: "sh", 6: iat, 4: iat + 3600, 7: b"\x01" * 16, -70001: el1})
    r = vqr.verify_qr_text(_pack("EP1:", cose), trust, NOW + timedelta(seconds=5))
    assert (r.indication, r.sub_indication) == (TOTAL_FAILED, "SIG_CONSTRAINTS_FAILURE")


def test_expired_licence_code(ks, trust):
    r = vqr.verify_qr_text(_el1(ks), trust, datetime(2030, 1, 15, tzinfo=timezone.utc))
    assert (r.indication, r.sub_indication) == (TOTAL_FAILED, "EXPIRED")


def test_licence_not_yet_in_force(ks, trust):
    rec = dict(RECORD, valid_from="2026-06-01")
    r = vqr.verify_qr_text(_el1(ks, record=rec), trust, NOW)
    assert (r.indication, r.sub_indication) == (TOTAL_FAILED, "NOT_YET_VALID")
    # 2026-05-31T16:00Z is already 1 June in Beijing
    ok = vqr.verify_qr_text(_el1(ks, record=rec), trust, datetime(2026, 5, 31, 16, 0, tzinfo=timezone.utc))
    assert ok.indication == TOTAL_PASSED, ok.to_text()


def test_trust_from_trust_list_payloads(ks):
    import base64

    signer = ks.credential("sh", "licence_signer", "sm2", org_code=AMR)
    node = ks.credential("sh", "node", "sm2")
    payload = {"schema": "yrd-trust-list/1", "region": "sh", "entries": [
        {"role": "licence_signer", "org_name": "上海市市场监督管理局", "org_code": AMR,
         "algorithm": "sm2", "cert": base64.b64encode(signer.cert.dump()).decode(),
         "status": "withdrawn", "since": "2026-03-01T09:00:00+00:00"},
        {"role": "node", "org_name": "上海市大数据中心", "org_code": node.org_code, "algorithm": "sm2",
         "cert": base64.b64encode(node.cert.dump()).decode(), "status": "granted",
         "since": "2026-01-01T00:00:00+00:00"},
        {"role": "tsa", "cert": "ignored"}]}
    trust = vqr.QrTrust.from_trust_lists([payload])
    assert len(trust) == 2
    ep1, _ = _ep1(ks, _el1(ks))  # signed 08:00, before the withdrawal at 09:00
    assert vqr.verify_qr_text(ep1, trust, NOW + timedelta(seconds=1)).indication == TOTAL_PASSED
    late = _el1(ks, now=NOW + timedelta(hours=2))
    r = vqr.verify_qr_text(late, trust, NOW + timedelta(hours=2))
    assert (r.indication, r.sub_indication) == (TOTAL_FAILED, "REVOKED")


def test_bad_trust_material_fails_when_building_trust():
    with pytest.raises(ValueError):
        vqr.QrSigner(b"\x30\x03\x02\x01\x01", "node", "sh")


def test_withdrawn_signer(ks):
    cred = ks.credential("sh", "licence_signer", "sm2", org_code=AMR)
    trust = vqr.QrTrust([vqr.QrSigner(cred.cert.dump(), "licence_signer", "sh", AMR,
                                      withdrawn_at=NOW - timedelta(days=1))])
    r = vqr.verify_qr_text(_el1(ks), trust, NOW)
    assert (r.indication, r.sub_indication) == (TOTAL_FAILED, "REVOKED")


@pytest.mark.parametrize("text", ["https://www.gsxt.gov.cn/", "HELLO", "", "el1:lowercase",
                                  "WIFI:S:cafe;T:WPA;P:secret;;"])
def test_not_a_licence_code(trust, text):
    r = vqr.verify_qr_text(text, trust, NOW)
    assert r.subject == "not-a-licence"
    assert (r.indication, r.sub_indication) == (INDETERMINATE, "SIGNED_DATA_NOT_FOUND")
    assert "不是" in r.checks[0].detail or "未找到" in r.checks[0].detail


@pytest.mark.parametrize("text", ["EL1:", "EL1:!!!", "EL1:ABC", "EP1:" + "A" * 5000,
                                  "EL1:" + base45.b45encode(b"not zlib").decode()])
def test_garbage_after_prefix_is_format_failure(trust, text):
    r = vqr.verify_qr_text(text, trust, NOW)
    assert (r.indication, r.sub_indication) == (TOTAL_FAILED, "FORMAT_FAILURE")


def test_truncated_and_bombs(ks, trust):
    text = _el1(ks)
    for cut in (len(text) - 3, len(text) // 2, 10):
        r = vqr.verify_qr_text(text[:cut], trust, NOW)
        assert r.indication == TOTAL_FAILED and r.sub_indication == "FORMAT_FAILURE"
    bomb = _pack("EL1:", b"\0" * 1_000_000)[:4000]
    assert vqr.verify_qr_text(bomb, trust, NOW).sub_indication == "FORMAT_FAILURE"
    assert vqr.verify_qr_text(b"\xff\xfe", trust, NOW).subject == "not-a-licence"
    assert vqr.verify_qr_text(None, trust, NOW).subject == "not-a-licence"


cbor_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.binary(max_size=40)
    | st.text(max_size=20) | st.floats(allow_nan=True),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(
        st.integers(-70002, 10) | st.text(max_size=4), inner, max_size=5), max_leaves=25)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(prefix=st.sampled_from(["EL1:", "EP1:"]), tagged=st.booleans(), value=cbor_values)
def test_random_cbor_never_crashes_or_passes(trust, prefix, tagged, value):
    body = cbor2.CBORTag(18, value) if tagged else value
    r = vqr.verify_qr_text(_pack(prefix, cbor2.dumps(body)), trust, NOW)
    assert r.indication != TOTAL_PASSED


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(hdr=cbor_values, payload=cbor_values, sig=st.binary(max_size=70))
def test_random_cose_fields_never_crash_or_pass(trust, hdr, payload, sig):
    cose = cbor2.dumps(cbor2.CBORTag(18, [cbor2.dumps(hdr), {}, cbor2.dumps(payload), sig]))
    r = vqr.verify_qr_text(_pack("EL1:", cose), trust, NOW)
    assert r.indication != TOTAL_PASSED


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=300) | st.binary(max_size=300))
def test_random_text_never_crashes_or_passes(trust, text):
    for t in (text, "EL1:" + text if isinstance(text, str) else b"EP1:" + text):
        assert vqr.verify_qr_text(t, trust, NOW).indication != TOTAL_PASSED


@pytest.fixture(scope="module")
def el1_text(ks):
    return _el1(ks)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_single_character_changes_never_pass(el1_text, trust, data):
    text = el1_text
    i = data.draw(st.integers(4, len(text) - 1))
    ch = data.draw(st.sampled_from("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"))
    changed = text[:i] + ch + text[i + 1:]
    if changed != text:
        assert vqr.verify_qr_text(changed, trust, NOW).indication != TOTAL_PASSED


def test_images(ks, trust):
    ep1, _ = _ep1(ks, _el1(ks))
    r = vqr.verify_qr_image(image.png(ep1, scale=4), trust, NOW + timedelta(seconds=3))
    assert r.indication == TOTAL_PASSED, r.to_text()
    url = _png_of_url()
    assert vqr.verify_qr_image(url, trust, NOW).subject == "not-a-licence"
    blank = _blank_png()
    r = vqr.verify_qr_image(blank, trust, NOW)
    assert r.subject == "not-a-licence" and r.indication == INDETERMINATE
    for junk in (b"", b"\x89PNG\r\n\x1a\n" + b"\0" * 50, b"GIF89a" + b"\xff" * 10, "text"):
        r = vqr.verify_qr_image(junk, trust, NOW)
        assert (r.indication, r.sub_indication) == (TOTAL_FAILED, "FORMAT_FAILURE")


def _png_of_url():
    import io

    import qrcode

    buf = io.BytesIO()
    qrcode.make("https://www.gsxt.gov.cn/").save(buf)
    return buf.getvalue()


def _blank_png():
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("L", (200, 200), 255).save(buf, "PNG")
    return buf.getvalue()

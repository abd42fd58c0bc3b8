"""EL1/EP1 production (DESIGN §7): COSE_Sign1 structure read back with plain cbor2, signatures
checked by independent implementations (gmssl_pyx for SM2, pyca for PS256), masking, QR symbols."""

import hashlib
import zlib
from datetime import datetime, timedelta, timezone

import base45
import cbor2
import pytest

from formats import algorithms as alg
from signing.keystore import KeyStore
from signing.qr import credentials, image
from formats.cose import kid_of
from signing.qr.cose import sign1
from signing.qr.credentials import QRError, licence_claims, make_el1, make_ep1, mask
from signing.x509 import build_certificate, build_name
from formats.errors import SigningError

NOW = datetime(2026, 3, 1, 8, 0, tzinfo=timezone.utc)
RECORD = {
    "identifier": "1.2.156.3005.2.11100000MB0000002X001.11310000MB0000020B.ABCDEFGHJK0123456789.001.X",
    "type_code": "11100000MB0000002X001",
    "type_name": "机动车驾驶证",
    "number": "310101199003071230",
    "holders": [{"name": "张三丰", "code": "310101199003071230", "code_type": "111"}],
    "issuer": {"name": "上海市公安局交通警察总队", "code": "11310000MB0000020B"},
    "issued_on": "2026-01-15", "valid_from": "2026-01-15", "valid_until": "2032-01-15",
    "region": "sh", "version": 1, "fields": {},
}
RULES = {"mask": {"h": "name", "hid": "keep:4:4", "n": "keep:4:4"}}


@pytest.fixture(scope="module")
def ks():
    return KeyStore.load("keys_dev")


def _decode(text, prefix):
    assert text.startswith(prefix)
    return cbor2.loads(zlib.decompress(base45.b45decode(text[len(prefix):])))


def test_mask_rules():
    assert mask("张三丰", "name") == "张*丰"
    assert mask("张三", "name") == "张*"
    assert mask("欧阳娜娜", "name") == "欧**娜"
    assert mask("王", "name") == "*"
    assert mask("310101199003071230", "keep:4:4") == "3101**********1230"
    assert mask("1234", "keep:4:4") == "****"  # too short to reveal anything
    assert mask("上海示例科技有限公司", "none") == "上海示例科技有限公司"
    with pytest.raises(QRError) as exc:
        mask("x", "keep:a:b")
    assert exc.value.message_zh and exc.value.message_en
    with pytest.raises(QRError):
        mask("x", "reveal")


def test_claims_are_masked_and_complete():
    c = licence_claims(RECORD, RULES)
    assert c == {"id": RECORD["identifier"], "t": "11100000MB0000002X001",
                 "n": "3101**********1230", "h": "张*丰", "hid": "3101**********1230",
                 "vf": "2026-01-15", "vu": "2032-01-15", "r": "sh", "v": 1}
    two = dict(RECORD, holders=[{"name": "张三", "code": "310101199003071230"},
                                {"name": "李晓梅", "code": "310104199303221041"}],
               valid_until=None)
    c2 = licence_claims(two, RULES)
    assert c2["h"] == "张*、李*梅" and c2["hid"] == "3101**********1230,3101**********1041"
    assert "vu" not in c2  # 长期: no end date claim


@pytest.mark.parametrize("algorithm", ["sm2", "rsa"])
def test_el1_structure_read_with_plain_cbor2(ks, algorithm):
    cred = ks.credential("sh", "licence_signer", algorithm, org_code="11310000MB0000020B")
    text = credentials.el1_for_record(RECORD, RULES, cred.key, cred.cert.dump(), now=NOW)
    assert set(text) <= set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")
    obj = _decode(text, "EL1:")
    assert isinstance(obj, cbor2.CBORTag) and obj.tag == 18
    protected, unprotected, payload, signature = obj.value
    hdr = cbor2.loads(protected)
    assert hdr == {1: -65537 if algorithm == "sm2" else -37,  # private-use SM2-SM3; PS256
                   4: hashlib.sha256(cred.cert.dump()).digest()[:8]}
    assert dict(unprotected) == {}
    body = cbor2.loads(payload)
    assert body[1] == "11310000MB0000020B"
    assert body[6] == int(NOW.timestamp())
    # exp: end of 2032-01-15 in Beijing time (or the certificate's end if earlier)
    end = datetime(2032, 1, 15, 15, 59, 59, tzinfo=timezone.utc)
    assert body[4] == int(min(end, cred.cert.not_valid_after).timestamp())
    assert body[-70000]["h"] == "张*丰" and "310101199003071230" not in repr(body)
    sig_structure = cbor2.dumps(["Signature1", protected, b"", payload])
    if algorithm == "sm2":
        assert len(signature) == 64
        _verify_sm2_raw_independently(cred.cert, signature, sig_structure)
    else:
        _verify_pss_independently(cred.cert, signature, sig_structure)


def _verify_sm2_raw_independently(cert, raw, message):
    """gmssl_pyx (GmSSL, C): a third SM2 implementation, default ID, DER signature."""
    gmssl_pyx = pytest.importorskip("gmssl_pyx")
    from formats.algorithms.sm2 import encode_signature

    point = cert.public_key["public_key"].native
    der = encode_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    assert gmssl_pyx.sm2_verify(point[1:], message, der)
    assert not gmssl_pyx.sm2_verify(point[1:], message + b"x", der)


def _verify_pss_independently(cert, signature, message):
    from cryptography import x509 as cx509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    pub = cx509.load_der_x509_certificate(cert.dump()).public_key()
    pub.verify(signature, message, padding.PSS(mgf=padding.MGF1(hashes.SHA256()),
                                               salt_length=32), hashes.SHA256())


def test_ep1_wraps_el1_bytes_and_is_short_lived(ks):
    cred = ks.credential("sh", "licence_signer", "sm2")
    el1 = credentials.el1_for_record(RECORD, RULES, cred.key, cred.cert.dump(), now=NOW)
    node = ks.credential("sh", "node", "sm2")
    ep1, cti = make_ep1(node.key, node.cert.dump(), region="sh", el1=el1, now=NOW)
    obj = _decode(ep1, "EP1:")
    protected, _, payload, sig = obj.value
    assert cbor2.loads(protected)[4] == kid_of(node.cert.dump())
    body = cbor2.loads(payload)
    assert body[1] == "sh" and body[4] - body[6] == 60 and body[7] == cti and len(cti) == 16
    assert body[-70001] == credentials.cose_from_text(el1)
    ep1b, cti2 = make_ep1(node.key, node.cert.dump(), region="sh", el1=el1, now=NOW)
    assert cti2 != cti and ep1b != ep1
    with pytest.raises(QRError):
        make_ep1(node.key, node.cert.dump(), region="sh", el1=el1, now=NOW, lifetime=61)


def test_signing_refuses_mismatched_key_and_naive_times(ks):
    cred = ks.credential("sh", "licence_signer", "sm2")
    other = alg.generate_private_key("sm2")
    with pytest.raises(SigningError) as exc:
        sign1(other, cred.cert.dump(), {1: "x"})
    assert "不匹配" in exc.value.message_zh
    with pytest.raises(QRError):
        make_el1(cred.key, cred.cert.dump(), issuer_code="x", claims={},
                 iat=datetime(2026, 1, 1), exp=datetime(2027, 1, 1))
    with pytest.raises(QRError):
        make_el1(cred.key, cred.cert.dump(), issuer_code="x", claims={}, iat=NOW, exp=NOW)


def test_cose_from_text_rejects_bombs_and_garbage():
    bomb = "EL1:" + base45.b45encode(zlib.compress(b"\0" * 100_000)).decode()
    for text in (bomb, "EL1:%%%", "EP1:ABC", "EL1:" + base45.b45encode(b"\x78\x9c\x01").decode()):
        with pytest.raises(QRError):
            credentials.cose_from_text(text)


def _throwaway_cert(key):
    return build_certificate(subject=build_name("qr test"), subject_public_key=key.public_key,
                             issuer_key=key, not_before=NOW - timedelta(days=1),
                             not_after=NOW + timedelta(days=30), key_usage={"digital_signature"})


def test_qr_symbol_uses_alphanumeric_mode_and_level_q():
    """Cross-check zxing-cpp's symbol size with the pure-Python qrcode encoder forced into
    alphanumeric mode at level Q: same version means zxing chose alphanumeric too."""
    qrcode = pytest.importorskip("qrcode")
    key = alg.generate_private_key("sm2")
    cert = _throwaway_cert(key)
    text = make_el1(key, cert.dump(), issuer_code="11310000MB0000010A",
                    claims=licence_claims(RECORD, RULES), iat=NOW, exp=NOW + timedelta(days=9))
    rows = image.modules(text)
    version = (len(rows) - 17) // 4
    q = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_Q)
    q.add_data(qrcode.util.QRData(text.encode(), mode=qrcode.util.MODE_ALPHA_NUM))
    q.make(fit=True)
    assert version == q.version
    byte_mode = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_Q)
    byte_mode.add_data(qrcode.util.QRData(text.encode(), mode=qrcode.util.MODE_8BIT_BYTE))
    byte_mode.make(fit=True)
    assert byte_mode.version > version  # alphanumeric really is the smaller symbol
    assert all(len(r) == len(rows) for r in rows)


def test_qr_image_rejects_text_outside_alphanumeric():
    with pytest.raises(image.QRImageError):
        image.modules("https://example.com/lowercase")
    with pytest.raises(image.QRImageError):
        image.png("A" * 5000)
    png = image.png("EL1:ABC", scale=3)
    assert png.startswith(b"\x89PNG")

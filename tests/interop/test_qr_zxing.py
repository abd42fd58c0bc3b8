"""QR interop: zxing-cpp decodes the symbols we print, our verifier reads symbols made by another
encoder (python-qrcode), and OpenSSL verifies the SM2 signature inside an EL1 COSE_Sign1."""

import io
import shutil
import subprocess
import zlib
from datetime import datetime, timedelta, timezone

import base45
import cbor2
import pytest

from signing.keystore import KeyStore
from signing.qr import credentials, image
from formats.algorithms.sm2 import encode_signature
from verification import qr as vqr
from verification.report import TOTAL_PASSED

pytestmark = pytest.mark.interop
zxingcpp = pytest.importorskip("zxingcpp")

NOW = datetime(2026, 3, 1, 8, 0, tzinfo=timezone.utc)
RECORD = {
    "identifier": "1.2.156.3005.2.11100000MB0000002X001.11310000MB0000020B.ABCDEFGHJK0123456789.001.X",
    "type_code": "11100000MB0000002X001", "number": "310101199003071230",
    "holders": [{"name": "张三", "code": "310101199003071230", "code_type": "111"}],
    "issuer": {"name": "上海市公安局交通警察总队", "code": "11310000MB0000020B"},
    "valid_from": "2026-01-15", "valid_until": "2032-01-15", "region": "sh", "version": 1,
}
RULES = {"mask": {"h": "name", "hid": "keep:4:4", "n": "keep:4:4"}}


@pytest.fixture(scope="module")
def ks():
    return KeyStore.load("keys_dev")


def _codes(ks):
    out = []
    for algorithm in ("sm2", "rsa"):
        cred = ks.credential("sh", "licence_signer", algorithm, org_code="11310000MB0000020B")
        out.append(credentials.el1_for_record(RECORD, RULES, cred.key, cred.cert.dump(), now=NOW))
    node = ks.credential("sh", "node", "sm2")
    out.append(credentials.make_ep1(node.key, node.cert.dump(), region="sh", el1=out[0], now=NOW)[0])
    return out


@pytest.mark.parametrize("scale", [2, 4, 8])
def test_zxing_decodes_our_pngs_to_the_same_text(ks, scale):
    from PIL import Image

    for text in _codes(ks):
        found = zxingcpp.read_barcodes(Image.open(io.BytesIO(image.png(text, scale=scale))),
                                        formats=zxingcpp.BarcodeFormat.QRCode)
        assert [b.text for b in found] == [text]
        assert found[0].format == zxingcpp.BarcodeFormat.QRCode and found[0].ec_level == "Q"


def test_our_verifier_reads_symbols_from_another_encoder(ks):
    qrcode = pytest.importorskip("qrcode")
    trust = vqr.QrTrust.from_keystore(ks)
    for text in _codes(ks):
        q = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_Q, box_size=5)
        q.add_data(text)
        q.make(fit=True)
        buf = io.BytesIO()
        q.make_image().save(buf)
        r = vqr.verify_qr_image(buf.getvalue(), trust, NOW + timedelta(seconds=5))
        assert r.indication == TOTAL_PASSED, r.to_text()


def test_openssl_verifies_the_sm2_cose_signature(ks, tmp_path):
    if not shutil.which("openssl"):
        pytest.skip("openssl CLI not installed")
    cred = ks.credential("sh", "licence_signer", "sm2", org_code="11310000MB0000020B")
    text = credentials.el1_for_record(RECORD, RULES, cred.key, cred.cert.dump(), now=NOW)
    protected, _, payload, raw = cbor2.loads(zlib.decompress(base45.b45decode(text[4:]))).value
    msg = cbor2.dumps(["Signature1", protected, b"", payload])
    der = encode_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    (tmp_path / "msg").write_bytes(msg)
    (tmp_path / "sig").write_bytes(der)
    (tmp_path / "cert.der").write_bytes(cred.cert.dump())
    subprocess.run(["openssl", "x509", "-inform", "DER", "-in", str(tmp_path / "cert.der"),
                    "-pubkey", "-noout", "-out", str(tmp_path / "pub.pem")], check=True,
                   capture_output=True)

    def verify(message_file):
        return subprocess.run(
            ["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", str(tmp_path / "pub.pem"),
             "-rawin", "-digest", "sm3", "-pkeyopt", "distid:1234567812345678",
             "-in", str(message_file), "-sigfile", str(tmp_path / "sig")],
            capture_output=True, text=True)

    ok = verify(tmp_path / "msg")
    assert ok.returncode == 0 and "Signature Verified Successfully" in ok.stdout, ok.stderr
    (tmp_path / "msg2").write_bytes(msg[:-1] + bytes([msg[-1] ^ 1]))
    assert verify(tmp_path / "msg2").returncode != 0

"""Our own SESeal and SES_Signature against independent tools: OpenSSL's DER parser and SM2
verifier (with the GM default ID passed as distid, OpenSSL 3.x having none), and GmSSL through
gmssl_pyx, each over exactly DER(SES_SealInfo) / DER(TBS_Sign)."""

import shutil
import subprocess

import pytest
from asn1crypto import pem, x509

from tests.support import seal as S
from verification.seal import parse_seal, parse_signature

pytestmark = pytest.mark.interop

DISTID = "distid:1234567812345678"


def openssl(*args):
    path = shutil.which("openssl")
    if path is None:
        pytest.skip("openssl CLI not installed")
    return subprocess.run([path, *args], capture_output=True, timeout=60)


@pytest.fixture(scope="module")
def made():
    seal_der = S.seal(extensions=[("1.2.3.4", False, b"x")])
    return seal_der, S.signature(seal_der, extensions=[("1.2.3.5", True, b"y")])


def test_asn1parse_accepts_our_der(made, tmp_path):
    for name, der in zip(("seal.esl", "signed.dat"), made):
        path = tmp_path / name
        path.write_bytes(der)
        proc = openssl("asn1parse", "-inform", "DER", "-in", str(path))
        assert proc.returncode == 0, proc.stderr
        out = proc.stdout.decode()
        assert ":ES" in out and "SM2-with-SM3" in out and "GENERALIZEDTIME" in out
        assert not proc.stderr  # OpenSSL reports "Error in encoding" for bad DER


def verify_with_openssl(tmp_path, cert_der: bytes, message: bytes, signature: bytes):
    spki = x509.Certificate.load(cert_der).public_key.dump()
    (tmp_path / "pub.pem").write_bytes(pem.armor("PUBLIC KEY", spki))
    (tmp_path / "msg").write_bytes(message)
    (tmp_path / "sig").write_bytes(signature)
    base = ["pkeyutl", "-verify", "-pubin", "-inkey", str(tmp_path / "pub.pem"), "-rawin",
            "-digest", "sm3", "-in", str(tmp_path / "msg"), "-sigfile", str(tmp_path / "sig")]
    return openssl(*base, "-pkeyopt", DISTID)


def test_openssl_verifies_maker_and_signer_signatures(made, tmp_path):
    seal_der, sig_der = made
    seal, sig = parse_seal(seal_der), parse_signature(sig_der)
    ok = verify_with_openssl(tmp_path, seal.maker_cert, seal.signed_bytes, seal.signature)
    assert ok.returncode == 0 and b"Signature Verified Successfully" in ok.stdout, ok.stderr
    ok = verify_with_openssl(tmp_path, sig.signer_cert, sig.signed_bytes, sig.signature)
    assert ok.returncode == 0 and b"Signature Verified Successfully" in ok.stdout, ok.stderr
    # And OpenSSL rejects a one-byte change of what was signed (the test can fail).
    bad = verify_with_openssl(tmp_path, sig.signer_cert, sig.signed_bytes[:-1] + b"\x00",
                              sig.signature)
    assert bad.returncode != 0


def test_gmssl_pyx_verifies_over_der_sealinfo_and_tbs(made):
    gmssl_pyx = pytest.importorskip("gmssl_pyx")
    seal_der, sig_der = made
    seal, sig = parse_seal(seal_der), parse_signature(sig_der)
    for cert_der, msg, value in ((seal.maker_cert, seal.signed_bytes, seal.signature),
                                 (sig.signer_cert, sig.signed_bytes, sig.signature)):
        point = x509.Certificate.load(cert_der).public_key["public_key"].native
        assert gmssl_pyx.sm2_verify(point[1:], msg, value)
        assert not gmssl_pyx.sm2_verify(point[1:], msg + b"x", value)
    # What was signed is the first element of the structure, byte for byte (after the outer
    # SEQUENCE header of 2 to 6 bytes).
    assert 2 <= seal_der.find(seal.signed_bytes) <= 6
    assert 2 <= sig_der.find(sig.signed_bytes) <= 6

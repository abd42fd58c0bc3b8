"""Audit checkpoints and holder references checked by other implementations: the OpenSSL CLI and
GmSSL (gmssl_pyx) verify the SM2 signature on a checkpoint note exactly as a witness or an
auditor outside this project would; OpenSSL's HMAC-SM3 (through hashlib) recomputes a holder
reference; OpenSSL's SM3 recomputes a leaf hash from the exact bytes served."""

import base64
import hashlib
import hmac
import shutil
import subprocess

import pytest
from asn1crypto import pem

from license_svc.audit.checkpoint import NoteSigner, sign_checkpoint
from license_svc.audit.holder import HolderKey, hmac_sm3
from formats import algorithms as alg
from formats import merkle
from verification import tlog

pytestmark = pytest.mark.interop


def _note():
    signer = NoteSigner("licence-audit/sh", alg.generate_private_key("sm2"))
    note = sign_checkpoint(tlog.Checkpoint("licence-audit/sh", 1000, bytes(range(32))), signer)
    text, sigs = note.decode().split("\n\n")
    raw = base64.b64decode(sigs.split(" ")[2])
    return signer, (text + "\n").encode(), raw[4:]


def test_openssl_verifies_checkpoint_signature(tmp_path):
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl CLI not installed")
    signer, text, sig = _note()
    (tmp_path / "pub.pem").write_bytes(pem.armor("PUBLIC KEY", signer.spki))
    (tmp_path / "msg").write_bytes(text)
    (tmp_path / "sig").write_bytes(sig)
    args = [openssl, "pkeyutl", "-verify", "-pubin", "-inkey", str(tmp_path / "pub.pem"), "-rawin",
            "-digest", "sm3", "-pkeyopt", "distid:1234567812345678", "-in", str(tmp_path / "msg"),
            "-sigfile", str(tmp_path / "sig")]
    ok = subprocess.run(args, capture_output=True, timeout=60)
    assert ok.returncode == 0 and b"Signature Verified Successfully" in ok.stdout, ok.stderr
    (tmp_path / "msg").write_bytes(text.replace(b"1000", b"1001"))
    assert subprocess.run(args, capture_output=True, timeout=60).returncode != 0


def test_gmssl_pyx_verifies_checkpoint_signature():
    gmssl_pyx = pytest.importorskip("gmssl_pyx")
    signer, text, sig = _note()
    pub64 = signer.key.public_key.x.to_bytes(32, "big") + signer.key.public_key.y.to_bytes(32, "big")
    assert gmssl_pyx.sm2_verify(pub64, text, sig)
    assert not gmssl_pyx.sm2_verify(pub64, text + b" ", sig)


def test_holder_reference_is_standard_hmac_sm3():
    try:
        hashlib.new("sm3")
    except ValueError:
        pytest.skip("OpenSSL without SM3")
    key = bytes(range(40))
    for msg in (b"", b"abc", b"holder-ref/v1\x0011010519491231002X", b"x" * 200):
        assert hmac_sm3(key, msg) == hmac.new(key, msg, "sm3").digest()
    long_key = b"k" * 100  # longer than the block: hashed first, as RFC 2104 says
    assert hmac_sm3(long_key, b"m") == hmac.new(long_key, b"m", "sm3").digest()
    ref = HolderKey(key).reference("11010519491231002x")
    assert ref == hmac.new(key, b"holder-ref/v1\x0011010519491231002X", "sm3").hexdigest()


def test_leaf_hash_is_sm3_with_the_rfc9162_prefix():
    leaf = '{"action":"licence.retrieve","v":1}'.encode()
    assert merkle.leaf_hash(leaf) == hashlib.new("sm3", b"\x00" + leaf).digest()

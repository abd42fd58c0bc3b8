"""Trust lists checked by other implementations: the signed bytes are rebuilt from the served
JSON with the standard library alone (sorted keys, compact separators, UTF-8) and the SM2
signature over them is verified by the OpenSSL CLI (SM3, default distinguishing ID) and by GmSSL
through gmssl_pyx — so a peer implementing DESIGN §8 from the text can check our lists.  And a
list whose signature OpenSSL made is accepted by our verifier."""

import base64
import json
import shutil
import subprocess
from datetime import datetime, timezone

import pytest
from asn1crypto import pem, x509

from license_svc.config import DEV_KEYS_DIR
from license_svc.federation.publish import trust_list_entries
from formats.algorithms import dump_private_key
from signing.keystore import KeyStore
from verification import trustlist as tl

pytestmark = pytest.mark.interop

T0 = datetime(2026, 6, 1, 8, 0, tzinfo=timezone.utc)
DISTID = "distid:1234567812345678"


@pytest.fixture(scope="module")
def ks():
    return KeyStore.load(DEV_KEYS_DIR)


def _payload(ks):
    return {"schema": tl.TRUST_LIST_SCHEMA, "region": "sh", "sequence": 1,
            "issued_at": "2026-06-01T08:00:00Z", "next_update": "2026-06-02T08:00:00Z",
            "entries": trust_list_entries(ks, "sh", {}, None, T0),
            "recognised_types": ["11100000MB0000001T001"]}


def _stdlib_canonical(payload) -> bytes:
    return json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def _openssl():
    path = shutil.which("openssl")
    if path is None:
        pytest.skip("openssl CLI not installed")
    return path


@pytest.fixture(scope="module")
def served(ks):
    from formats.envelope import sign_envelope

    cred = ks.credential("sh", "trust_list", "sm2")
    body = json.dumps(sign_envelope(_payload(ks), cred.key, cred.cert), ensure_ascii=False, indent=1)
    return json.loads(body)  # what a peer parses off the wire (whitespace differs from ours)


def test_openssl_verifies_our_trust_list(served, tmp_path):
    cert = x509.Certificate.load(base64.b64decode(served["signature"]["cert"]))
    (tmp_path / "pub.pem").write_bytes(pem.armor("PUBLIC KEY", cert.public_key.dump()))
    (tmp_path / "msg").write_bytes(_stdlib_canonical(served["payload"]))
    (tmp_path / "sig").write_bytes(base64.b64decode(served["signature"]["value"]))
    args = [_openssl(), "pkeyutl", "-verify", "-pubin", "-inkey", str(tmp_path / "pub.pem"), "-rawin",
            "-digest", "sm3", "-pkeyopt", DISTID, "-in", str(tmp_path / "msg"),
            "-sigfile", str(tmp_path / "sig")]
    assert subprocess.run(args, capture_output=True, timeout=60).returncode == 0
    (tmp_path / "msg").write_bytes(_stdlib_canonical(served["payload"]).replace(b'"sh"', b'"js"', 1))
    assert subprocess.run(args, capture_output=True, timeout=60).returncode != 0


def test_gmssl_verifies_our_trust_list(served):
    gmssl_pyx = pytest.importorskip("gmssl_pyx")
    cert = x509.Certificate.load(base64.b64decode(served["signature"]["cert"]))
    point = cert.public_key["public_key"].native  # 04 || x || y
    msg = _stdlib_canonical(served["payload"])
    sig = base64.b64decode(served["signature"]["value"])
    assert gmssl_pyx.sm2_verify(point[1:], msg, sig)
    assert not gmssl_pyx.sm2_verify(point[1:], msg + b" ", sig)


def test_we_verify_a_list_openssl_signed(ks, tmp_path):
    cred = ks.credential("sh", "trust_list", "sm2")
    payload = _payload(ks)
    (tmp_path / "key.pem").write_bytes(dump_private_key(cred.key))
    (tmp_path / "msg").write_bytes(_stdlib_canonical(payload))
    sig = subprocess.run([_openssl(), "pkeyutl", "-sign", "-inkey", str(tmp_path / "key.pem"),
                          "-rawin", "-digest", "sm3", "-pkeyopt", DISTID,
                          "-in", str(tmp_path / "msg")], capture_output=True, timeout=60, check=True).stdout
    envelope = {"payload": payload, "signature": {
        "alg": "SM2-SM3", "cert": base64.b64encode(cred.cert.dump()).decode(),
        "value": base64.b64encode(sig).decode()}}
    r = tl.verify_trust_list(envelope, [cred.cert.dump()], T0, region="sh")
    assert r.ok, r.report.to_text()

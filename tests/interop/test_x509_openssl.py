"""Our certificates and CRLs checked by other implementations: OpenSSL 3 CLI, gmssl_pyx (GmSSL),
and pyca/cryptography's strict X.509 parser.

Also documents why path validation does not use `openssl verify`: OpenSSL 3.x applies the SM2
distinguishing ID only to the target certificate, so it verifies a two-level SM2 chain but
fails a three-level one that our validator accepts.
"""
import shutil
import subprocess
from datetime import datetime, timezone
from pathlib import Path

import pytest

from signing.keystore import KeyStore
from verification.certpath import validate_path

pytestmark = pytest.mark.interop

KEYS = Path(__file__).resolve().parents[2] / "keys_dev"
AT = datetime(2026, 6, 1, tzinfo=timezone.utc)
DISTID = "distid:1234567812345678"


@pytest.fixture(scope="module")
def ks():
    return KeyStore.load(KEYS)


@pytest.fixture(scope="module")
def openssl():
    exe = shutil.which("openssl")
    if not exe:
        pytest.skip("openssl CLI not installed")
    version = subprocess.run([exe, "version"], capture_output=True, text=True).stdout
    return exe, version


def _path(ks, item_id, kind="cert"):
    return str(KEYS / ks.item(item_id)[kind])


def _run(*args):
    return subprocess.run([str(a) for a in args], capture_output=True, text=True)


def test_openssl_parses_sm2_certificates(ks, openssl):
    exe, _ = openssl
    for item in ks.items("sh", algorithm="sm2") + ks.items("federation"):
        out = _run(exe, "x509", "-in", KEYS / item["cert"], "-text", "-noout", "-nameopt", "utf8")
        assert out.returncode == 0, (item["id"], out.stderr)
        assert "SM2-with-SM3" in out.stdout and "ASN1 OID: SM2" in out.stdout
        assert item["org_code"] in out.stdout and item["org_name"] in out.stdout
        if item["role"] == "tsa":
            assert "X509v3 Extended Key Usage: critical" in out.stdout and "Time Stamping" in out.stdout


def test_openssl_parses_crls(ks, openssl):
    exe, _ = openssl
    for item in ks.items("zj"):
        if item["crl"]:
            out = _run(exe, "crl", "-in", KEYS / item["crl"], "-text", "-noout")
            assert out.returncode == 0, out.stderr
            if item["role"] == "issuing_ca":
                assert "Key Compromise" in out.stdout


def test_openssl_verifies_two_level_sm2_chain(ks, openssl):
    exe, _ = openssl
    out = _run(exe, "verify", "-vfyopt", DISTID, "-attime", int(AT.timestamp()),
               "-CAfile", _path(ks, "sh-root-sm2"), _path(ks, "sh-issuing-ca-sm2"))
    assert out.returncode == 0 and ": OK" in out.stdout, out.stdout + out.stderr
    # Without the GM default ID OpenSSL 3 computes a different Z and rejects the signature.
    if openssl[1].startswith("OpenSSL 3."):
        out = _run(exe, "verify", "-attime", int(AT.timestamp()), "-CAfile",
                   _path(ks, "sh-root-sm2"), _path(ks, "sh-issuing-ca-sm2"))
        assert out.returncode != 0


def test_openssl3_fails_three_level_sm2_chain_that_we_accept(ks, openssl):
    exe, version = openssl
    leaf = ks.credential("sh", "licence_signer", "sm2").cert
    ours = validate_path(leaf, trust_roots=ks.roots("sh", "sm2"), intermediates=ks.intermediates("sh"),
                         crls=ks.crls("sh"), at=AT)
    assert ours.ok, ours.detail_zh_en
    if not version.startswith("OpenSSL 3."):
        pytest.skip(f"documents OpenSSL 3.x behaviour; this is {version.strip()}")
    out = _run(exe, "verify", "-vfyopt", DISTID, "-attime", int(AT.timestamp()),
               "-CAfile", _path(ks, "sh-root-sm2"), "-untrusted", _path(ks, "sh-issuing-ca-sm2"),
               _path(ks, "sh-licence-signer-amr-sm2"))
    assert out.returncode != 0
    assert "error 7 at 1 depth" in out.stdout + out.stderr  # the intermediate, checked without distid


def test_openssl_verifies_rsa_chains_and_crls(ks, openssl):
    exe, _ = openssl
    common = [exe, "verify", "-attime", int(AT.timestamp()), "-CAfile", _path(ks, "js-root-rsa"),
              "-untrusted", _path(ks, "js-issuing-ca-rsa"), "-crl_check_all",
              "-CRLfile", _path(ks, "js-root-rsa", "crl"), "-CRLfile", _path(ks, "js-issuing-ca-rsa", "crl")]
    for item in ks.items("js", algorithm="rsa"):
        if item["role"] in ("root", "issuing_ca"):
            continue
        out = _run(*common, KEYS / item["cert"])
        if item["role"] == "revoked_demo":
            assert out.returncode != 0 and "revoked" in (out.stdout + out.stderr)
        elif item["role"] == "expired_demo":
            assert out.returncode != 0 and "expired" in (out.stdout + out.stderr)
        else:
            assert out.returncode == 0, (item["id"], out.stdout + out.stderr)


def test_gmssl_pyx_verifies_our_sm2_certificate_signatures(ks):
    gmssl_pyx = pytest.importorskip("gmssl_pyx")
    checked = 0
    for item in ks.items(algorithm="sm2"):
        cert = ks.certificate(item["id"])
        issuer = ks.certificate(item["issuer"]) if item["issuer"] else cert
        point = issuer.public_key["public_key"].native
        tbs, sig = cert["tbs_certificate"].dump(), cert["signature_value"].native
        assert gmssl_pyx.sm2_verify(point[1:], tbs, sig), item["id"]
        assert not gmssl_pyx.sm2_verify(point[1:], tbs + b"\x00", sig)
        checked += 1
    assert checked > 40


def test_pyca_parses_everything_and_verifies_rsa(ks):
    from cryptography import x509 as pyca_x509

    for item in ks.items():
        cert = pyca_x509.load_pem_x509_certificate((KEYS / item["cert"]).read_bytes())
        list(cert.extensions)  # strict DER parse of every extension
        assert cert.serial_number == int(item["serial"], 16)
        if item["crl"]:
            crl = pyca_x509.load_pem_x509_crl((KEYS / item["crl"]).read_bytes())
            list(crl.extensions)
        if item["algorithm"] == "rsa" and item["issuer"]:
            issuer = pyca_x509.load_pem_x509_certificate(
                (KEYS / ks.item(item["issuer"])["cert"]).read_bytes())
            cert.verify_directly_issued_by(issuer)

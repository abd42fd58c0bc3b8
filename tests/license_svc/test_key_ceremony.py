"""The production key ceremony with a throwaway CA: `keys generate` (encrypted), `keys csr`,
the CA signs (OpenSSL's CLI for RSA; for SM2 a CA made by our certificate builder, as OpenSSL
3.0 cannot sign SM2 certificates with the GM distinguishing ID), `keys import`, and the
production key store then signs with the imported credential."""

from __future__ import annotations

import subprocess
from datetime import datetime, timedelta, timezone

import pytest
from asn1crypto import csr as asn1_csr, pem
from typer.testing import CliRunner

from formats import algorithms as alg
from formats.certs import load_certificate
from license_svc.cli import _register, app
from signing.keystore import KeyStore
from signing.x509 import build_certificate, build_name, dump_pem

_register()
runner = CliRunner()
ENV = {"KEY_PASS": "ceremony-secret-1"}
ORG, ORG_CODE = "上海市市场监督管理局", "11310000MB0000010A"


def run(*args):
    return runner.invoke(app, [str(a) for a in args], env=ENV)


def _request(tmp_path, algorithm: str, role: str):
    key, csr = tmp_path / f"{role}-{algorithm}.key.pem", tmp_path / f"{role}-{algorithm}.csr"
    assert run("keys", "generate", "--alg", algorithm, "--out", key, "--passphrase-env", "KEY_PASS").exit_code == 0
    made = run("keys", "csr", "--key", key, "--passphrase-env", "KEY_PASS", "--role", role,
               "--cn", f"{ORG} {role} {algorithm}", "--org-name", ORG, "--org-code", ORG_CODE,
               "--province", "上海市", "--out", csr)
    assert made.exit_code == 0, made.output
    return key, csr


def _openssl_ca(tmp_path):
    ca_key, ca = tmp_path / "ca.key", tmp_path / "ca.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30",
                    "-subj", "/C=CN/O=Throwaway Region CA/CN=Throwaway Root RSA", "-keyout", str(ca_key),
                    "-out", str(ca), "-addext", "basicConstraints=critical,CA:TRUE",
                    "-addext", "keyUsage=critical,keyCertSign,cRLSign"], check=True, capture_output=True)
    return ca, ca_key


def _openssl_sign(tmp_path, csr, ca, ca_key, copy="copyall"):
    cert = tmp_path / f"{csr.stem}.{copy}.cert.pem"
    subprocess.run(["openssl", "x509", "-req", "-in", str(csr), "-CA", str(ca), "-CAkey", str(ca_key),
                    "-CAcreateserial", "-days", "20", "-copy_extensions", copy, "-out", str(cert)],
                   check=True, capture_output=True)
    return cert


def _import(tmp_path, role, cert, key, chain, *extra):
    return run("keys", "import", "--keys-dir", tmp_path / "keys", "--region", "sh", "--role", role,
               "--cert", cert, "--key", key, "--chain", chain, "--passphrase-env", "KEY_PASS", *extra)


@pytest.mark.interop
def test_rsa_ceremony_with_an_openssl_ca(tmp_path):
    key, csr = _request(tmp_path, "rsa", "tsa")
    assert "verify OK" in subprocess.run(["openssl", "req", "-in", str(csr), "-noout", "-verify"],
                                         capture_output=True, text=True).stderr
    ca, ca_key = _openssl_ca(tmp_path)
    # The CA that ignores the request's extensions issues a certificate a TSA cannot use.
    bare = _openssl_sign(tmp_path, csr, ca, ca_key, copy="none")
    refused = _import(tmp_path, "tsa", bare, key, ca)
    assert refused.exit_code == 3 and "tsa" in refused.output
    cert = _openssl_sign(tmp_path, csr, ca, ca_key)
    done = _import(tmp_path, "tsa", cert, key, ca)
    assert done.exit_code == 0, done.output

    store = KeyStore.load(tmp_path / "keys", ENV["KEY_PASS"], production=True)
    cred = store.credential("sh", "tsa", "rsa")
    assert cred.cert.dump() == load_certificate(cert.read_bytes()).dump()
    assert [c.subject for c in cred.chain] == [load_certificate(ca.read_bytes()).subject]
    signature = cred.key.sign(b"timestamp me")
    (tmp_path / "sig").write_bytes(signature)
    (tmp_path / "msg").write_bytes(b"timestamp me")
    subprocess.run(["openssl", "x509", "-in", str(cert), "-pubkey", "-noout", "-out", str(tmp_path / "pub.pem")],
                   check=True)
    check = subprocess.run(["openssl", "dgst", "-sha256", "-verify", str(tmp_path / "pub.pem"),
                            "-signature", str(tmp_path / "sig"), str(tmp_path / "msg")],
                           capture_output=True, text=True)
    assert "Verified OK" in check.stdout


def test_sm2_ceremony_and_what_import_refuses(tmp_path):
    key, csr = _request(tmp_path, "sm2", "licence_signer")
    request = asn1_csr.CertificationRequest.load(pem.unarmor(csr.read_bytes())[2])
    ca_key = alg.generate_private_key("sm2")
    now = datetime.now(timezone.utc)
    ca = build_certificate(subject=build_name("Throwaway Root SM2", organization="Throwaway"),
                           subject_public_key=ca_key.public_key, issuer_key=ca_key,
                           not_before=now - timedelta(days=1), not_after=now + timedelta(days=30),
                           ca=True, path_length=0)
    ext = {e["extn_id"].native: e["extn_value"].native
           for e in request["certification_request_info"]["attributes"][0]["values"][0]}
    assert set(ext["key_usage"]) == {"digital_signature", "non_repudiation"}
    cert = build_certificate(subject=request["certification_request_info"]["subject"],
                             subject_public_key=request["certification_request_info"]["subject_pk_info"],
                             issuer_key=ca_key, issuer_cert=ca, not_before=now - timedelta(hours=1),
                             not_after=now + timedelta(days=20), key_usage=ext["key_usage"])
    (tmp_path / "ca.pem").write_bytes(dump_pem(ca))
    (tmp_path / "leaf.pem").write_bytes(dump_pem(cert))

    plain = tmp_path / "plain.key.pem"
    assert run("keys", "generate", "--alg", "sm2", "--out", plain).exit_code == 0
    assert "未加密" in _import(tmp_path, "licence_signer", tmp_path / "leaf.pem", plain, tmp_path / "ca.pem").output
    other, _ = _request(tmp_path, "sm2", "audit_log")
    assert "不匹配" in _import(tmp_path, "licence_signer", tmp_path / "leaf.pem", other, tmp_path / "ca.pem").output
    stranger = tmp_path / "stranger.pem"
    stranger_key = alg.generate_private_key("sm2")
    stranger.write_bytes(dump_pem(build_certificate(
        subject=build_name("Another Root"), subject_public_key=stranger_key.public_key,
        issuer_key=stranger_key, not_before=now - timedelta(days=1), not_after=now + timedelta(days=9),
        ca=True)))
    assert _import(tmp_path, "licence_signer", tmp_path / "leaf.pem", key, stranger).exit_code == 3

    done = _import(tmp_path, "licence_signer", tmp_path / "leaf.pem", key, tmp_path / "ca.pem")
    assert done.exit_code == 0, done.output
    again = _import(tmp_path, "licence_signer", tmp_path / "leaf.pem", key, tmp_path / "ca.pem")
    assert again.exit_code == 3 and "already has" in again.output
    store = KeyStore.load(tmp_path / "keys", ENV["KEY_PASS"], production=True)
    cred = store.credential("sh", "licence_signer", "sm2", org_code=ORG_CODE)
    cred.key.public_key.verify(cred.key.sign(b"licence"), b"licence")
    assert store.intermediates("sh") == [] and len(store.roots("sh")) == 1

"""SM2 certificates whose key algorithm is the SM2 OID 1.2.156.10197.1.301 itself (as in
Tongsuo's test certificates and older GM tools) instead of id-ecPublicKey with the SM2 curve
(issue 15): they load, their paths verify, and GmSSL agrees on every signature."""

from __future__ import annotations

from datetime import timedelta

import pytest
from asn1crypto import keys, x509

from formats import algorithms as alg
from formats.certs import load_certificate
from formats.errors import KeyFormatError
from tests.support.material import NOW, make_cert
from verification.certpath import validate_path

STANDARD = bytes.fromhex("3013" "06072a8648ce3d0201" "06082a811ccf5501822d")
VARIANTS = {
    "sm2-oid-twice": bytes.fromhex("3014" "06082a811ccf5501822d" "06082a811ccf5501822d"),
    "sm2-oid-no-params": bytes.fromhex("300a" "06082a811ccf5501822d"),
    "sm2-oid-null": bytes.fromhex("300c" "06082a811ccf5501822d" "0500"),
}


def _variant(cert: x509.Certificate, issuer_key, algorithm_id: bytes) -> x509.Certificate:
    """`cert` with its SubjectPublicKeyInfo's AlgorithmIdentifier replaced, signed again."""
    spki = cert["tbs_certificate"]["subject_public_key_info"].dump()
    assert spki[2:2 + len(STANDARD)] == STANDARD
    body = algorithm_id + spki[2 + len(STANDARD):]
    tbs = cert["tbs_certificate"].copy()
    tbs["subject_public_key_info"] = keys.PublicKeyInfo.load(bytes([0x30, len(body)]) + body)
    der = x509.Certificate({"tbs_certificate": tbs, "signature_algorithm":
                            cert["signature_algorithm"],
                            "signature_value": issuer_key.sign(tbs.dump())}).dump()
    return load_certificate(der)


@pytest.fixture(scope="module")
def keys_():
    return alg.generate_private_key("sm2"), alg.generate_private_key("sm2")


@pytest.mark.parametrize("name", VARIANTS)
def test_chain_with_sm2_key_oid_verifies(keys_, name):
    root_key, leaf_key = keys_
    root = _variant(make_cert("TEST sm2 root (key OID)", root_key, root_key, ca=True),
                    root_key, VARIANTS[name])
    leaf = _variant(make_cert("TEST sm2 leaf (key OID)", leaf_key, root_key, root),
                    root_key, VARIANTS[name])
    assert leaf.public_key["algorithm"]["algorithm"].dotted == "1.2.156.10197.1.301"
    assert alg.load_public_key(leaf.public_key).point == leaf_key.public_key.point
    result = validate_path(leaf, trust_roots=[root], at=NOW + timedelta(hours=1))
    assert result.ok, result.detail_zh_en

    gmssl_pyx = pytest.importorskip("gmssl_pyx")  # GmSSL verifies the same signatures
    point = root.public_key["public_key"].native
    for cert in (root, leaf):
        tbs, sig = cert["tbs_certificate"].dump(), cert["signature_value"].native
        assert gmssl_pyx.sm2_verify(point[1:], tbs, sig)


def test_sm2_key_oid_with_other_parameters_is_refused(keys_):
    root_key, leaf_key = keys_
    odd = bytes.fromhex("3013" "06082a811ccf5501822d" "06072a8648ce3d0201")
    root = make_cert("TEST sm2 root", root_key, root_key, ca=True)
    leaf = _variant(make_cert("TEST sm2 leaf (odd)", leaf_key, root_key, root), root_key, odd)
    with pytest.raises(KeyFormatError):
        alg.load_public_key(leaf.public_key)

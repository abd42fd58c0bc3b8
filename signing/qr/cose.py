"""COSE_Sign1 (RFC 9052) with SM2-with-SM3 or RSA-PSS, the envelope of the EL1/EP1 QR credentials.

Why hand-rolled instead of a COSE library: the one algorithm we need most, SM2, has no COSE
registration, so we assign the private-use value -65537 (DESIGN §7) and sign through our
algorithm layer.  The structure is small: Tag 18 [protected bstr, unprotected map, payload bstr,
signature bstr], signed over the Sig_structure ["Signature1", protected, external_aad, payload].
SM2 signatures travel as raw r‖s (64 bytes), as ECDSA does in COSE; the algorithm layer speaks
DER, so we convert at this boundary only.
"""

from __future__ import annotations

import cbor2

from formats import algorithms as alg
from formats import oids
from formats.algorithms.sm2 import decode_signature
from formats.errors import SigningError

COSE_SIGN1_TAG = 18
HDR_ALG = 1
HDR_KID = 4
ALG_SM2_SM3 = -65537  # IANA COSE Algorithms: below -65536 is private use. SM2-SM3, default ID
ALG_PS256 = -37       # RSASSA-PSS with SHA-256, MGF1-SHA-256, salt 32 (RFC 8230)
KID_LENGTH = 8


def kid_of(cert_der: bytes) -> bytes:
    """First 8 bytes of SHA-256 over the signer certificate's DER: short enough for a printed
    QR, long enough that verifiers look up one certificate among thousands without clashes."""
    return alg.sha256(bytes(cert_der))[:KID_LENGTH]


def cose_alg_for(key) -> int:
    if key.algorithm == oids.ALG_SM2:
        return ALG_SM2_SM3
    if key.algorithm == oids.ALG_RSA:
        return ALG_PS256
    raise SigningError(f"no COSE algorithm for {key.algorithm!r} keys",
                       f"密钥算法 {key.algorithm!r} 没有对应的 COSE 算法")


def sig_structure(protected: bytes, payload: bytes, external_aad: bytes = b"") -> bytes:
    return cbor2.dumps(["Signature1", protected, external_aad, payload])


def _sign_raw(key, message: bytes) -> bytes:
    if key.algorithm == oids.ALG_SM2:
        r, s = decode_signature(key.sign(message))
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")
    return key.sign(message, scheme="pss")


def sign1(key, cert_der: bytes, payload: dict) -> bytes:
    """Encode and sign a tagged COSE_Sign1 whose payload is the CBOR of `payload`.

    Maps are encoded canonically (RFC 8949 §4.2.1 core deterministic ordering) so the same
    claims always give the same bytes, which keeps QR sizes stable and tests reproducible.
    """
    _check_pair(key, cert_der)
    protected = cbor2.dumps({HDR_ALG: cose_alg_for(key), HDR_KID: kid_of(cert_der)},
                            canonical=True)
    body = cbor2.dumps(payload, canonical=True)
    signature = _sign_raw(key, sig_structure(protected, body))
    return cbor2.dumps(cbor2.CBORTag(COSE_SIGN1_TAG, [protected, {}, body, signature]))


_MATCHED: "dict[tuple[int, bytes], object]" = {}  # (id(key), cert DER) -> key, checked pairs


def _check_pair(key, cert_der: bytes) -> None:
    """The key must be the certificate's.  Checked once per (key, certificate): re-encoding the
    public key and parsing the certificate cost half an SM2 signature, on every licence."""
    cert_der = bytes(cert_der)
    if _MATCHED.get((id(key), cert_der)) is key:
        return
    if key.public_key.spki_der() != _spki_of(cert_der):
        raise SigningError("QR signing key does not match its certificate",
                           "二维码签名私钥与证书不匹配")
    if len(_MATCHED) >= 256:
        _MATCHED.clear()
    _MATCHED[(id(key), cert_der)] = key  # held, so its id is not reused while cached


def _spki_of(cert_der: bytes) -> bytes:
    from asn1crypto import x509

    return x509.Certificate.load(bytes(cert_der))["tbs_certificate"]["subject_public_key_info"].dump()

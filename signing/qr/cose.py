"""Make COSE_Sign1 credentials (RFC 9052) for the EL1/EP1 QR codes with the algorithm layer.

The structure is `formats.cose`'s, the per-algorithm signature form the registry's (SM2 as raw
r‖s, RSA as PSS); this module adds what only a producer needs: deterministic encoding and the
check that the key is its certificate's.
"""

from __future__ import annotations

import cbor2

from formats.algorithms import registry
from formats.cose import COSE_SIGN1_TAG, HDR_ALG, HDR_KID, kid_of, sig_structure
from formats.errors import SigningError


def sign1(key, cert_der: bytes, payload: dict) -> bytes:
    """Encode and sign a tagged COSE_Sign1 whose payload is the CBOR of `payload`.

    Maps are encoded canonically (RFC 8949 §4.2.1 core deterministic ordering) so the same
    claims always give the same bytes, which keeps QR sizes stable and tests reproducible.
    """
    _check_pair(key, cert_der)
    spec = registry.of_key(key)
    protected = cbor2.dumps({HDR_ALG: spec.cose_alg, HDR_KID: kid_of(cert_der)}, canonical=True)
    body = cbor2.dumps(payload, canonical=True)
    signature = spec.cose_sign(key, sig_structure(protected, body))
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

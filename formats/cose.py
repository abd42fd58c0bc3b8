"""COSE_Sign1 (RFC 9052) as the EL1/EP1 QR credentials use it: the structure, the bytes signed,
and the kid.  Signing and verifying per algorithm go through the algorithm registry
(`AlgorithmSpec.cose_sign` / `cose_verify`, and `cose_alg` in the protected header).

Why hand-rolled instead of a COSE library: the one algorithm we need most, SM2, has no COSE
registration (we use the private-use value -65537, docs/formats.md), and the structure is small:
Tag 18 [protected bstr, unprotected map, payload bstr, signature bstr], signed over the
Sig_structure ["Signature1", protected, external_aad, payload].  The producer and the verifier
share this module so they cannot disagree on a tag or a header label.
"""

from __future__ import annotations

import cbor2

from formats.algorithms.digests import sha256

COSE_SIGN1_TAG = 18
HDR_ALG = 1
HDR_KID = 4
KID_LENGTH = 8
# A CBOR integer (major types 0 and 1) holds at most 64 bits; cbor2 also decodes bignums
# (tags 2 and 3) to Python ints, which no COSE header or claim integer may be.
CBOR_INT_MIN, CBOR_INT_MAX = -(2 ** 64), 2 ** 64 - 1


def is_cbor_int(value) -> bool:
    """True for an integer a COSE header label, `alg` or integer claim can hold.  A bignum in
    their place is malformed — and a 4,336-digit `alg` from a 76-character QR once reached an
    f-string, where Python refuses to print an int of more than 4,300 digits (a 500)."""
    return type(value) is int and CBOR_INT_MIN <= value <= CBOR_INT_MAX


def kid_of(cert_der: bytes) -> bytes:
    """First 8 bytes of SHA-256 over the signer certificate's DER: short enough for a printed
    QR, long enough that verifiers look up one certificate among thousands without clashes."""
    return sha256(bytes(cert_der))[:KID_LENGTH]


def sig_structure(protected: bytes, payload: bytes, external_aad: bytes = b"") -> bytes:
    """The bytes a COSE_Sign1 signature covers (RFC 9052 §4.4)."""
    return cbor2.dumps(["Signature1", protected, external_aad, payload])

"""The signed JSON envelope: `{"payload": {...}, "signature": {"alg", "cert", "value"}}`, signed
over the canonical JSON of the payload (docs/issuance.md, docs/federation.md).

Licence records, status answers, status lists, trust lists and the federation list all travel
in it.  Signing and taking apart live together here so the producer and every verifier agree on
the bytes; whether the certificate in an envelope is trusted is never this module's question
(trust lists and certificate paths decide that, in `verification`).
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
from dataclasses import dataclass

from asn1crypto import x509

from formats import algorithms as alg
from formats.canonical_json import CanonicalJSONError, canonical_json
from formats.errors import FormatError, InvalidSignature

MAX_ENVELOPE_BYTES = 8 * 1024 * 1024
MAX_CERT_BYTES = 16 * 1024


class EnvelopeError(FormatError):
    """The envelope cannot be read (not its signature: that is InvalidSignature)."""

    code = "envelope"


def sign_envelope(payload: dict, key: alg.PrivateKey, cert: x509.Certificate) -> dict:
    """`{"payload", "signature": {"alg", "cert", "value"}}` signed over canonical_json(payload)."""
    value = key.sign(canonical_json(payload))
    return {"payload": payload, "signature": {
        "alg": alg.registry.of_key(key).envelope_alg,
        "cert": base64.b64encode(cert.dump()).decode(),
        "value": base64.b64encode(value).decode(),
    }}


def parse_json(data: bytes | str, *, limit: int = MAX_ENVELOPE_BYTES):
    """JSON text → value, with the failures hostile input causes (oversize, bad UTF-8, deep
    nesting) turned into EnvelopeError."""
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogatepass")
    if not isinstance(data, (bytes, bytearray)) or len(data) > limit:
        raise EnvelopeError(f"input missing or larger than {limit} bytes",
                            f"输入为空或超过 {limit} 字节")
    try:
        return json.loads(bytes(data).decode("utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise EnvelopeError(f"not JSON: {exc.__class__.__name__}", "不是合法的 JSON") from None


@dataclass(frozen=True)
class Opened:
    """The parts of an envelope, decoded but not yet checked."""

    payload: dict
    alg: str
    cert_der: bytes
    cert: x509.Certificate
    value: bytes
    message: bytes  # canonical_json(payload): the signed bytes


def open_envelope(envelope) -> Opened:
    """Decode an envelope; EnvelopeError for anything malformed."""
    try:
        if not isinstance(envelope, dict) or set(envelope) != {"payload", "signature"}:
            raise TypeError("envelope must be exactly {payload, signature}")
        payload, sig = envelope["payload"], envelope["signature"]
        if not isinstance(payload, dict) or not isinstance(sig, dict):
            raise TypeError("payload and signature must be objects")
        name, cert_b64, value_b64 = sig["alg"], sig["cert"], sig["value"]
        if not all(isinstance(x, str) for x in (name, cert_b64, value_b64)):
            raise TypeError("alg, cert and value must be strings")
        if len(cert_b64) > MAX_CERT_BYTES * 2:
            raise ValueError("certificate too large")
        cert_der = base64.b64decode(cert_b64, validate=True)
        value = base64.b64decode(value_b64, validate=True)
        cert = _certificate(cert_der)
        message = canonical_json(payload)
    except CanonicalJSONError as exc:
        raise EnvelopeError(f"malformed signed envelope: {exc.message_en}",
                            f"签名封装格式错误：{exc.message_zh}") from None
    except (KeyError, TypeError, ValueError, binascii.Error) as exc:
        raise EnvelopeError(f"malformed signed envelope: {exc}", "签名封装格式错误") from None
    except Exception as exc:  # asn1crypto raises many types for a corrupt certificate
        raise EnvelopeError(f"malformed signer certificate: {exc.__class__.__name__}",
                            "签名证书格式错误") from None
    return Opened(payload, name, cert_der, cert, value, message)


@functools.lru_cache(maxsize=256)
def _certificate(der: bytes) -> x509.Certificate:
    """The signer certificate parsed in full now: asn1crypto parses lazily, and a verifier that
    reads the subject later would meet a corrupt name as an exception, not a refusal.  A full
    parse costs ~0.5 ms, so the few certificates that sign envelopes are remembered (failures
    are not)."""
    cert = x509.Certificate.load(der, strict=True)
    cert.native
    return cert


def check_signature(opened: Opened) -> None:
    """The envelope's signature against its own certificate's key; InvalidSignature otherwise.
    Whether that certificate is trusted is the caller's question."""
    try:
        public = alg.load_public_key(opened.cert.public_key)
    except Exception as exc:  # an unsupported or corrupt key
        raise InvalidSignature(f"unusable signer key: {exc.__class__.__name__}",
                               "签名证书的公钥不可用") from None
    spec = alg.registry.find_by_envelope_alg(opened.alg)
    if spec is None or spec.name != public.algorithm:
        raise InvalidSignature(f"envelope alg {opened.alg!r} does not match the key",
                               "签名算法与证书公钥不一致")
    public.verify(opened.value, opened.message)


def verify_envelope(envelope: dict) -> x509.Certificate:
    """Check the signature against the certificate carried in the envelope and return that
    certificate; a malformed envelope is InvalidSignature too (callers treat both alike)."""
    try:
        opened = open_envelope(envelope)
    except EnvelopeError as exc:
        raise InvalidSignature(exc.message_en, exc.message_zh) from None
    check_signature(opened)
    return opened.cert

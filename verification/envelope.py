"""The signed JSON envelope as a verifier reads it: `{"payload": {...}, "signature": {"alg",
"cert", "value"}}`, signed over the canonical JSON of the payload (DESIGN §4, §8).

Status answers and trust lists use the same envelope; this module is the one place on the
consuming side that knows how to take it apart.  The producing side is
`license_svc.licences.record.sign_envelope`; `verification` may not import the service
(docs/architecture.md), so the canonical-JSON rule is stated again here, and
tests/verification/test_trustlist.py checks both give the same bytes.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass

from asn1crypto import x509

from formats import algorithms as alg
from formats.errors import InvalidSignature, SigningError

# Envelope "alg" values by key algorithm: what a verifier must run over canonical_json(payload).
ENVELOPE_ALGS = {"sm2": "SM2-SM3", "rsa": "RS256"}
MAX_ENVELOPE_BYTES = 8 * 1024 * 1024
MAX_CERT_BYTES = 16 * 1024


class EnvelopeError(SigningError):
    """The envelope cannot be read (not its signature: that is InvalidSignature)."""

    code = "envelope"


def canonical_json(value) -> bytes:
    """UTF-8, keys sorted, no whitespace; floats, NaN, non-string keys and lone surrogates are
    refused with ValueError (a signer never produces them, so such a payload cannot verify)."""
    def check(v):
        if isinstance(v, float):
            raise ValueError("float in signed JSON")
        if isinstance(v, dict):
            for k, x in v.items():
                if not isinstance(k, str):
                    raise ValueError("non-string key")
                check(x)
        elif isinstance(v, list):
            for x in v:
                check(x)
    check(value)
    try:
        return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"),
                          allow_nan=False).encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("lone surrogate in signed JSON") from None


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
        cert = x509.Certificate.load(cert_der)
        cert.not_valid_before  # noqa: B018  (parse now: asn1crypto parses lazily)
        message = canonical_json(payload)
    except EnvelopeError:
        raise
    except (KeyError, TypeError, ValueError, binascii.Error) as exc:
        raise EnvelopeError(f"malformed signed envelope: {exc}", "签名封装格式错误") from None
    except Exception as exc:  # asn1crypto raises many types for a corrupt certificate
        raise EnvelopeError(f"malformed signer certificate: {exc.__class__.__name__}",
                            "签名证书格式错误") from None
    return Opened(payload, name, cert_der, cert, value, message)


def check_signature(opened: Opened) -> None:
    """The envelope's signature against its own certificate's key; InvalidSignature otherwise.
    Whether that certificate is trusted is the caller's question."""
    try:
        public = alg.load_public_key(opened.cert.public_key)
    except Exception as exc:  # an unsupported or corrupt key
        raise InvalidSignature(f"unusable signer key: {exc.__class__.__name__}",
                               "签名证书的公钥不可用") from None
    if ENVELOPE_ALGS.get(public.algorithm) != opened.alg:
        raise InvalidSignature(f"envelope alg {opened.alg!r} does not match the key",
                               "签名算法与证书公钥不一致")
    public.verify(opened.value, opened.message)

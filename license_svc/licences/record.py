"""The signed licence record (DESIGN §4): canonical JSON, its data hash, and the issuer signature.

Why canonical JSON: the record is signed once and re-verified years later by other regions'
software, so the bytes must be reproducible from the parsed JSON by anyone — UTF-8, keys sorted
by code point, no insignificant whitespace, and no floats (their text form is not portable;
amounts and measures are strings or integers in the templates).

The envelope `{"payload": record, "signature": {"alg", "cert", "value"}}` is the same shape as the
trust lists of DESIGN §8, so one verifier routine serves both.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime, timezone
from typing import Any

from asn1crypto import x509

from formats import algorithms as alg
from formats import oids
from formats.errors import InvalidSignature, SigningError
from verification.envelope import EnvelopeError, check_signature, open_envelope

RECORD_SCHEMA = "yrd-licence/1"
# Envelope "alg" values: what a verifier must run over canonical_json(payload).
ENVELOPE_ALGS = {oids.ALG_SM2: "SM2-SM3", oids.ALG_RSA: "RS256"}


class CanonicalJSONError(SigningError):
    code = "canonical-json"


MAX_DEPTH = 32  # a record nests four levels; anything far deeper is hostile input


def _check(value: Any, path: str, depth: int = 0) -> None:
    if isinstance(value, bool) or value is None or isinstance(value, (str, int)):
        return
    if depth >= MAX_DEPTH:
        raise CanonicalJSONError(f"nested deeper than {MAX_DEPTH} levels (at {path})",
                                 f"嵌套超过 {MAX_DEPTH} 层（位置 {path}）")
    if isinstance(value, float):
        raise CanonicalJSONError(f"floats are not allowed in signed records (at {path})",
                                 f"签名记录中不允许浮点数（位置 {path}）")
    if isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(k, str):
                raise CanonicalJSONError(f"object keys must be strings (at {path})",
                                         f"对象键必须是字符串（位置 {path}）")
            _check(v, f"{path}.{k}", depth + 1)
        return
    if isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            _check(v, f"{path}[{i}]", depth + 1)
        return
    raise CanonicalJSONError(f"{type(value).__name__} is not a JSON value (at {path})",
                             f"{type(value).__name__} 不是 JSON 值（位置 {path}）")


def _plain(value: Any) -> bool:
    """True when `value` is built of exact str/int/bool/None/dict/list/tuple only, at most
    MAX_DEPTH deep: the common case, checked without building a path per key (every audit
    entry and record passes here) and without recursion (hostile input nests thousands of
    levels).  Anything else goes to `_check`, which decides and names the place."""
    stack = [(value, 0)]
    while stack:
        v, depth = stack.pop()
        t = type(v)
        if t is str or t is int or t is bool or v is None:
            continue
        if depth >= MAX_DEPTH:
            return False
        if t is dict:
            for k, x in v.items():
                if type(k) is not str:
                    return False
                stack.append((x, depth + 1))
        elif t is list or t is tuple:
            stack.extend((x, depth + 1) for x in v)
        else:
            return False
    return True


def canonical_json(value: Any) -> bytes:
    """UTF-8 bytes, sorted keys, no whitespace; floats, NaN and non-string keys rejected."""
    if not _plain(value):
        _check(value, "$")
    try:
        return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"),
                          allow_nan=False).encode("utf-8")
    except UnicodeEncodeError:
        raise CanonicalJSONError("text is not valid Unicode (lone surrogate)",
                                 "文本不是有效的 Unicode（孤立代理项）") from None


def iso_time(at: datetime) -> str:
    """RFC 3339 UTC with a Z and whole seconds: the one time format inside signed JSON."""
    if at.tzinfo is None:
        raise SigningError("signed times must be timezone-aware", "签名时间必须带时区")
    return at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def data_hash(record: dict) -> str:
    """SM3 over the canonical record, lowercase hex: the value the PDF and the QR carry.
    SM3 for both key algorithms, so a verifier needs one rule whatever signed the record."""
    return alg.sm3(canonical_json(record)).hex()


def sign_envelope(payload: dict, key: alg.PrivateKey, cert: x509.Certificate) -> dict:
    """`{"payload", "signature": {"alg", "cert", "value"}}` signed over canonical_json(payload)."""
    value = key.sign(canonical_json(payload))
    return {"payload": payload, "signature": {
        "alg": ENVELOPE_ALGS[key.algorithm],
        "cert": base64.b64encode(cert.dump()).decode(),
        "value": base64.b64encode(value).decode(),
    }}


def verify_envelope(envelope: dict) -> x509.Certificate:
    """Check the signature against the certificate carried in the envelope and return that
    certificate; whether the certificate is trusted is the caller's question (trust lists).
    The checking itself is `verification.envelope`'s, shared with status and trust lists."""
    try:
        opened = open_envelope(envelope)
    except EnvelopeError as exc:
        raise InvalidSignature(exc.message_en, exc.message_zh) from None
    check_signature(opened)
    return opened.cert

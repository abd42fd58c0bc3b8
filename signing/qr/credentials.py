"""Make EL1 (printed, offline-verifiable licence credential) and EP1 (亮证 presentation)
codes, docs/formats.md; their claims are `formats.qr_claims`'.

Base45 keeps the text inside the QR alphanumeric alphabet (with the "EL1:"/"EP1:" prefixes), so
the symbol is ~25% smaller than byte mode.  Claims are masked per template (qr.json) because a
printed code is read by anyone holding the paper: it proves the licence, not the holder's full
ID number.
"""

from __future__ import annotations

import secrets
import zlib
from datetime import date, datetime, time

import base45

from formats.errors import SigningError
from formats.cose import HDR_KID
from formats.qr_claims import (CHINA_TZ, CLAIM_CTI, CLAIM_EL1, CLAIM_EXP, CLAIM_IAT, CLAIM_ISS,
                                CLAIM_LICENCE, CLAIM_PRESENTED, EL1_PREFIX, EP1_MAX_LIFETIME,
                                EP1_PREFIX, EP2_PREFIX, LICENCE_CLAIM_KEYS, PresentedClaimsError,
                                presented_claims)
from signing.qr.cose import sign1


class QRError(SigningError):
    code = "qr-error"


# -- masking ---------------------------------------------------------------------------------

def mask(value: str, rule: str) -> str:
    """Apply a qr.json masking rule.

    - ``none``: unchanged (organisation names and USCCs are public);
    - ``name``: keep the first and last character ("张三丰" -> "张*丰", "张三" -> "张*");
    - ``keep:H:T``: keep H leading and T trailing characters, star the rest
      ("310101199001011234" with keep:4:4 -> "3101**********1234").
    """
    value = str(value)
    if rule == "none":
        return value
    if rule == "name":
        if len(value) <= 1:
            return "*"
        if len(value) == 2:
            return value[0] + "*"
        return value[0] + "*" * (len(value) - 2) + value[-1]
    if rule.startswith("keep:"):
        try:
            head, tail = (int(x) for x in rule[5:].split(":"))
        except ValueError:
            raise QRError(f"bad masking rule {rule!r}", f"脱敏规则错误：{rule!r}") from None
        if head < 0 or tail < 0:
            raise QRError(f"bad masking rule {rule!r}", f"脱敏规则错误：{rule!r}")
        if head + tail >= len(value):  # too short to keep anything safely
            return "*" * len(value)
        return value[:head] + "*" * (len(value) - head - tail) + value[len(value) - tail:]
    raise QRError(f"unknown masking rule {rule!r}", f"未知的脱敏规则：{rule!r}")


def licence_claims(record: dict, qr_rules: dict) -> dict:
    """The -70000 claims map of a licence record (see docs/formats.md "EL1/EP1 QR").

    Masking rules may apply to "h", "hid" and "n" (a driving licence number is the holder's
    identity number).  Several holders (e.g. both spouses) are joined with "、" (names) and "," (codes); a licence
    with no end date (长期) has no "vu".
    """
    masks = qr_rules.get("mask", {})
    holders = record["holders"]
    claims = {
        "id": record["identifier"],
        "t": record["type_code"],
        "n": mask(record["number"], masks.get("n", "none")),
        "h": "、".join(mask(h["name"], masks.get("h", "none")) for h in holders),
        "hid": ",".join(mask(h["code"], masks.get("hid", "none")) for h in holders),
        "vf": record["valid_from"],
        "vu": record.get("valid_until"),
        "r": record["region"],
        "v": int(record["version"]),
    }
    wanted = qr_rules.get("claims", LICENCE_CLAIM_KEYS)
    return {k: v for k, v in claims.items() if k in wanted and v is not None}


# -- text encoding ---------------------------------------------------------------------------

def encode_text(prefix: str, cose_sign1: bytes) -> str:
    return prefix + base45.b45encode(zlib.compress(cose_sign1, 9)).decode("ascii")


def cose_from_text(text: str, prefix: str = EL1_PREFIX, max_bytes: int = 16384) -> bytes:
    """The COSE_Sign1 bytes inside our own EL1 text (e.g. the wallet wrapping it into EP1).
    Not a verifier: `verification.qr` checks untrusted codes."""
    if not text.startswith(prefix):
        raise QRError(f"not an {prefix[:-1]} code", f"不是 {prefix[:-1]} 二维码")
    try:
        packed = base45.b45decode(text[len(prefix):])
        d = zlib.decompressobj()
        out = d.decompress(packed, max_bytes)
        if d.unconsumed_tail or not d.eof:
            raise ValueError("too large or truncated")
        return out
    except (ValueError, zlib.error) as exc:
        raise QRError(f"malformed {prefix[:-1]} text: {exc}",
                      f"{prefix[:-1]} 二维码内容格式错误") from None


# -- EL1 -------------------------------------------------------------------------------------

def _epoch(dt: datetime) -> int:
    if dt.tzinfo is None:
        raise QRError("QR times must be timezone-aware", "二维码时间必须带时区")
    return int(dt.timestamp())


def el1_expiry(valid_until: str | None, signer_not_after: datetime) -> datetime:
    """The end of the last valid day in Beijing time; a licence without an end date (长期)
    expires with its signer's certificate, after which offline trust ends anyway."""
    if valid_until is None:
        return signer_not_after
    end = datetime.combine(date.fromisoformat(valid_until), time(23, 59, 59), CHINA_TZ)
    return min(end, signer_not_after)


def make_el1(key, cert_der: bytes, *, issuer_code: str, claims: dict, iat: datetime,
             exp: datetime) -> str:
    if _epoch(exp) <= _epoch(iat):
        raise QRError("EL1 expiry must be after its issue time", "EL1 失效时间必须晚于签发时间")
    payload = {CLAIM_ISS: issuer_code, CLAIM_IAT: _epoch(iat), CLAIM_EXP: _epoch(exp),
               CLAIM_LICENCE: claims}
    return encode_text(EL1_PREFIX, sign1(key, cert_der, payload))


def el1_for_record(record: dict, qr_rules: dict, key, cert_der: bytes, *, now: datetime) -> str:
    """The printed QR of a licence record, signed by the issuing organisation's licence signer."""
    from asn1crypto import x509

    not_after = x509.Certificate.load(bytes(cert_der)).not_valid_after
    return make_el1(key, cert_der, issuer_code=record["issuer"]["code"],
                    claims=licence_claims(record, qr_rules), iat=now,
                    exp=el1_expiry(record.get("valid_until"), not_after))


# -- EP1 -------------------------------------------------------------------------------------

def _presentation_times(now: datetime, lifetime: int) -> tuple[int, int]:
    if not 1 <= lifetime <= EP1_MAX_LIFETIME:
        raise QRError(f"EP1 lifetime must be 1..{EP1_MAX_LIFETIME} s",
                      f"亮证码有效期必须在 1 到 {EP1_MAX_LIFETIME} 秒之间")
    iat = _epoch(now)
    return iat, iat + lifetime


def make_ep1(node_key, node_cert_der: bytes, *, region: str, el1: str | bytes, now: datetime,
             lifetime: int = EP1_MAX_LIFETIME) -> tuple[str, bytes]:
    """A 亮证 presentation wrapping an EL1 (text or COSE bytes); returns (text, cti).

    The short lifetime and the random cti let an online verifier reject screenshots replayed
    later; offline verifiers at least reject codes older than a minute.
    """
    iat, exp = _presentation_times(now, lifetime)
    el1_cose = cose_from_text(el1) if isinstance(el1, str) else bytes(el1)
    cti = secrets.token_bytes(16)
    payload = {CLAIM_ISS: region, CLAIM_IAT: iat, CLAIM_EXP: exp, CLAIM_CTI: cti,
               CLAIM_EL1: el1_cose}
    return encode_text(EP1_PREFIX, sign1(node_key, node_cert_der, payload)), cti


def make_ep2(node_key, node_cert_der: bytes, *, region: str, el1: str | bytes, now: datetime,
             lifetime: int = EP1_MAX_LIFETIME) -> tuple[str, bytes]:
    """The compact 亮证 presentation of an EL1 from this node's own register; returns (text, cti).

    An EP1 carries the whole EL1, and an RSA licence signer's 256-byte signature alone puts it
    past QR version 20.  An EP2 carries the EL1's claims less what its identifier and the node
    already say, plus the licence signer's kid and the EL1's times, under the node's signature:
    the node vouches that its register holds that EL1, the verifier rebuilds the EL1's claims
    exactly (and so the digest the issuing register signs in its status answers) and checks the
    licence signer against the trust list.  No zlib: signatures and short text do not compress.
    """
    import cbor2

    iat, exp = _presentation_times(now, lifetime)
    el1_cose = cose_from_text(el1) if isinstance(el1, str) else bytes(el1)
    try:
        protected, _unprotected, body, _signature = cbor2.loads(el1_cose).value
        inner = cbor2.loads(body)
        presented = presented_claims(
            issuer_code=inner[CLAIM_ISS], kid=cbor2.loads(protected)[HDR_KID],
            iat=inner[CLAIM_IAT], exp=inner[CLAIM_EXP], claims=inner[CLAIM_LICENCE], region=region)
    except (PresentedClaimsError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise QRError(f"this EL1 cannot be presented as an EP2: {exc}",
                      "该证照码无法生成紧凑亮证码（EP2）") from None
    cti = secrets.token_bytes(16)
    payload = {CLAIM_ISS: region, CLAIM_IAT: iat, CLAIM_EXP: exp, CLAIM_CTI: cti,
               CLAIM_PRESENTED: presented}
    text = EP2_PREFIX + base45.b45encode(sign1(node_key, node_cert_der, payload)).decode("ascii")
    return text, cti

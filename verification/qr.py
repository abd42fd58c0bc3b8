"""Offline verification of scanned QR codes: EL1 licence credentials and EP1/EP2 presentations.

Three outcomes a clerk must be able to tell apart (docs/formats.md):
- "not a licence code" (a URL, a payment code): subject ``not-a-licence``, INDETERMINATE with
  SIGNED_DATA_NOT_FOUND — nothing was claimed, so nothing failed;
- "a licence code that failed": TOTAL_FAILED (FORMAT_FAILURE for garbage after the prefix,
  SIG_CRYPTO_FAILURE for a changed claim or a wrong key, EXPIRED for a stale presentation, …)
  or INDETERMINATE NO_CERTIFICATE_CHAIN_FOUND when the signer is not in our trust material;
- "valid": TOTAL_PASSED.

Trust material is a `QrTrust`: signer certificates indexed by COSE kid, each with its role
(licence signer or node), region and organisation code — what a trust list entry says.  The
verifier never reads the clock: `at` is passed in.  Online checks (replayed cti, licence status)
belong to the caller; the report exposes the cti for that.

The COSE structure and the claim keys are `formats.cose`'s and `formats.qr_claims`', shared with
the producer; each algorithm's COSE signature form is its registry entry's.

An EP2 (the compact presentation) is reported like an EP1 — subject ``qr-ep1``, the same `ep1.*`
checks, so replay and status checks online treat both alike — but its licence part carries no
signature of its own: `el1.attested` says the node's signature covers it instead of
`el1.signature`, and the licence signer is still looked up, bound and dated by its kid.
"""

from __future__ import annotations

import base64
import io
import re
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Iterable

import base45
import cbor2
from asn1crypto import x509

from formats import algorithms as alg
from formats.algorithms import registry
from formats.cose import (COSE_SIGN1_TAG, HDR_ALG, HDR_KID, KID_LENGTH, is_cbor_int,
                          sig_structure)
from formats.errors import SigningError
from formats.privacy import mask_id_numbers
from formats.qr_claims import (CHINA_TZ, CLAIM_CTI, CLAIM_EL1, CLAIM_EXP, CLAIM_IAT, CLAIM_ISS,
                                CLAIM_LICENCE, CLAIM_PRESENTED, EL1_PREFIX, EP1_MAX_LIFETIME,
                                EP1_PREFIX, EP2_PREFIX, PresentedClaimsError, expand_presented)
from verification.checks import QrCheck
from verification.report import Report, Signed


ROLE_LICENCE_SIGNER = "licence_signer"
ROLE_NODE = "node"

MAX_TEXT = 4296            # largest QR payload (version 40-L alphanumeric): anything longer is not ours
MAX_COSE = 16384           # decompressed COSE_Sign1 bound (zlib bombs)
MAX_IMAGE_BYTES = 20 * 1024 * 1024
MAX_IMAGE_PIXELS = 40_000_000
DEFAULT_SKEW = timedelta(seconds=30)  # phones' clocks drift; only for "issued in the future"

_BASE45 = re.compile(r"^[0-9A-Z $%*+\-./:]*$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_CLAIM_TYPES = {"id": str, "t": str, "n": str, "h": str, "hid": str, "vf": str, "vu": str,
                "r": str, "v": int}
_REQUIRED_CLAIMS = ("id", "t", "n", "h", "vf", "r", "v")


# -- trust material --------------------------------------------------------------------------

@dataclass
class QrSigner:
    """One trusted certificate, as a trust list entry describes it."""

    cert_der: bytes
    role: str                       # ROLE_LICENCE_SIGNER or ROLE_NODE
    region: str
    org_code: str | None = None     # the USCC an EL1 "iss" must equal (licence signers)
    org_name: str | None = None
    withdrawn_at: datetime | None = None  # trust list status "withdrawn" since
    cert: x509.Certificate = field(init=False, repr=False)
    kid: bytes = field(init=False)

    def __post_init__(self):
        """Parse everything verification will touch now, so bad trust material fails when the
        trust is built, never halfway through verifying a scanned code."""
        self.cert_der = bytes(self.cert_der)
        try:
            self.cert = x509.Certificate.load(self.cert_der)
            self.not_before, self.not_after = self.cert.not_valid_before, self.cert.not_valid_after
            self.subject = self.cert.subject.human_friendly
            self._public = alg.load_public_key(self.cert.public_key)
        except Exception as exc:  # asn1crypto and the key loader raise many types
            raise ValueError(f"unusable signer certificate for {self.role} {self.region}: "
                             f"{exc.__class__.__name__}") from None
        self.kid = alg.sha256(self.cert_der)[:8]

    @property
    def public_key(self):
        return self._public


class QrTrust:
    """Signer certificates by (kid, role).  Build from trust lists, or from a KeyStore in
    development (`from_keystore`)."""

    def __init__(self, signers: Iterable[QrSigner] = ()):
        self._by_kid: dict[tuple[bytes, str], QrSigner] = {}
        for s in signers:
            self.add(s)

    def add(self, signer: QrSigner) -> None:
        self._by_kid[(signer.kid, signer.role)] = signer

    def lookup(self, kid: bytes, role: str) -> QrSigner | None:
        return self._by_kid.get((kid, role))

    def __len__(self) -> int:
        return len(self._by_kid)

    @classmethod
    def from_trust_lists(cls, payloads: Iterable[Mapping]) -> "QrTrust":
        """From the payloads of region trust lists (docs/federation.md) whose signatures the caller has
        already verified: licence signers and nodes; a withdrawn entry stays known, so codes
        signed before its withdrawal still verify and later ones fail as REVOKED."""
        trust = cls()
        for payload in payloads:
            region = payload["region"]
            for e in payload.get("entries", []):
                if e.get("role") not in (ROLE_LICENCE_SIGNER, ROLE_NODE):
                    continue
                withdrawn = None
                if e.get("status") == "withdrawn":
                    withdrawn = datetime.fromisoformat(e["since"])
                trust.add(QrSigner(base64.b64decode(e["cert"]), e["role"], region,
                                   e.get("org_code"), e.get("org_name"), withdrawn))
        return trust

    @classmethod
    def from_keystore(cls, ks, regions: Iterable[str] = ("sh", "js", "zj", "ah")) -> "QrTrust":
        """Licence signers of every organisation and the node of each region, SM2 and RSA.

        Duck-typed over `signing.keystore.KeyStore` (verification may not import it)."""
        trust = cls()
        for region in regions:
            for org in ks.organisations(region):
                code = _attr(org, "code", "org_code")
                for algorithm in registry.names():
                    try:
                        cred = ks.credential(region, ROLE_LICENCE_SIGNER, algorithm, org_code=code)
                    except (KeyError, LookupError, SigningError):
                        continue
                    trust.add(QrSigner(cred.cert.dump(), ROLE_LICENCE_SIGNER, region,
                                       cred.org_code or code, cred.org_name))
            for algorithm in registry.names():
                try:
                    cred = ks.credential(region, ROLE_NODE, algorithm)
                except (KeyError, LookupError, SigningError):
                    continue
                trust.add(QrSigner(cred.cert.dump(), ROLE_NODE, region))
        return trust


def _attr(obj, *names):
    for n in names:
        if isinstance(obj, dict) and n in obj:
            return obj[n]
        if hasattr(obj, n):
            return getattr(obj, n)
    return None


# -- entry points ----------------------------------------------------------------------------

def verify_qr_text(text: str | bytes, trust: QrTrust, at: datetime, *,
                   skew: timedelta = DEFAULT_SKEW) -> Report:
    """Verify the text of a scanned code.  Never raises for bad input."""
    report = Report(subject="qr")
    if at.tzinfo is None:
        raise ValueError("`at` must be timezone-aware")
    if isinstance(text, (bytes, bytearray)):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError:
            return _not_a_licence(report, "扫描内容不是文本 / the scanned content is not text")
    if not isinstance(text, str):
        return _not_a_licence(report, "扫描内容不是文本 / the scanned content is not text")
    text = text.strip()
    if text.startswith(EL1_PREFIX):
        report.subject = "qr-el1"
        cose = _unpack(report, text, EL1_PREFIX, QrCheck.EL1_FORMAT)
        if cose is not None:
            _verify_el1(report, cose, trust, at, skew)
        return report
    if text.startswith(EP1_PREFIX):
        report.subject = "qr-ep1"
        cose = _unpack(report, text, EP1_PREFIX, QrCheck.EP1_FORMAT)
        if cose is not None:
            _verify_ep1(report, cose, trust, at, skew)
        return report
    if text.startswith(EP2_PREFIX):
        report.subject = "qr-ep1"  # a presentation, whichever its form (see the module's doc)
        cose = _unpack(report, text, EP2_PREFIX, QrCheck.EP1_FORMAT, compressed=False)
        if cose is not None:
            _verify_ep2(report, cose, trust, at, skew)
        return report
    # Shown so a clerk sees what was scanned, but an ID card's or a health code's QR carries an
    # ID number: masked, as everywhere a report may be stored or printed.
    masked = mask_id_numbers(text[:217], "[ID]")  # before cutting, so no part of one remains
    shown = masked[:60] + ("…" if len(masked) > 60 else "")
    kind = "网址 / a URL" if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", text) else "其他内容 / other content"
    return _not_a_licence(report, f"不是电子证照二维码（{kind}）：{shown!r} / not a licence code")


def verify_qr_image(image: bytes, trust: QrTrust, at: datetime, *,
                    skew: timedelta = DEFAULT_SKEW) -> Report:
    """Find QR codes in a picture (PNG, JPEG, …) with zxing-cpp and verify the licence code
    among them; a picture without any QR code is reported, not raised."""
    report = Report(subject="qr-image")
    texts = _read_qr_codes(report, image)
    if texts is None:
        return report
    if not texts:
        return _not_a_licence(report, "图片中未找到二维码 / no QR code found in the image")
    ours = [t for t in texts if t.strip().startswith((EL1_PREFIX, EP1_PREFIX, EP2_PREFIX))]
    result = verify_qr_text((ours or texts)[0], trust, at, skew=skew)
    if len(texts) > 1:
        result.notes.append(f"图片中有 {len(texts)} 个二维码，已验证第一个证照码 / "
                            f"{len(texts)} QR codes in the image; verified the first licence code")
    return result


def _read_qr_codes(report: Report, image: bytes) -> list[str] | None:
    if not isinstance(image, (bytes, bytearray)) or len(image) > MAX_IMAGE_BYTES:
        report.fail_format(QrCheck.IMAGE, "图片为空或超过 20 MB / image missing or larger than 20 MB")
        return None
    try:
        import zxingcpp
        from PIL import Image

        with Image.open(io.BytesIO(bytes(image))) as img:
            if img.width * img.height > MAX_IMAGE_PIXELS:
                report.fail_format(QrCheck.IMAGE, "图片像素过多 / image has too many pixels")
                return None
            img = img.convert("L")
            found = zxingcpp.read_barcodes(img, formats=zxingcpp.BarcodeFormat.QRCode)
    except Exception as exc:  # PIL raises many types for corrupt or unknown files
        report.fail_format(QrCheck.IMAGE, f"无法读取图片 / cannot read the image: {exc.__class__.__name__}")
        return None
    return [b.text for b in found if b.valid]


def _not_a_licence(report: Report, detail: str) -> Report:
    report.subject = "not-a-licence"
    report.add(QrCheck.LICENCE_CODE, False, detail, failure="SIGNED_DATA_NOT_FOUND", indeterminate=True)
    return report


# -- decoding --------------------------------------------------------------------------------

@dataclass
class _Sign1:
    protected: bytes
    alg: int
    kid: bytes
    payload: bytes
    signature: bytes
    claims: Mapping


def _unpack(report: Report, text: str, prefix: str, check: str, *,
            compressed: bool = True) -> bytes | None:
    body = text[len(prefix):]
    if len(text) > MAX_TEXT:
        report.fail_format(check, f"内容过长（{len(text)} 字符）/ text too long ({len(text)} characters)")
        return None
    if not body or not _BASE45.match(body):
        report.fail_format(check, "前缀后不是 Base45 文本 / not Base45 text after the prefix")
        return None
    try:
        packed = base45.b45decode(body)
        if not compressed:
            return packed
        d = zlib.decompressobj()
        cose = d.decompress(packed, MAX_COSE)
        if d.unconsumed_tail:
            raise ValueError("decompressed content too large")
        if not d.eof:
            raise ValueError("compressed stream truncated")
        if d.unused_data:
            raise ValueError("bytes after the compressed stream")
    except (ValueError, zlib.error) as exc:
        report.fail_format(check, f"Base45/zlib 解码失败 / Base45 or zlib decoding failed: {exc}")
        return None
    return cose


def _decode_sign1(report: Report, cose: bytes, check: str) -> _Sign1 | None:
    """Parse a tagged COSE_Sign1 and its CBOR map payload, type-checking every field."""
    def bad(why_zh: str, why_en: str):
        report.fail_format(check, f"{why_zh} / {why_en}")
        return None

    try:
        obj = cbor2.loads(cose)
    except Exception as exc:  # cbor2 raises CBORDecodeError, but also ValueError/OverflowError…
        return bad("CBOR 解码失败", f"CBOR decoding failed: {exc.__class__.__name__}")
    if not isinstance(obj, cbor2.CBORTag) or obj.tag != COSE_SIGN1_TAG:
        return bad("不是 COSE_Sign1（标签 18）", "not a tagged COSE_Sign1 (tag 18)")
    v = obj.value
    # cbor2 decodes the contents of a tag as immutable values (tuple, frozendict)
    if not (isinstance(v, (list, tuple)) and len(v) == 4 and isinstance(v[0], bytes)
            and isinstance(v[1], Mapping) and isinstance(v[2], bytes) and isinstance(v[3], bytes)):
        return bad("COSE_Sign1 结构错误", "COSE_Sign1 must be [bstr, map, bstr, bstr]")
    protected, _unprotected, payload, signature = v
    try:
        hdr = cbor2.loads(protected)
        claims = cbor2.loads(payload)
    except Exception as exc:
        return bad("COSE 头或载荷解码失败", f"cannot decode header or payload: {exc.__class__.__name__}")
    if not isinstance(hdr, Mapping) or not isinstance(claims, Mapping):
        return bad("COSE 头或载荷不是映射", "protected header and payload must be maps")
    cose_alg, kid = hdr.get(HDR_ALG), hdr.get(HDR_KID)
    if not is_cbor_int(cose_alg) or not isinstance(kid, bytes) or len(kid) != KID_LENGTH:
        return bad("受保护头缺少算法或 8 字节 kid", "protected header needs alg and an 8-byte kid")
    if registry.find_by_cose_alg(cose_alg) is None:
        return bad(f"不支持的算法 {cose_alg}", f"unsupported COSE algorithm {cose_alg}")
    return _Sign1(protected, cose_alg, kid, payload, signature, claims)


def _sig_structure(s: _Sign1) -> bytes:
    return sig_structure(s.protected, s.payload)


def _utc(epoch: int) -> datetime | None:
    try:
        return datetime.fromtimestamp(epoch, timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None


# -- signature and signer checks ---------------------------------------------------------------

@dataclass(frozen=True)
class _Area:
    """The checks EL1 and EP1 share, each reported under the code's own area (`el1.signature`,
    `ep1.signature`), so a clerk sees which of the two codes failed."""

    signer_known: QrCheck
    signature: QrCheck
    signer_validity: QrCheck


_EL1 = _Area(QrCheck.EL1_SIGNER_KNOWN, QrCheck.EL1_SIGNATURE, QrCheck.EL1_SIGNER_VALIDITY)
_EP1 = _Area(QrCheck.EP1_SIGNER_KNOWN, QrCheck.EP1_SIGNATURE, QrCheck.EP1_SIGNER_VALIDITY)


def _check_signature(report: Report, s: _Sign1, trust: QrTrust, role: str, area: _Area
                     ) -> QrSigner | None:
    signer = trust.lookup(s.kid, role)
    who = "证照签发机构" if role == ROLE_LICENCE_SIGNER else "地区节点"
    who_en = "licence signer" if role == ROLE_LICENCE_SIGNER else "region node"
    if signer is None:
        report.add(area.signer_known, False,
                   f"签名者（kid {s.kid.hex()}）不在信任列表的{who}中 / "
                   f"kid {s.kid.hex()} is not a trusted {who_en}",
                   failure="NO_CERTIFICATE_CHAIN_FOUND", indeterminate=True)
        return None
    report.add(area.signer_known, True, f"{signer.org_name or signer.region} ({s.kid.hex()})")
    key = signer.public_key
    spec = registry.find_by_cose_alg(s.alg)
    if spec is None or spec.name != key.algorithm:
        report.add(area.signature, False, "签名算法与证书公钥不一致 / COSE alg does not match "
                   "the certificate key", failure="SIG_CRYPTO_FAILURE")
        return None
    try:
        spec.cose_verify(key, s.signature, _sig_structure(s))
    except SigningError:
        report.add(area.signature, False, "签名值无效（内容被改动或签名者不符）/ signature does "
                   "not verify (content changed or wrong signer)", failure="SIG_CRYPTO_FAILURE")
        return None
    report.add(area.signature, True, spec.cose_label)
    return signer


def _check_signer_at(report: Report, signer: QrSigner, iat: datetime, area: _Area) -> None:
    """The certificate must have been valid, and not withdrawn from the trust list, when the
    code was signed."""
    nb, na = signer.not_before, signer.not_after
    if iat < nb:
        report.add(area.signer_validity, False, f"签发时证书尚未生效 / certificate not yet "
                   f"valid at signing time ({nb.isoformat()})", failure="NOT_YET_VALID")
    elif iat > na:
        report.add(area.signer_validity, False, f"签发时证书已过期 / certificate expired at "
                   f"signing time ({na.isoformat()})", failure="EXPIRED")
    elif signer.withdrawn_at is not None and iat >= signer.withdrawn_at:
        report.add(area.signer_validity, False, "签发时该签名者已被信任列表撤销 / signer "
                   f"withdrawn from the trust list since {signer.withdrawn_at.isoformat()}",
                   failure="REVOKED")
    else:
        report.add(area.signer_validity, True, f"{nb.date()} – {na.date()}")


def _times(report: Report, payload: dict, check: str) -> tuple[datetime, datetime] | None:
    iat, exp = payload.get(CLAIM_IAT), payload.get(CLAIM_EXP)
    t_iat = _utc(iat) if is_cbor_int(iat) else None
    t_exp = _utc(exp) if is_cbor_int(exp) else None
    if t_iat is None or t_exp is None or t_exp <= t_iat:
        report.fail_format(check, "iat/exp 缺失或无效 / iat or exp missing or invalid")
        return None
    return t_iat, t_exp


# -- EL1 --------------------------------------------------------------------------------------

def _licence_claims(report: Report, payload: dict, check: str) -> dict | None:
    claims = payload.get(CLAIM_LICENCE)
    iss = payload.get(CLAIM_ISS)
    if not isinstance(claims, Mapping) or not isinstance(iss, str):
        report.fail_format(check, "缺少证照声明或签发机构 / licence claims or issuer missing")
        return None
    for k, v in claims.items():
        if k in _CLAIM_TYPES and not (is_cbor_int(v) if _CLAIM_TYPES[k] is int
                                      else isinstance(v, _CLAIM_TYPES[k])):
            report.fail_format(check, f"声明 {k!r} 类型错误 / claim {k!r} has the wrong type")
            return None
    missing = [k for k in _REQUIRED_CLAIMS if k not in claims]
    if missing:
        report.fail_format(check, f"缺少声明 {missing} / missing claims {missing}")
        return None
    for k in ("vf", "vu"):
        if k in claims:
            try:
                if not _DATE.match(claims[k]):
                    raise ValueError
                date.fromisoformat(claims[k])
            except ValueError:
                report.fail_format(check, f"{k} 不是 YYYY-MM-DD 日期 / {k} is not a YYYY-MM-DD date")
                return None
    return {k: claims[k] for k in claims if k in _CLAIM_TYPES}


def _verify_el1(report: Report, cose: bytes, trust: QrTrust, at: datetime,
                skew: timedelta) -> None:
    fmt = QrCheck.EL1_FORMAT
    s = _decode_sign1(report, cose, fmt)
    if s is None:
        return
    claims = _licence_claims(report, s.claims, fmt)
    times = _times(report, s.claims, fmt) if claims is not None else None
    if claims is None or times is None:
        return
    iat, exp = times
    report.add(fmt, True, "EL1 COSE_Sign1")
    _record_licence(report, claims, s.claims[CLAIM_ISS], iat, exp)
    signer = _check_signature(report, s, trust, ROLE_LICENCE_SIGNER, _EL1)
    if signer is not None:
        _check_licence(report, signer, s.kid, claims, s.claims[CLAIM_LICENCE], s.claims[CLAIM_ISS],
                       iat, exp, at, skew)


def _record_licence(report: Report, claims: dict, iss: str, iat: datetime, exp: datetime) -> None:
    report.licence.update(claims)
    report.licence.update({"issuer_code": iss, "qr_issued_at": iat.isoformat(),
                           "qr_expires_at": exp.isoformat()})


def _check_licence(report: Report, signer: QrSigner, kid: bytes, claims: dict, signed_claims,
                   iss: str, iat: datetime, exp: datetime, at: datetime, skew: timedelta) -> None:
    """What follows a trusted licence signer, for an EL1 and for the EL1 an EP2 presents: who
    signed, the issuer binding, the signer's validity when the EL1 was made, the licence's."""
    report.signer.update({"kid": kid.hex(), "role": signer.role, "region": signer.region,
                          "org_code": signer.org_code, "org_name": signer.org_name,
                          "subject": signer.subject,
                          "algorithm": signer.public_key.algorithm})
    report.signatures.append(Signed(ROLE_LICENCE_SIGNER, signer.cert_der, claimed_at=iat,
                                    region=claims["r"], claims=signed_claims))
    binding_ok = signer.org_code == iss and signer.region == claims["r"]
    report.add(QrCheck.EL1_ISSUER_BINDING, binding_ok,
               "签发机构代码和地区与签名证书一致 / issuer code and region match the signer" if binding_ok
               else f"声明的签发机构 {iss}/{claims['r']} 与签名证书 "
                    f"{signer.org_code}/{signer.region} 不符 / claimed issuer does not match the signer",
               failure="SIG_CONSTRAINTS_FAILURE")
    _check_signer_at(report, signer, iat, _EL1)
    if at + skew < iat:
        report.add(QrCheck.EL1_LICENCE_VALIDITY, False, "二维码签发时间晚于当前时间 / code issued in "
                   "the future", failure="NOT_YET_VALID")
    elif at > exp:
        report.add(QrCheck.EL1_LICENCE_VALIDITY, False, f"证照二维码已于 {exp.isoformat()} 过期 / "
                   "licence code expired", failure="EXPIRED")
    elif at.astimezone(CHINA_TZ).date() < date.fromisoformat(claims["vf"]):
        report.add(QrCheck.EL1_LICENCE_VALIDITY, False, f"证照自 {claims['vf']} 起生效，尚未生效 / "
                   f"licence valid from {claims['vf']}, not yet in force", failure="NOT_YET_VALID")
    else:
        until = (f"证照有效期至 {claims['vu']} / licence valid until {claims['vu']}" if "vu" in claims
                 else "证照长期有效 / licence without an end date (长期)")
        report.add(QrCheck.EL1_LICENCE_VALIDITY, True,
                   f"{until}；二维码本身有效至 {exp.isoformat()}（不是证照有效期）/ the QR code "
                   f"itself is valid until {exp.isoformat()} (not the licence's validity)")


# -- EP1 --------------------------------------------------------------------------------------

def _verify_ep1(report: Report, cose: bytes, trust: QrTrust, at: datetime,
                skew: timedelta) -> None:
    s = _decode_sign1(report, cose, QrCheck.EP1_FORMAT)
    if s is None:
        return
    inner = s.claims.get(CLAIM_EL1)
    if not isinstance(inner, bytes):
        report.fail_format(QrCheck.EP1_FORMAT, "亮证码缺少证照码 / presentation needs the EL1")
        return
    if _check_presentation(report, s, trust, at, skew, "EP1")[0]:
        _verify_el1(report, inner, trust, at, skew)


def _verify_ep2(report: Report, cose: bytes, trust: QrTrust, at: datetime,
                skew: timedelta) -> None:
    s = _decode_sign1(report, cose, QrCheck.EP1_FORMAT)
    if s is None:
        return
    well_formed, node = _check_presentation(report, s, trust, at, skew, "EP2")
    if not well_formed:
        return
    fmt = QrCheck.EL1_FORMAT
    try:
        claims, iss, kid, el1_iat, el1_exp = expand_presented(s.claims.get(CLAIM_PRESENTED),
                                                              report.licence["presentation"]["region"])
    except PresentedClaimsError as exc:
        report.fail_format(fmt, f"亮证码中的证照内容不完整或有误 / the presented licence is malformed: {exc}")
        return
    checked = _licence_claims(report, {CLAIM_LICENCE: claims, CLAIM_ISS: iss}, fmt)
    times = _times(report, {CLAIM_IAT: el1_iat, CLAIM_EXP: el1_exp}, fmt) if checked else None
    if checked is None or times is None:
        return
    if len(kid) != KID_LENGTH:
        report.fail_format(fmt, "证照签名者 kid 不是 8 字节 / the licence signer's kid is not 8 bytes")
        return
    iat, exp = times
    report.add(fmt, True, "EP2")
    _record_licence(report, checked, iss, iat, exp)
    if node is None:  # the node's signature did not hold: the content is nobody's word
        return
    signer = trust.lookup(kid, ROLE_LICENCE_SIGNER)
    if signer is None:
        report.add(QrCheck.EL1_SIGNER_KNOWN, False,
                   f"签名者（kid {kid.hex()}）不在信任列表的证照签发机构中 / kid {kid.hex()} is not a "
                   "trusted licence signer", failure="NO_CERTIFICATE_CHAIN_FOUND", indeterminate=True)
        return
    report.add(QrCheck.EL1_SIGNER_KNOWN, True, f"{signer.org_name or signer.region} ({kid.hex()})")
    report.add(QrCheck.EL1_ATTESTED, True,
               f"证照内容由 {node.region} 节点签名担保，与其登记的证照码一致（EP2 不携带签发机构签名）/ "
               f"the {node.region} node's signature covers the licence of its register (an EP2 "
               "carries no issuer signature)")
    _check_licence(report, signer, kid, checked, claims, iss, iat, exp, at, skew)


def _check_presentation(report: Report, s: _Sign1, trust: QrTrust, at: datetime,
                        skew: timedelta, form: str) -> tuple[bool, QrSigner | None]:
    """The presentation's own checks, EP1 and EP2 alike: region, cti, times, the node's
    signature, region and validity, freshness.  (whether its format held, the node when its
    signature held)."""
    fmt = QrCheck.EP1_FORMAT
    region, cti = s.claims.get(CLAIM_ISS), s.claims.get(CLAIM_CTI)
    if not isinstance(region, str) or not isinstance(cti, bytes) or len(cti) != 16:
        report.fail_format(fmt, "亮证码缺少地区或 16 字节 cti / presentation needs region and "
                                "a 16-byte cti")
        return False, None
    times = _times(report, s.claims, fmt)
    if times is None:
        return False, None
    iat, exp = times
    report.add(fmt, True, f"{form} COSE_Sign1")
    report.licence["presentation"] = {"region": region, "cti": cti.hex(),
                                      "issued_at": iat.isoformat(), "expires_at": exp.isoformat(),
                                      "node_kid": s.kid.hex(), "format": form}
    node = _check_signature(report, s, trust, ROLE_NODE, _EP1)
    if node is not None:
        report.signatures.append(Signed(ROLE_NODE, node.cert_der, claimed_at=iat, region=region))
        ok = node.region == region
        report.add(QrCheck.EP1_REGION, ok,
                   f"由 {region} 节点签名 / signed by the {region} node" if ok else
                   f"声明地区 {region} 与签名节点 {node.region} 不符 / claimed region {region} but "
                   f"signed by the {node.region} node", failure="SIG_CONSTRAINTS_FAILURE")
        _check_signer_at(report, node, iat, _EP1)
    lifetime = (exp - iat).total_seconds()
    if lifetime > EP1_MAX_LIFETIME:
        report.add(QrCheck.EP1_FRESHNESS, False, f"亮证码有效期 {lifetime:.0f} 秒超过 60 秒 / "
                   "presentation lifetime exceeds 60 s", failure="SIG_CONSTRAINTS_FAILURE")
    elif at + skew < iat:
        report.add(QrCheck.EP1_FRESHNESS, False, "亮证码签发时间晚于当前时间 / presentation "
                   "issued in the future", failure="NOT_YET_VALID")
    elif at > exp:
        report.add(QrCheck.EP1_FRESHNESS, False, f"亮证码已过期（{(at - iat).total_seconds():.0f} "
                   "秒前生成），请刷新 / presentation expired, ask for a fresh code",
                   failure="EXPIRED")
    else:
        report.add(QrCheck.EP1_FRESHNESS, True, f"生成于 {(at - iat).total_seconds():.0f} 秒前 / "
                   "fresh")
    return True, node

"""Plain OFD digital signatures (Type="Sign": a signature without a seal), verified over the
bytes of their Signature.xml — which in turn fixes the hashes of every protected file.

GM/T 0099-2020 §7.2.2 b) makes SignedValue.dat a GB/T 35275 (GM/T 0010) SignedData:
PKCS#7-shaped, with the GM content-type arc 1.2.156.10197.6.1.4.2.x (standards-notes §2.1).
What is signed, in the forms producers write (ofdrw's GBT35275DSContainer and
GBT35275PKCS9DSContainer, and plain RFC 5652 tools):
  - no authenticated attributes: the content, SM3(Signature.xml), is what the SM2 key signed;
  - PKCS#9 authenticated attributes: their DER SET is signed, and their messageDigest is the
    hash of Signature.xml (detached) or of the enclosed content;
  - the content may also be Signature.xml itself, or (ofdrw: "兼容非规范格式") the hash in Base64.
RFC 5652 content-type OIDs are read too; a SignedData without its ContentInfo wrapper is read
with a note.  ofdrw's older DigitalSignContainer writes only a bare SM2 SEQUENCE{r, s} over
Signature.xml: no certificate travels with it, so it can be checked only against certificates
the relying party already holds (`known_signers`), and is otherwise INDETERMINATE.

The GM content-type OIDs are registered nowhere globally: they are read with local ASN.1
classes, so asn1crypto's shared tables (which pyHanko also uses) stay as they are.
"""

from __future__ import annotations

import base64
import binascii
import re
from datetime import datetime, timedelta, timezone
from typing import Iterable

from asn1crypto import cms, core, x509

from formats import algorithms as alg
from formats import oids
from formats.algorithms import registry
from formats.certs import certificate_from_der
from formats.der import Element, children, read as read_element
from formats.errors import SigningError
from verification import certpath
from verification.checks import OfdCheck
from verification.report import Report
from verification.seal.verify import cert_summary

GM_DATA = "1.2.156.10197.6.1.4.2.1"
GM_SIGNED_DATA = "1.2.156.10197.6.1.4.2.2"
PKCS7_DATA = "1.2.840.113549.1.7.1"
PKCS7_SIGNED_DATA = "1.2.840.113549.1.7.2"
SHA256 = "2.16.840.1.101.3.4.2.1"
SIGNING_KEY_USAGE = frozenset({"digital_signature"})
# Signature.xml times without a zone are taken as China Standard Time, where producers sign.
CHINA = timezone(timedelta(hours=8))
_TIME = re.compile(r"^(\d{4})-?(\d{2})-?(\d{2})[T ]?(\d{2}):?(\d{2}):?(\d{2})(?:\.\d{1,9})?"
                   r"(Z|[+-]\d{2}:?\d{2})?$")


class _Content(core.Sequence):
    """The inner ContentInfo / EncapsulatedContentInfo: for OFD always data, an OCTET STRING."""

    _fields = [("content_type", core.ObjectIdentifier),
               ("content", core.OctetString, {"explicit": 0, "optional": True})]


class _SignedData(core.Sequence):
    """GB/T 35275 §8.1 SignedData = PKCS#7 v1.5 SignedData (RFC 5652 reads the same bytes)."""

    _fields = [("version", core.Integer),
               ("digest_algorithms", cms.DigestAlgorithms),
               ("content_info", _Content),
               ("certificates", cms.CertificateSet, {"implicit": 0, "optional": True}),
               ("crls", cms.RevocationInfoChoices, {"implicit": 1, "optional": True}),
               ("signer_infos", cms.SignerInfos)]


class _Unreadable(Exception):
    def __init__(self, en: str, zh: str):
        super().__init__(f"{zh} / {en}")


def verify_plain(report: Report, number: int, der: bytes, signature_xml: bytes,
                 claimed_time: str | None, trust, at: datetime,
                 known_signers: Iterable = ()) -> None:
    """Add the checks of the `number`-th signature, a plain digital signature, to `report`."""
    fmt = OfdCheck.SIG_PLAIN_FORMAT.at(number)
    try:
        kind, body, notes = _classify(der)
        report.notes.extend(n for n in notes if n not in report.notes)
        if kind == "bare":
            report.add(fmt, True, "数字签名（裸 SM2 签名值，不含证书）/ plain digital signature "
                       "(a bare SM2 signature value, no certificate)")
            _check_bare(report, number, body, signature_xml, claimed_time, trust, at,
                        known_signers)
            return
        signed = _SignedData.load(body, strict=True)
        signed.native  # parse every field now, so a malformed one is a format failure here
    except _Unreadable as exc:
        report.add(fmt, False, str(exc), failure="FORMAT_FAILURE")
        return
    except Exception as exc:  # asn1crypto raises ValueError, TypeError, KeyError, …
        report.add(fmt, False, f"签名值不是可读的 SignedData / the signed value is not a readable "
                   f"SignedData ({exc.__class__.__name__})", failure="FORMAT_FAILURE")
        return
    _check_signed_data(report, number, signed, signature_xml, claimed_time, trust, at)


# ---------------------------------------------------------------------------------------------
def _classify(der: bytes) -> tuple[str, bytes, list[str]]:
    """("bare", der) for SEQUENCE{r, s}; ("signed_data", SignedData DER) otherwise."""
    outer = _definite(read_element(der))
    if _kind(outer) != (0, True, 16):
        raise _Unreadable("not a DER SEQUENCE", "签名值不是 DER SEQUENCE")
    kids = _children(outer.contents)
    if len(kids) == 2 and all(_kind(k) == (0, False, 2) for k in kids):
        return "bare", der, []
    if kids and _kind(kids[0]) == (0, False, 2):
        return "signed_data", der, ["签名值是未包装在 ContentInfo 中的 SignedData / the signed "
                                    "value is a SignedData without its ContentInfo wrapper"]
    if len(kids) != 2 or _kind(kids[0]) != (0, False, 6) or _kind(kids[1]) != (2, True, 0):
        raise _Unreadable("neither a ContentInfo nor a SignedData", "签名值既不是 ContentInfo 也不是 "
                          "SignedData")
    content_type = core.ObjectIdentifier.load(kids[0].raw).dotted
    if content_type not in (GM_SIGNED_DATA, PKCS7_SIGNED_DATA):
        raise _Unreadable(f"content type {content_type} is not signedData",
                          f"内容类型 {content_type} 不是 signedData")
    inner = _children(kids[1].contents)
    if len(inner) != 1:
        raise _Unreadable("ContentInfo content is not one SignedData", "ContentInfo 内容不是单个 "
                          "SignedData")
    return "signed_data", inner[0].raw, []


def _definite(item: Element) -> Element:
    if item.indefinite:
        raise _Unreadable("indefinite-length encoding", "不接受不定长编码")
    return item


def _kind(item: Element) -> tuple[int, bool, int]:
    return item.cls, item.constructed, item.tag


def _children(contents: bytes) -> list[Element]:
    return [_definite(item) for item in children(contents)]


def _check_signed_data(report: Report, number: int, signed: _SignedData, xml: bytes,
                       claimed_time: str | None, trust, at: datetime) -> None:
    fmt = OfdCheck.SIG_PLAIN_FORMAT.at(number)
    signers = list(signed["signer_infos"])
    if len(signers) != 1:
        report.add(fmt, False, f"应有且仅有一个签名者，实有 {len(signers)} 个 / exactly one signer "
                   f"expected, found {len(signers)}", failure="FORMAT_FAILURE")
        return
    info = signers[0]
    digest_oid = info["digest_algorithm"]["algorithm"].dotted
    sig_oid = info["signature_algorithm"]["algorithm"].dotted
    digest_spec = registry.find_by_digest_oid(digest_oid)
    digest = digest_spec.digest if digest_spec is not None else None
    certs = [c.chosen for c in (signed["certificates"] or []) if c.name == "certificate"]
    cert = _signer_cert(info["sid"], certs)
    if digest is None or registry.find_by_cms_signature_oid(sig_oid) is None:
        report.add(fmt, False, f"不支持的算法 / unsupported algorithms ({digest_oid}, {sig_oid})",
                   failure="CRYPTO_CONSTRAINTS_FAILURE_NO_POE", indeterminate=True)
        return
    if cert is None:
        report.add(fmt, False, "SignedData 中没有签名者证书 / the signer's certificate is not in the "
                   "SignedData", failure="NO_CERTIFICATE_CHAIN_FOUND", indeterminate=True)
        return
    content_type = signed["content_info"]["content_type"].dotted
    report.add(fmt, True, "数字签名（GB/T 35275 SignedData，非电子签章）/ plain digital signature "
               f"(GB/T 35275 SignedData, not a seal){'' if content_type == GM_DATA else ', ' + content_type}")
    report.signer = report.signer or cert_summary(cert)
    message = _signed_message(report, number, signed, info, digest, xml)
    if message is None:
        return
    _verify_value(report, OfdCheck.SIG_PLAIN_VALUE.at(number), cert, sig_oid,
                  info["signature"].native, message)
    certpath.validate_path(cert, trust_roots=trust.signer_roots,
                           intermediates=list(trust.intermediates) + certs, at=at,
                           crls=trust.crls, key_usage=SIGNING_KEY_USAGE) \
        .add_to(report, OfdCheck.SIG_PLAIN_SIGNER_CERTIFICATE.at(number))
    signing_time = _attribute(info, "signing_time")
    signing_time = signing_time if isinstance(signing_time, datetime) else None
    _check_time(report, number, cert, signing_time or parse_time(claimed_time), at,
                "签名时间属性" if signing_time else "Signature.xml 中的签名时间")


def _signed_message(report: Report, number: int, signed: _SignedData, info, digest,
                    xml: bytes) -> bytes | None:
    """The bytes the key signed, once the content they commit to is shown to be Signature.xml;
    None after recording why not."""
    name = OfdCheck.SIG_PLAIN_CONTENT.at(number)
    expected = digest(xml)
    content = signed["content_info"]["content"].native
    if content is not None and not _binds(report, content, xml, expected):
        report.add(name, False, "签名值中的内容与 Signature.xml 不符，签名描述文件已被改动 / the "
                   "signed content does not match Signature.xml: it was changed",
                   failure="HASH_FAILURE")
        return None
    attrs = info["signed_attrs"]
    if not attrs:
        if content is None:
            report.add(name, True, "签名直接覆盖 Signature.xml / the signature covers Signature.xml")
            return xml
        report.add(name, True, "签名内容为 Signature.xml 的摘要 / the signed content is the hash "
                   "of Signature.xml")
        return content
    md = _attribute(info, "message_digest")
    if not isinstance(md, bytes):
        report.add(name, False, "签名属性中缺少 messageDigest / no messageDigest attribute",
                   failure="FORMAT_FAILURE")
        return None
    value = md
    if value != expected and (content is None or value != digest(content)):
        report.add(name, False, "messageDigest 与 Signature.xml 不符，签名描述文件已被改动 / "
                   "messageDigest does not match Signature.xml: it was changed",
                   failure="HASH_FAILURE")
        return None
    report.add(name, True, "签名属性中的摘要与 Signature.xml 一致 / the signed attributes commit "
               "to Signature.xml")
    return b"\x31" + attrs.dump()[1:]  # RFC 5652 §5.4: signed as a SET OF, not [0] IMPLICIT


def _binds(report: Report, content: bytes, xml: bytes, expected: bytes) -> bool:
    if content in (expected, xml):
        return True
    try:
        decoded = base64.b64decode(content, validate=True)
    except (binascii.Error, ValueError):
        return False
    if decoded == expected:
        report.notes.append("签名内容是 Base64 编码的摘要（非规范格式）/ the signed content is the "
                            "hash in Base64 (a non-standard form ofdrw accepts)")
        return True
    return False


def _signer_cert(sid, certs: list[x509.Certificate]) -> x509.Certificate | None:
    for cert in certs:
        if sid.name == "issuer_and_serial_number":
            if (sid.chosen["issuer"] == cert.issuer
                    and sid.chosen["serial_number"].native == cert.serial_number):
                return cert
        elif cert.key_identifier is not None and sid.chosen.native == cert.key_identifier:
            return cert
    return None


def _attribute(info, name: str):
    """The single value of signed attribute `name` (asn1crypto's name), else None."""
    values = [a["values"] for a in info["signed_attrs"] or [] if a["type"].native == name]
    if len(values) != 1 or len(values[0]) != 1:
        return None
    return values[0][0].native


def _verify_value(report: Report, name: str, cert: x509.Certificate, sig_oid: str,
                  signature: bytes, message: bytes) -> bool:
    try:
        key = alg.load_public_key(cert.public_key)
    except SigningError as exc:
        return report.add(name, False, f"签名者公钥无法使用 / unusable signer key "
                          f"({exc.message_en})", failure="FORMAT_FAILURE")
    spec = registry.find_by_cms_signature_oid(sig_oid)
    if spec is None or spec.name != key.algorithm:
        return report.add(name, False, f"签名算法 {sig_oid} 与 {key.algorithm} 密钥不符 / "
                          f"algorithm {sig_oid} does not match the {key.algorithm} key",
                          failure="SIG_CRYPTO_FAILURE")
    try:
        key.verify(signature, message)
    except alg.InvalidSignature:
        return report.add(name, False, "签名值无效 / the signature does not verify",
                          failure="SIG_CRYPTO_FAILURE")
    return report.add(name, True, "签名值有效 / the signature verifies")


def _check_bare(report: Report, number: int, signature: bytes, xml: bytes,
                claimed_time: str | None, trust, at: datetime, known_signers: Iterable) -> None:
    candidates = []
    for item in known_signers:
        try:
            candidates.append(item if isinstance(item, x509.Certificate)
                              else certificate_from_der(bytes(item)))
        except Exception:  # noqa: BLE001 - a caller's unreadable certificate just matches nothing
            continue
    for cert in candidates:
        try:
            key = alg.load_public_key(cert.public_key)
            if key.algorithm != oids.ALG_SM2:  # GB/T 35275 bare signatures are SM2 by definition
                continue
            key.verify(signature, xml)
        except (alg.InvalidSignature, SigningError):
            continue
        report.signer = report.signer or cert_summary(cert)
        report.add(OfdCheck.SIG_PLAIN_VALUE.at(number), True, "签名值可用已知证书验证 / the signature verifies with "
                   f"a known certificate ({cert.subject.human_friendly})")
        certpath.validate_path(cert, trust_roots=trust.signer_roots,
                               intermediates=trust.intermediates, at=at, crls=trust.crls,
                               key_usage=SIGNING_KEY_USAGE) \
            .add_to(report, OfdCheck.SIG_PLAIN_SIGNER_CERTIFICATE.at(number))
        _check_time(report, number, cert, parse_time(claimed_time), at,
                    "Signature.xml 中的签名时间")
        return
    report.add(OfdCheck.SIG_PLAIN_VALUE.at(number), False, "签名值不含证书，无法确定签名者 / the signature value carries "
               "no certificate, so the signer cannot be identified" +
               (f"（{len(candidates)} 个已知证书均不匹配 / none of {len(candidates)} known "
                "certificates matches）" if candidates else ""),
               failure="NO_CERTIFICATE_CHAIN_FOUND", indeterminate=True)


def _check_time(report: Report, number: int, cert: x509.Certificate, t: datetime | None,
                at: datetime, source_zh: str) -> None:
    name = OfdCheck.SIG_PLAIN_TIME.at(number)
    if t is None:
        report.add(name, False, "无法读取签名时间 / the signing time cannot be read",
                   failure="GENERIC", indeterminate=True)
        return
    stamp = f"{t.astimezone(timezone.utc):%Y-%m-%d %H:%M:%S}Z"
    if t > at:
        report.add(name, False, f"签名时间 {stamp} 晚于验证时间 / signed after the verification "
                   "time", failure="NOT_YET_VALID")
    elif t < cert.not_valid_before:
        report.add(name, False, f"签名时间 {stamp} 时证书尚未生效 / the certificate was not yet "
                   "valid when signing", failure="NOT_YET_VALID")
    elif t > cert.not_valid_after:
        report.add(name, False, f"签名时间 {stamp} 时证书已过期 / the certificate had expired "
                   "when signing", failure="EXPIRED")
    else:
        report.add(name, True, f"{source_zh} {stamp}（签名者自述）/ signed at {stamp} (the "
                   "signer's claim)")


def parse_time(text: str | None) -> datetime | None:
    """SignatureDateTime as producers write it: "20201010151120", "2026-08-04 10:08:09",
    "20201004072855.302Z", ISO 8601; no zone means China Standard Time."""
    match = _TIME.match(text.strip()) if text else None
    if match is None:
        return None
    *fields, zone = match.groups()
    try:
        t = datetime(*(int(f) for f in fields))
    except ValueError:
        return None
    if zone is None:
        return t.replace(tzinfo=CHINA)
    if zone == "Z":
        return t.replace(tzinfo=timezone.utc)
    sign = 1 if zone[0] == "+" else -1
    hours, minutes = int(zone[1:3]), int(zone[-2:])
    return t.replace(tzinfo=timezone(sign * timedelta(hours=hours, minutes=minutes)))

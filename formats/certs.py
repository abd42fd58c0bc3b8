"""Reading certificates and CRLs from bytes (PEM or DER) into asn1crypto objects.

Why one copy, below both sides: the key store and the CLI read certificates from files, and the
verifiers read the ones that travel inside seals and signatures; a certificate that one accepts
and the other refuses makes a document that its producer can sign and nobody can check.

Parsing is eager: asn1crypto parses lazily, so a truncated or mutated certificate would
otherwise blow up later, far from the input.  Everything malformed becomes one
CertificateFormatError with a Chinese and English message.

Lenient where it is harmless (issue 15, docs/verification.md "Leniency notes"): certificates
from other CAs carry fields asn1crypto is stricter about than OpenSSL — a QcStatements
extension not quite as ETSI EN 319 412-5 says, an emailAddress that is a UTF8String rather than
an IA5String, an x500UniqueIdentifier written as a string.  A non-critical extension that no
check reads may stay unparsed, and those two name attributes are read in any string type
(`LenientEmailAddress`, `LenientUniqueIdentifier`, installed by formats.libraries);
`leniencies()` says which of these a certificate needed, for the report's notes.  Everything a
check reads — names, key, validity, signature, the extensions path validation uses, any
critical extension — must still parse.
"""

from __future__ import annotations

import functools
from typing import Any

from asn1crypto import core, crl, pem, x509

from formats.errors import FormatError


class LenientEmailAddress(core.Choice):
    """PKCS #9 emailAddress: IA5String by the standard (RFC 5280 §4.1.2.6); other string
    types as some CAs write it."""

    _alternatives = [("ia5_string", x509.EmailAddress), ("utf8_string", core.UTF8String),
                     ("printable_string", core.PrintableString),
                     ("teletex_string", core.TeletexString), ("bmp_string", core.BMPString),
                     ("universal_string", core.UniversalString)]


class LenientUniqueIdentifier(core.Choice):
    """x500UniqueIdentifier: a BIT STRING by X.520; some CAs put a registration number in it
    as a string (UTF8String from `openssl req -utf8`)."""

    _alternatives = [("bit_string", core.OctetBitString), ("utf8_string", core.UTF8String),
                     ("printable_string", core.PrintableString), ("ia5_string", core.IA5String),
                     ("teletex_string", core.TeletexString), ("bmp_string", core.BMPString)]


# Name attributes read leniently, with the alternative the standard prescribes.
LENIENT_NAME_SPECS = {"email_address": (LenientEmailAddress, "ia5_string"),
                      "unique_identifier": (LenientUniqueIdentifier, "bit_string")}
# Extensions pyhanko-certvalidator or pyHanko's signature checks read: one that does not parse
# makes the certificate malformed, as does any critical extension.
READ_EXTENSIONS = frozenset({
    "basic_constraints", "key_usage", "extended_key_usage", "name_constraints",
    "certificate_policies", "policy_mappings", "policy_constraints", "inhibit_any_policy",
    "authority_key_identifier", "key_identifier", "subject_alt_name", "issuer_alt_name",
    "crl_distribution_points", "freshest_crl", "authority_information_access", "ocsp_no_check",
})


class CertificateFormatError(FormatError):
    code = "certificate-format"


def _der_items(data: bytes, kinds: tuple[str, ...]) -> list[bytes]:
    data = bytes(data)
    if not pem.detect(data):
        return [data]
    try:
        items = [(kind, der) for kind, _h, der in pem.unarmor(data, multiple=True)]
    except ValueError as exc:
        raise CertificateFormatError(f"malformed PEM: {exc}", "PEM 格式错误") from None
    wrong = [kind for kind, _ in items if kind not in kinds]
    if wrong or not items:
        raise CertificateFormatError(f"expected PEM {kinds[0]}, found {wrong or 'nothing'}",
                                     f"PEM 类型应为 {kinds[0]}")
    return [der for _, der in items]


def _parse(cls, der: bytes, what_en: str, what_zh: str):
    try:
        obj = cls.load(der, strict=True)
        if cls is x509.Certificate:
            parse_certificate(obj)
        else:
            obj.native  # force the lazy parser over every field
        return obj
    except Exception as exc:  # asn1crypto raises ValueError, TypeError, KeyError, OverflowError…
        raise CertificateFormatError(
            f"cannot parse {what_en}: {exc.__class__.__name__}: {str(exc)[:200]}",
            f"无法解析{what_zh}（格式错误或已截断）") from None


def certificate_from_der(der: bytes) -> x509.Certificate:
    """One DER certificate, never PEM (for certificates carried inside other structures, whose
    bytes may by chance contain a PEM header)."""
    return _parse(x509.Certificate, der, "certificate", "证书")


def load_certificate(data: bytes) -> x509.Certificate:
    """One certificate from PEM or DER bytes."""
    items = _der_items(data, ("CERTIFICATE",))
    if len(items) != 1:
        raise CertificateFormatError("expected exactly one certificate", "应当只有一张证书")
    return certificate_from_der(items[0])


def load_certificates(data: bytes) -> list[x509.Certificate]:
    """All certificates of a PEM bundle (or one DER certificate)."""
    return [certificate_from_der(der) for der in _der_items(data, ("CERTIFICATE",))]


def load_crl(data: bytes) -> crl.CertificateList:
    """One CRL from PEM or DER bytes."""
    items = _der_items(data, ("X509 CRL",))
    if len(items) != 1:
        raise CertificateFormatError("expected exactly one CRL", "应当只有一个 CRL")
    return _parse(crl.CertificateList, items[0], "CRL", "证书撤销列表")


def parse_certificate(cert: x509.Certificate) -> list[tuple[str, str]]:
    """Parse every field of `cert` a check may read, raising as asn1crypto does when one is
    malformed; returns (中文, English) notes for the harmless fields that do not parse."""
    # The names as every report prints them: `.native` can pass over an RDN whose SET tag
    # was changed to SEQUENCE, which `human_friendly` (each RDN parsed) then meets.
    cert.subject.human_friendly  # noqa: B018
    cert.issuer.human_friendly  # noqa: B018
    try:
        cert.native  # noqa: B018  (the usual case: everything parses)
        return []
    except Exception:
        pass
    tbs = cert["tbs_certificate"]
    for name in ("version", "serial_number", "signature", "issuer", "validity", "subject",
                 "subject_public_key_info", "issuer_unique_id", "subject_unique_id"):
        tbs[name].native  # noqa: B018
    cert["signature_algorithm"].native  # noqa: B018
    cert["signature_value"].native  # noqa: B018
    notes = []
    for ext in tbs["extensions"] or ():
        try:
            ext.native  # noqa: B018
        except Exception as exc:
            name = ext["extn_id"].native
            if ext["critical"].native or name in READ_EXTENSIONS:
                raise
            notes.append((f"扩展 {name} 无法解析，未使用", f"extension {name} does not parse "
                          f"({type(exc).__name__}); not used"))
    return notes


def leniencies(cert: x509.Certificate) -> list[str]:
    """What reading `cert` needed leniency for, as "中文 / English" notes (the certificate is
    named by its subject): unparsed harmless extensions, name attributes in a string type the
    standard does not allow.  Raises CertificateFormatError for a malformed certificate."""
    return list(_leniencies(cert.dump()))


@functools.lru_cache(maxsize=1024)
def _leniencies(der: bytes) -> tuple[str, ...]:
    cert = x509.Certificate.load(der)
    try:
        notes = parse_certificate(cert)
    except Exception as exc:
        raise CertificateFormatError(f"cannot parse certificate: {type(exc).__name__}: "
                                     f"{str(exc)[:200]}", "无法解析证书（格式错误）") from None
    for side in ("subject", "issuer"):
        for rdn in cert["tbs_certificate"][side].chosen:
            for atv in rdn:
                spec = LENIENT_NAME_SPECS.get(atv["type"].native)
                value: Any = atv["value"]
                chosen = getattr(value, "name", None)
                if spec is not None and isinstance(value, spec[0]) and chosen != spec[1]:
                    notes.append((f"{_SIDE_ZH[side]}的 {atv['type'].native} 为 {chosen}（标准要求 "
                                  f"{spec[1]}）", f"{side} {atv['type'].native} is a {chosen} "
                                  f"(the standard says {spec[1]})"))
    who = _common_name(cert)
    return tuple(f"证书「{who}」：{zh} / certificate \"{who}\": {en}" for zh, en in notes)


_SIDE_ZH = {"subject": "主体名称", "issuer": "颁发者名称"}


def _common_name(cert: x509.Certificate) -> str:
    cn = cert.subject.native.get("common_name")
    return str(cn if isinstance(cn, str) else cert.subject.human_friendly)[:80]

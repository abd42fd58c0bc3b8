"""Reading certificates and CRLs (PEM or DER) and summarising them for people.

Parsing is eager: asn1crypto parses lazily, so a truncated or mutated certificate would otherwise
blow up later, far from the input.  Everything malformed becomes one CertificateFormatError with
a Chinese and English message.
"""

from __future__ import annotations

from typing import Any

from asn1crypto import crl, pem, x509

from formats import algorithms as alg
from formats.errors import FormatError


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
        obj.native  # force the lazy parser over every field
        return obj
    except Exception as exc:  # asn1crypto raises ValueError, TypeError, KeyError, OverflowError…
        raise CertificateFormatError(
            f"cannot parse {what_en}: {exc.__class__.__name__}: {str(exc)[:200]}",
            f"无法解析{what_zh}（格式错误或已截断）") from None


def load_certificate(data: bytes) -> x509.Certificate:
    """One certificate from PEM or DER bytes."""
    items = _der_items(data, ("CERTIFICATE",))
    if len(items) != 1:
        raise CertificateFormatError("expected exactly one certificate", "应当只有一张证书")
    return _parse(x509.Certificate, items[0], "certificate", "证书")


def load_certificates(data: bytes) -> list[x509.Certificate]:
    """All certificates of a PEM bundle (or one DER certificate)."""
    return [_parse(x509.Certificate, der, "certificate", "证书")
            for der in _der_items(data, ("CERTIFICATE",))]


def load_crl(data: bytes) -> crl.CertificateList:
    items = _der_items(data, ("X509 CRL",))
    if len(items) != 1:
        raise CertificateFormatError("expected exactly one CRL", "应当只有一个 CRL")
    return _parse(crl.CertificateList, items[0], "CRL", "证书撤销列表")


def dump_pem(obj) -> bytes:
    kind = "X509 CRL" if isinstance(obj, crl.CertificateList) else "CERTIFICATE"
    return pem.armor(kind, obj.dump())


def fingerprint(cert: x509.Certificate) -> str:
    """SHA-256 over the DER, lower-case hex."""
    return alg.sha256(cert.dump()).hex()


def key_algorithm(cert: x509.Certificate) -> str:
    """The registered algorithm of the certificate's key ("sm2", "rsa", …), or the
    asn1crypto name of anything else."""
    spec = alg.registry.find_by_spki(cert.public_key)
    return spec.name if spec is not None else cert.public_key["algorithm"]["algorithm"].native


def _attr(name: x509.Name, attr: str) -> str | None:
    value = name.native.get(attr)
    if isinstance(value, list):
        value = value[-1]
    return value


def certificate_summary(cert: x509.Certificate) -> dict[str, Any]:
    """What a clerk or an operator wants to see: who, by whom, when, for what, which key."""
    tbs = cert["tbs_certificate"]
    validity = tbs["validity"]
    return {
        "subject": cert.subject.human_friendly,
        "issuer": cert.issuer.human_friendly,
        "org_name": _attr(cert.subject, "organization_name"),
        "org_code": _attr(cert.subject, "organization_identifier"),
        "common_name": _attr(cert.subject, "common_name"),
        "serial": format(cert.serial_number, "x"),
        "not_before": validity["not_before"].native.isoformat(),
        "not_after": validity["not_after"].native.isoformat(),
        "key_algorithm": key_algorithm(cert),
        "signature_algorithm": cert["signature_algorithm"]["algorithm"].dotted,
        "ca": bool(cert.ca),
        "path_length": cert.max_path_length if cert.ca else None,
        "key_usage": sorted(cert.key_usage_value.native) if cert.key_usage_value else [],
        "extended_key_usage": list(cert.extended_key_usage_value.native)
        if cert.extended_key_usage_value else [],
        "self_signed": cert.self_signed != "no",
        "sha256": fingerprint(cert),
    }

"""Reading certificates and CRLs from bytes (PEM or DER) into asn1crypto objects.

Why one copy, below both sides: the key store and the CLI read certificates from files, and the
verifiers read the ones that travel inside seals and signatures; a certificate that one accepts
and the other refuses makes a document that its producer can sign and nobody can check.

Parsing is eager: asn1crypto parses lazily, so a truncated or mutated certificate would
otherwise blow up later, far from the input.  Everything malformed becomes one
CertificateFormatError with a Chinese and English message.
"""

from __future__ import annotations

from asn1crypto import crl, pem, x509

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

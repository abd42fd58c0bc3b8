"""Certificates as people and files see them: the summary an operator or a clerk reads, and
the PEM text the development PKI writes and the PKI page serves.

Producing-side only: reading certificates back from bytes is `formats.certs`, shared with the
verifiers.
"""

from __future__ import annotations

from typing import Any

from asn1crypto import crl, pem, x509

from formats import algorithms as alg


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

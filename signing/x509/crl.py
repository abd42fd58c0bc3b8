"""Certificate revocation lists (RFC 5280 §5) for the development CAs.

The CRL is signed exactly like a certificate (SM2-with-SM3 or sha256WithRSA over DER of the
TBSCertList) so the same validator code checks both.
"""

from __future__ import annotations

from datetime import datetime
from typing import Iterable

from asn1crypto import crl, x509

from formats.errors import SigningError
from signing.x509.builder import key_identifier, make_time, sign_der, signature_algorithm

REASONS = ("unspecified", "key_compromise", "ca_compromise", "affiliation_changed", "superseded",
           "cessation_of_operation", "certificate_hold", "privilege_withdrawn", "aa_compromise")


def build_crl(issuer_cert: x509.Certificate, issuer_key,
              revoked: Iterable[tuple[int, datetime, str]] = (),
              this_update: datetime | None = None, next_update: datetime | None = None, *,
              crl_number: int = 1) -> crl.CertificateList:
    """A complete v2 CRL.  `revoked` holds (serial, revocation time, reason name from REASONS)."""
    if this_update is None or next_update is None:
        raise SigningError("thisUpdate and nextUpdate are required", "必须给出本次和下次更新时间")
    if issuer_key.public_key.spki_der() != issuer_cert.public_key.dump():
        raise SigningError("CRL signing key does not match the issuer certificate",
                           "CRL 签名私钥与签发者证书不匹配")
    if next_update <= this_update:
        raise SigningError("nextUpdate must be after thisUpdate", "下次更新时间必须晚于本次更新时间")
    entries = []
    for serial, when, reason in revoked:
        if reason not in REASONS:
            raise SigningError(f"unknown revocation reason {reason!r}", f"未知的撤销原因 {reason!r}")
        entries.append({
            "user_certificate": serial,
            "revocation_date": make_time(when),
            "crl_entry_extensions": [{"extn_id": "crl_reason", "critical": False,
                                      "extn_value": reason}],
        })
    sig_alg = signature_algorithm(issuer_key)
    tbs = crl.TbsCertList({
        "version": "v2",
        "signature": sig_alg,
        "issuer": issuer_cert.subject,
        "this_update": make_time(this_update),
        "next_update": make_time(next_update),
        "revoked_certificates": entries or None,
        "crl_extensions": [
            {"extn_id": "authority_key_identifier", "critical": False,
             "extn_value": {"key_identifier": key_identifier(issuer_cert.public_key)}},
            {"extn_id": "crl_number", "critical": False, "extn_value": crl_number},
        ],
    })
    return crl.CertificateList({"tbs_cert_list": tbs, "signature_algorithm": sig_alg,
                                "signature": sign_der(issuer_key, tbs.dump())})

"""X.509 v3 certificate assembly and signing.

Certificates are built as asn1crypto structures and signed through the algorithm layer, because
pyca/cryptography cannot handle SM2 keys.  Extensions follow RFC 5280 profiles: basicConstraints
and keyUsage critical, SKI/AKI from SHA-256 of the key (RFC 7093 method 1), extendedKeyUsage
critical when the caller says so (RFC 3161 requires it for TSA certificates).
"""

from __future__ import annotations

import secrets
from datetime import datetime, timezone
from typing import Iterable

from asn1crypto import algos, core, keys, x509

from formats import algorithms as alg
from formats.errors import SigningError



def random_serial() -> int:
    """A positive 120-bit serial: unpredictable (CA/B BR asks >= 64 bits) and <= 20 octets."""
    return secrets.randbits(119) | (1 << 119)


def key_identifier(public_key_info: keys.PublicKeyInfo) -> bytes:
    """RFC 7093 §2 method 1: leftmost 160 bits of SHA-256 of the subjectPublicKey BIT STRING."""
    return alg.sha256(bytes(public_key_info["public_key"].contents[1:]))[:20]


def signature_algorithm(key) -> algos.SignedDigestAlgorithm:
    """The key's signatureAlgorithm, with NULL parameters where its standard asks for them
    (sha256WithRSA, RFC 4055) and none where it forbids them (SM2-with-SM3, GM/T 0015)."""
    spec = alg.registry.of_key(key)
    if spec.signature_params_null:
        return algos.SignedDigestAlgorithm({"algorithm": spec.signature_oid,
                                            "parameters": core.Null()})
    return algos.SignedDigestAlgorithm({"algorithm": spec.signature_oid})


def sign_der(key, tbs_der: bytes) -> bytes:
    """SM2: DER SEQ{r,s} over SM3(Z || tbs) with the default ID; RSA: PKCS#1 v1.5 SHA-256."""
    return key.sign(tbs_der)


def make_time(dt: datetime) -> x509.Time:
    """UTCTime until 2049, GeneralizedTime after (RFC 5280 §4.1.2.5)."""
    if dt.tzinfo is None:
        raise SigningError("certificate times must be timezone-aware", "证书时间必须带时区")
    dt = dt.astimezone(timezone.utc).replace(microsecond=0)
    return x509.Time(name="utc_time" if dt.year < 2050 else "general_time", value=dt)


def _spki(subject_public_key) -> keys.PublicKeyInfo:
    if isinstance(subject_public_key, keys.PublicKeyInfo):
        return subject_public_key
    if isinstance(subject_public_key, (bytes, bytearray)):
        return keys.PublicKeyInfo.load(bytes(subject_public_key))
    return keys.PublicKeyInfo.load(subject_public_key.spki_der())


def _ext(name: str, value, critical: bool = False) -> x509.Extension:
    return x509.Extension({"extn_id": name, "critical": critical, "extn_value": value})


def build_certificate(*, subject: x509.Name, subject_public_key, issuer_key,
                      issuer_cert: x509.Certificate | None = None,
                      not_before: datetime, not_after: datetime, serial: int | None = None,
                      ca: bool = False, path_length: int | None = None,
                      key_usage: Iterable[str] = (), extended_key_usage: Iterable[str] | None = None,
                      eku_critical: bool = False, crl_urls: Iterable[str] = (),
                      check_issuer_key: bool = True) -> x509.Certificate:
    """One signed certificate.  Without `issuer_cert` it is self-signed (issuer = subject).

    `subject_public_key`: an algorithm-layer public key, SPKI DER, or asn1crypto PublicKeyInfo.
    `key_usage`: asn1crypto names, e.g. {"digital_signature", "non_repudiation"}; CAs get
    key_cert_sign + crl_sign added.  `extended_key_usage`: names or dotted OIDs.
    `check_issuer_key=False` lets tests mint a certificate signed by the wrong key.
    """
    if not_after <= not_before:
        raise SigningError("notAfter must be later than notBefore", "证书失效时间必须晚于生效时间")
    spki = _spki(subject_public_key)
    ski = key_identifier(spki)
    if issuer_cert is None:
        issuer_name, aki = subject, ski
        if check_issuer_key and issuer_key.public_key.spki_der() != spki.dump():
            raise SigningError("a self-signed certificate must be signed by its own key",
                               "自签名证书必须用自身私钥签名")
    else:
        issuer_name = issuer_cert.subject
        issuer_spki = issuer_cert.public_key
        aki = key_identifier(issuer_spki)
        if check_issuer_key and issuer_key.public_key.spki_der() != issuer_spki.dump():
            raise SigningError("issuer key does not match the issuer certificate",
                               "签发者私钥与签发者证书不匹配")
        if not issuer_cert.ca:
            raise SigningError("the issuer certificate is not a CA", "签发者证书不是 CA 证书")

    usage = set(key_usage)
    if ca:
        usage |= {"key_cert_sign", "crl_sign"}
    extensions = [
        _ext("basic_constraints", {"ca": ca, "path_len_constraint": path_length if ca else None},
             critical=True),
        _ext("key_identifier", ski),
        _ext("authority_key_identifier", {"key_identifier": aki}),
    ]
    if usage:
        extensions.append(_ext("key_usage", x509.KeyUsage(usage), critical=True))
    if extended_key_usage:
        extensions.append(_ext("extended_key_usage", list(extended_key_usage), critical=eku_critical))
    urls = list(crl_urls)
    if urls:
        extensions.append(_ext("crl_distribution_points", [
            {"distribution_point": x509.DistributionPointName(
                name="full_name", value=[x509.GeneralName(name="uniform_resource_identifier",
                                                          value=u)])}
            for u in urls]))

    sig_alg = signature_algorithm(issuer_key)
    tbs = x509.TbsCertificate({
        "version": "v3",
        "serial_number": serial if serial is not None else random_serial(),
        "signature": sig_alg,
        "issuer": issuer_name,
        "validity": {"not_before": make_time(not_before), "not_after": make_time(not_after)},
        "subject": subject,
        "subject_public_key_info": spki,
        "extensions": extensions,
    })
    signature = sign_der(issuer_key, tbs.dump())
    return x509.Certificate({"tbs_certificate": tbs, "signature_algorithm": sig_alg,
                             "signature_value": signature})

"""PKCS#10 certificate requests for production keys: the region's CA, not this service, signs
a node's certificates, so the key ceremony (docs/operations.md "Production keys") starts here.

Each key-store role asks for the key usage and extended key usage that the code using it
checks — a TSA certificate without a critical timeStamping EKU is refused by RFC 3161
verifiers, a node certificate needs client and server auth for the node-to-node requests — so
the CA's operator sees in the request what to put in the certificate.  Built with asn1crypto
and signed through the algorithm layer, because pyca/cryptography cannot sign with SM2.
"""

from __future__ import annotations

from dataclasses import dataclass

from asn1crypto import csr, keys, x509

from formats.errors import SigningError
from signing.x509.builder import key_identifier, signature_algorithm


@dataclass(frozen=True)
class RoleProfile:
    key_usage: tuple[str, ...]
    extended_key_usage: tuple[str, ...] = ()
    eku_critical: bool = False


_SIGNER = RoleProfile(("digital_signature", "non_repudiation"))
ROLE_PROFILES: dict[str, RoleProfile] = {
    "licence_signer": _SIGNER,
    "seal_maker": _SIGNER,
    "tsa": RoleProfile(("digital_signature", "non_repudiation"), ("time_stamping",), True),
    "node": RoleProfile(("digital_signature",), ("client_auth", "server_auth")),
    "status_signer": _SIGNER,
    "audit_log": _SIGNER,
    "witness": _SIGNER,
    "trust_list": _SIGNER,
}


def profile(role: str) -> RoleProfile:
    try:
        return ROLE_PROFILES[role]
    except KeyError:
        raise SigningError(f"unknown key role {role!r}; one of {', '.join(ROLE_PROFILES)}",
                           f"未知的密钥用途 {role!r}，可选：{'、'.join(ROLE_PROFILES)}") from None


def build_csr(key, subject: x509.Name, role: str) -> csr.CertificationRequest:
    """A signed request for `role`, carrying the role's extensions as an extensionRequest."""
    p = profile(role)
    spki = keys.PublicKeyInfo.load(key.public_key.spki_der())
    extensions = [
        {"extn_id": "basic_constraints", "critical": True, "extn_value": {"ca": False}},
        {"extn_id": "key_usage", "critical": True, "extn_value": x509.KeyUsage(set(p.key_usage))},
        {"extn_id": "key_identifier", "critical": False, "extn_value": key_identifier(spki)},
    ]
    if p.extended_key_usage:
        extensions.append({"extn_id": "extended_key_usage", "critical": p.eku_critical,
                           "extn_value": list(p.extended_key_usage)})
    info = csr.CertificationRequestInfo({
        "version": "v1",
        "subject": subject,
        "subject_pk_info": spki,
        "attributes": [{"type": "extension_request", "values": [extensions]}],
    })
    return csr.CertificationRequest({
        "certification_request_info": info,
        "signature_algorithm": signature_algorithm(key),
        "signature": key.sign(info.dump()),
    })

"""X.509 v3 certificates and CRLs for the SM2 and RSA PKIs, built with asn1crypto.

pyca/cryptography cannot sign with (or even load) SM2 keys, so certificates are assembled as
ASN.1 here and signed through `formats.algorithms`: SM2-with-SM3 over DER(TBSCertificate) with
the default user ID, or sha256WithRSAEncryption (PKCS#1 v1.5).
"""

from signing.x509.builder import build_certificate, key_identifier, random_serial
from signing.x509.crl import build_crl
from signing.x509.summary import certificate_summary, dump_pem, fingerprint
from signing.x509.names import build_name, uscc, uscc_check_char, is_valid_uscc

__all__ = [
    "build_certificate", "build_crl", "build_name", "key_identifier", "random_serial",
    "certificate_summary", "dump_pem", "fingerprint", "uscc", "uscc_check_char", "is_valid_uscc",
]

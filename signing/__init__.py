"""Producing side of license-svc: keys, SM2/SM3 and RSA, certificates, seals, PDFs, QR codes.

No web and no database here; `license_svc` drives these functions.  Importing the package
registers the Chinese OIDs with asn1crypto once (see `signing.oids`).
"""

from signing import oids as _oids  # noqa: F401  (registers SM2/SM3 OIDs on import)

"""Producing side of license-svc: keys, SM2/SM3 and RSA, certificates, seals, PDFs, QR codes.

No web and no database here; `license_svc` drives these functions.  Importing the package
registers the Chinese OIDs with asn1crypto once (see `formats.oids`).
"""

import warnings as _warnings

# pyHanko 0.38 imports `DSAPrivateKey` for its isinstance checks, and cryptography 51 warns on
# that import.  No DSA key is ever used here, nothing in this project can act on it, and the
# raw warning line would precede every CLI command's output.  Only that warning, only when
# pyHanko triggers it; the service's logging captures any other warning as a JSON record.
_warnings.filterwarnings("ignore", message="DSA is deprecated", module=r"pyhanko\.")

from formats import oids as _oids  # noqa: E402,F401  (registers SM2/SM3 OIDs on import)

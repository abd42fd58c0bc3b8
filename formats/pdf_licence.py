"""The `/LicenseSvc` catalog dictionary: which licence a PDF is (docs/formats.md "/LicenseSvc").

The stamper writes it (two writers: pyHanko's object model and the fast byte writer) and the
verifier reads it; the names and version live here so the three cannot disagree.

`/Code` (optional) is the EL1 text the page prints as its QR code: a verifier whose node does not
hold the licence's record can still say whom and what period the licence is about, once the EL1
verifies under the issuer's own signature (verification.pdf.licence.check_code).
"""

LICENCE_DICT_KEY = "/LicenseSvc"
LICENCE_DICT_VERSION = 1
LICENCE_CODE_KEY = "/Code"

"""The `/LicenseSvc` catalog dictionary: which licence a PDF is (docs/formats.md "/LicenseSvc").

The stamper writes it (two writers: pyHanko's object model and the fast byte writer) and the
verifier reads it; the name and version live here so the three cannot disagree.
"""

LICENCE_DICT_KEY = "/LicenseSvc"
LICENCE_DICT_VERSION = 1

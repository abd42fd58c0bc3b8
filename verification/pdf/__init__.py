"""Verify signed licence PDFs against every attack class of reference/pdf-notes.md.

`verify_pdf(data, trust, at, status_lookup=None) -> Report` never raises; see
`verification.pdf.verify` for the checks and docs/pdf.md for the attacks they defeat.
"""

from verification.pdf import fast_hex as _fast_hex
from verification.pdf import fast_names as _fast_names
from verification.pdf.verify import PdfTrust, async_verify_pdf, verify_pdf

_fast_hex.install()
_fast_names.install()

__all__ = ["PdfTrust", "verify_pdf", "async_verify_pdf"]

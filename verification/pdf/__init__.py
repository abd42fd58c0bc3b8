"""Verify signed licence PDFs against every attack class of reference/pdf-notes.md.

`verify_pdf(data, trust, at, status_lookup=None) -> Report` never raises; see
`verification.pdf.verify` for the checks and docs/pdf.md for the attacks they defeat.
"""

from verification.pdf.verify import PdfTrust, async_verify_pdf, verify_pdf

__all__ = ["PdfTrust", "verify_pdf", "async_verify_pdf"]

"""Consuming side: pure functions of (bytes, trust material, time) -> report.

Imports from `signing` only `formats.oids` and `formats.algorithms` (verify primitives);
see docs/architecture.md for why the primitives layer is shared.

Importing it changes no library.  The entry points that read a whole document
(`verification.dispatch.verify_bytes`/`verify_text`, `verification.pdf.verify_pdf`) call
`formats.libraries.install()` themselves, so a library user gets the SM2/SM3 OIDs a genuine
document needs; anyone calling the finer functions directly calls it once at start-up.
"""

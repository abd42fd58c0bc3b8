"""Hostile-input benchmark: wall time and report size of `verification.dispatch.verify_bytes`
for the outside attack's inputs, rebuilt from genuine documents (tests/security/
test_verification_caps.py builds the same ones), next to the genuine document's time.

    python bench/hostile.py            # about 10 s

Rows: a genuine SM2 licence PDF, then with 62 (the cap), 1,000, 5,000 and 51,000 empty
revisions appended (51,000 fill a 5 MiB request body); the worst case the PDF caps let through
(the signature cap's 16 signatures, each after-signature a real approval signature added by
pyHanko, and the revisions filled up to the cap); 9,950 and 99,000 new objects in one appended
revision (the object cap is 10,000); a genuine sealed OFD, then 100 signature
entries on one Signature.xml of 7,800 references.  docs/security.md "Caps and budget" quotes it.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _signed_again(data: bytes, credential, times: int) -> bytes:
    """`data` with `times` approval signatures added, each in its own field and revision."""
    import io

    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign.fields import SigFieldSpec
    from pyhanko.sign.signers.pdf_signer import PdfSignatureMetadata, PdfSigner

    from signing.pdf import HeldKeySigner

    signer = HeldKeySigner(credential.key, credential.cert, credential.chain)
    for i in range(times):
        meta = PdfSignatureMetadata(field_name=f"Extra{i}", md_algorithm=signer.spec.digest_name)
        pdf_signer = PdfSigner(meta, signer, new_field_spec=SigFieldSpec(f"Extra{i}"))
        pdf_signer._enforce_certification_constraints = lambda reader: None
        out = io.BytesIO()
        pdf_signer.sign_pdf(IncrementalPdfFileWriter(io.BytesIO(data), strict=False), output=out)
        data = out.getvalue()
    return data


def main() -> None:
    from formats import libraries

    libraries.install()
    from tests.security.test_verification_caps import (_many_entries_on_one_signature,
                                                        append_empty_revisions, append_objects)
    from tests.support import ofd, seal
    from tests.support.pdf import AT, genuine, trust
    from verification import dispatch, limits
    from verification.qr import QrTrust

    pdf_trust = dispatch.Trust(qr=QrTrust(), seal=trust("sm2"))
    ofd_trust = dispatch.Trust(qr=QrTrust(), seal=seal.trust())
    base = genuine("sm2")
    rows = [("genuine licence PDF", base, pdf_trust, AT)]
    for n in (limits.MAX_PDF_REVISIONS - 2, 1_000, 5_000, 51_000):
        rows.append((f"PDF + {n:,} empty revisions", append_empty_revisions(base, n), pdf_trust, AT))
    from tests.support.material import hierarchy

    many = _signed_again(base, hierarchy("sm2").signer, limits.MAX_PDF_SIGNATURES - 1)
    revisions = many.count(b"%%EOF")
    rows.append((f"PDF: {limits.MAX_PDF_SIGNATURES} signatures, {limits.MAX_PDF_REVISIONS} revisions",
                 append_empty_revisions(many, limits.MAX_PDF_REVISIONS - revisions), pdf_trust, AT))
    for n in (9_950, 99_000):
        rows.append((f"PDF + {n:,} objects", append_objects(base, n), pdf_trust, AT))
    rows.append(("genuine sealed OFD", ofd.seal_package(), ofd_trust, seal.LATER))
    rows.append(("OFD: 100 entries × 7,800 refs", _many_entries_on_one_signature(100, 7_800),
                 ofd_trust, seal.LATER))
    print(f"{'input':34} {'bytes':>10} {'seconds':>8} {'report B':>9}  verdict")
    for name, data, t, at in rows:
        dispatch.verify_bytes(data, t, at)  # warm caches
        start = time.perf_counter()
        report = dispatch.verify_bytes(data, t, at)
        seconds = time.perf_counter() - start
        print(f"{name:34} {len(data):>10,} {seconds:>8.3f} {len(report.to_json().encode()):>9,}  "
              f"{report.indication} {report.sub_indication or ''}")


if __name__ == "__main__":
    main()

"""电子签章 on a department's PDF: stamps per second per core, by placement, next to the licence
stamper signing the same document through pyHanko's `PdfSigner` (the reference: same key,
seal attribute, picture and TSA, one widget).

    python bench/stamp.py                 # 2 s per measurement
    python bench/stamp.py --seconds 1

The document: tests/support/documents.notice (3 A4 pages, reportlab, CJK font).  Keys: the
DEVELOPMENT PKI in keys_dev/ (sh region), seal made by the sh seal maker.  CPU time, one process.
"""

from __future__ import annotations

import argparse
import logging
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from timing import rate  # noqa: E402  (bench/ is the script's own folder)

logging.disable(logging.CRITICAL)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=2.0)
    args = parser.parse_args()

    from formats import libraries

    libraries.install()  # before pyHanko is imported: it filters the DSA deprecation warning
    from signing.keystore import KeyStore
    from signing.pdf import LicenceStamper
    from signing.pdf.stamp_document import DocumentStamper
    from signing.placement import Placement
    from signing.seal import SEAL_TYPE_ORGANISATION, make_seal, new_seal_id
    from signing.seal.picture import render_round_seal
    from signing.tsa import InProcessTimeStamper, TimeStampAuthority
    from tests.support.documents import KEYWORD, notice

    ks = KeyStore.load(ROOT / "keys_dev")
    doc = notice()
    now = datetime.now(timezone.utc)
    rows = []
    for algorithm in ("sm2", "rsa"):
        cred = ks.credential("sh", "licence_signer", algorithm)
        maker = ks.credential("sh", "seal_maker", "sm2")
        der = make_seal(maker_key=maker.key, maker_cert=maker.cert, es_id=new_seal_id(),
                        name="行政审批专用章", seal_type=SEAL_TYPE_ORGANISATION,
                        picture=render_round_seal("上海市市场监督管理局", "", ""),
                        signer_certs=[cred.cert], valid_start=now - timedelta(days=1),
                        valid_end=now + timedelta(days=365), created=now)
        tsa = ks.credential("sh", "tsa", algorithm)
        ts = InProcessTimeStamper(TimeStampAuthority(tsa.key, tsa.cert, tsa.chain))
        st = DocumentStamper(cred, der, timestamper=ts)
        ref = LicenceStamper(cred, seal=der, timestamper=ts)
        rows.append((algorithm, "licence stamper (PdfSigner), reference",
                     rate(lambda: ref.sign(doc), args.seconds)))
        for label, placement in (("page + x/y", Placement(page=1, x_mm=120, y_mm=200)),
                                 ("keyword", Placement(keyword=KEYWORD)),
                                 ("straddle, 3 pages", Placement(straddle=True))):
            rows.append((algorithm, label, rate(lambda: st.stamp(doc, placement), args.seconds)))
    print(f"{'alg':4} {'what':40} {'stamps/s/core':>14} {'ms':>7}")
    for algorithm, label, r in rows:
        print(f"{algorithm:4} {label:40} {r:14.1f} {1000 / r:7.1f}")


if __name__ == "__main__":
    main()

"""Licence page and QR benchmark: every template rendered from its example, next to a reference.

    python bench/render.py              # 40 renders per template (about 5 s)
    python bench/render.py --n 200      # steadier figures

Reference, measured in the same run: a bare reportlab page with the same fonts and the same
characters (no QR, no layout) — what the renderer was built on before it wrote PDF objects
directly (signing/render/pdfdoc.py).  The ratio says what our layout, QR and security pattern add;
the absolute figures say whether the hot-path target (< 10 ms per page) holds on this machine.
Times are CPU time of this process (a neighbour taking the core does not count against us);
min and median are both printed.
"""

from __future__ import annotations

import argparse
import io
import statistics
import time
from datetime import datetime, timezone

from reportlab.pdfgen import canvas

from license_svc.identifiers import make_identifier
from license_svc.templates import load_templates
from signing.keystore import KeyStore
from signing.qr import el1_for_record, image
from signing.render import fonts, render_licence_pdf
from signing.render.pdf import field_text

NOW = datetime(2026, 1, 15, 2, 0, tzinfo=timezone.utc)


def _cpu(fn, n: int) -> list[float]:
    fn()
    out = []
    for _ in range(n):
        t0 = time.process_time()
        fn()
        out.append(time.process_time() - t0)
    return out


_REF_FONTS = {fonts.CJK: "RefCJK", fonts.LATIN: "RefLatin"}


def _register_reference_fonts() -> None:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    for name, ref in _REF_FONTS.items():
        pdfmetrics.registerFont(TTFont(ref, str(fonts.PATHS[name])))


def _reference(text: str) -> bytes:
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pageCompression=1, initialFontName=_REF_FONTS[fonts.CJK])
    y = 800
    for name, run in fonts.runs(text):
        c.setFont(_REF_FONTS[name], 10)
        c.drawString(40, y, run[:60])
        y -= 14
    c.showPage()
    c.save()
    return buf.getvalue()


def main() -> None:
    from formats import libraries

    libraries.install()  # the OIDs and library patches a program installs first (formats/libraries.py)
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=40)
    args = ap.parse_args()
    ks = KeyStore.load("keys_dev")
    fonts.register()
    _register_reference_fonts()
    print(f"{'template':24} {'min ms':>7} {'median':>7} {'ref ms':>7} {'ratio':>6} {'EL1':>5} {'QR enc':>7}")
    for folder, t in load_templates().items():
        req = t.example
        org = next((o for o in ks.organisations() if o.code == req["issuer_code"]), None)
        region = org.region if org else "sh"
        rec = t.make_record(req, identifier=str(make_identifier(t.type_code, req["issuer_code"])),
                            number=t.licence_number(req, region=region, issued=NOW.date()),
                            issuer_name=org.name if org else "上海市黄浦区民政局", region=region,
                            issued_on=NOW.date())
        cred = ks.credential(region, "licence_signer", "sm2", org_code=org.code if org else None)
        el1 = el1_for_record(rec, t.qr, cred.key, cred.cert.dump(), now=NOW)
        ours = _cpu(lambda: render_licence_pdf(t.layout, rec, el1, data_hash="0" * 64), args.n)
        chars = "".join(x.get("text", "") for x in t.layout.get("texts", [])) + "".join(
            x.get("label", "") + field_text(rec, {**t.layout.get("field_defaults", {}), **x})
            for x in t.layout["fields"])
        ref = _cpu(lambda: _reference(chars), args.n)
        qr = _cpu(lambda: image.modules(el1), args.n)
        print(f"{folder:24} {min(ours) * 1e3:7.1f} {statistics.median(ours) * 1e3:7.1f} "
              f"{statistics.median(ref) * 1e3:7.1f} {statistics.median(ours) / statistics.median(ref):6.2f} "
              f"{len(el1):5d} {statistics.median(qr) * 1e3:7.2f}")


if __name__ == "__main__":
    main()

"""PDF signing and verification benchmark, next to references measured in the same run.

    python bench/pdf.py                 # 3 s per measurement (about 50 s)
    python bench/pdf.py --seconds 1     # quicker, noisier

References (same page, same machine, same moment):
- raw SM2 signatures/s and verifications/s of the algorithm layer (the floor of any SM2 PDF
  signature; a verification does at least two SM2 verifications: signature and timestamp);
- pyHanko's plain `sign_pdf` with `SimpleSigner` (RSA key from PKCS#8 DER, re-loaded by
  pyHanko per signature, dry-run size estimate), the "do nothing special" way to sign PDFs.
Ours: `LicenceStamper` (key, chain, seal attribute and seal picture loaded once, /Contents
sized once) signing the certification signature with the seal picture, SESeal attribute (SM2)
and an in-process RFC 3161 timestamp; and `verify_pdf` with all its checks, over DISTINCT
licences (a new signature and timestamp each time, as a verifier sees them), against the trust
`license_svc.verify_service` builds (all four regions: roots, intermediates, 16 CRLs — so
revocation is hard-fail), and against the sh region's material alone.  "cold" forgets every
remembered path, parse and signature before each verification (verification.certpath.forget):
the first verification of an issuer's licences in a time bucket, and the cost of every
verification before the trust stores existed.
Keys: the DEVELOPMENT PKI in keys_dev/ (sh region).  Per-core figures: CPU time, one process.
Targets (issue "Licence issuance" item 4 / "Verification" item 2): issuance >= 10x SimpleSigner,
>= 100 verifications/s per core.
"""

from __future__ import annotations

import argparse
import io
import itertools
import logging
from datetime import timedelta
from pathlib import Path

from asn1crypto import keys as asn1_keys

ROOT = Path(__file__).resolve().parent.parent
from timing import rate  # noqa: E402  (bench/ is the script's own folder)

logging.disable(logging.CRITICAL)  # pyHanko logs every soft-fail revocation check


def page() -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    c.setFont("Helvetica", 20)
    c.drawString(80, 760, "Business licence (benchmark page)")
    for i in range(12):
        c.drawString(80, 700 - 28 * i, f"Field {i}: value {i * 7919}")
    c.showPage()
    c.save()
    return buf.getvalue()


def main() -> None:
    from formats import libraries

    libraries.install()  # the OIDs and library patches a program installs first (formats/libraries.py)
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--licences", type=int, default=40,
                    help="distinct signed licences per kind that the verification rows cycle "
                         "through")
    args = ap.parse_args()

    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    from signing.keystore import KeyStore
    from signing.pdf import LicenceStamper
    from signing.seal import SEAL_TYPE_ORGANISATION, SealPicture, make_seal, new_seal_id
    from signing.seal.picture import render_round_seal
    from signing.tsa import InProcessTimeStamper, TimeStampAuthority
    from verification import certpath
    from verification.pdf import PdfTrust, verify_pdf

    ks = KeyStore.load(ROOT / "keys_dev")
    pdf = page()
    rows: list[tuple[str, float]] = []

    sm2 = ks.credential("sh", "licence_signer", "sm2")
    rows.append(("reference: raw SM2 sign (algorithm layer)",
                 rate(lambda: sm2.key.sign(b"\x5a" * 300), args.seconds)))
    sm2_sig = sm2.key.sign(b"\x5a" * 300)
    raw_verify = rate(lambda: sm2.key.public_key.verify(sm2_sig, b"\x5a" * 300), args.seconds)
    rows.append(("reference: raw SM2 verify (algorithm layer)", raw_verify))

    rsa = ks.credential("sh", "licence_signer", "rsa")
    simple = signers.SimpleSigner(
        signing_cert=rsa.cert, signing_key=asn1_keys.PrivateKeyInfo.load(rsa.key.pkcs8_der()),
        cert_registry=SimpleCertificateStore.from_certs(rsa.chain))
    meta = signers.PdfSignatureMetadata(field_name="Sig")

    def plain():
        signers.sign_pdf(IncrementalPdfFileWriter(io.BytesIO(pdf)), meta, signer=simple)
    ref = rate(plain, args.seconds)
    rows.append(("reference: pyHanko sign_pdf + SimpleSigner (RSA, no TSA)", ref))

    now = ks.credential("sh", "tsa", "sm2").cert["tbs_certificate"]["validity"]["not_before"].native \
        + timedelta(days=30)

    def tsa(alg):
        c = ks.credential("sh", "tsa", alg)
        return InProcessTimeStamper(TimeStampAuthority(c.key, c.cert, c.chain, clock=lambda: now))

    maker = ks.credential("sh", "seal_maker", "sm2")
    pic = render_round_seal("上海市市场监督管理局", "证照专用章")
    seal = make_seal(maker_key=maker.key, maker_cert=maker.cert, es_id=new_seal_id(),
                     name="证照专用章", seal_type=SEAL_TYPE_ORGANISATION,
                     picture=SealPicture(pic.data, pic.width_mm, pic.height_mm),
                     signer_certs=[sm2.cert], valid_start=now - timedelta(days=10),
                     valid_end=now + timedelta(days=3000), created=now - timedelta(days=10))
    stampers = {
        "SM2 + SESeal + seal picture + SM2 timestamp": LicenceStamper(sm2, seal=seal,
                                                                      timestamper=tsa("sm2")),
        "RSA PAdES B-T + seal picture": LicenceStamper(rsa, seal_png=pic.data,
                                                       timestamper=tsa("rsa")),
        "RSA, no timestamp, no picture (like the reference)": LicenceStamper(rsa, seal_box=None),
    }
    signed = {}
    for name, st in stampers.items():
        signed[name] = st.sign(pdf)
        r = rate(lambda st=st: st.sign(pdf), args.seconds)
        rows.append((f"ours: sign {name}", r))
        rows.append((f"  ratio to SimpleSigner", r / ref))

    regions = ks.regions
    every = PdfTrust(signer_roots=[c for r in regions for c in ks.roots(r)],
                     tsa_roots=[c for r in regions for c in ks.roots(r)],
                     seal_maker_roots=[c for r in regions for c in ks.roots(r)],
                     intermediates=[c for r in regions for c in ks.intermediates(r)],
                     crls=[c for r in regions for c in ks.crls(r)])
    roots = ks.roots("sh")
    sh_only = PdfTrust(signer_roots=roots, tsa_roots=roots, seal_maker_roots=roots,
                       crls=ks.crls("sh"))
    at = now + timedelta(days=1)
    for name, st in stampers.items():
        docs = [signed[name]] + [st.sign(pdf) for _ in range(args.licences - 1)]
        report = verify_pdf(docs[0], every, at)
        cycle = itertools.cycle(docs)

        def cold():
            certpath.forget()
            verify_pdf(next(cycle), every, at)
        for label, trust, fn in (
                ("all regions, cold", every, cold),
                ("all regions", every, lambda: verify_pdf(next(cycle), every, at)),
                ("sh only", sh_only, lambda: verify_pdf(next(cycle), sh_only, at))):
            r = rate(fn, args.seconds)
            rows.append((f"ours: verify_pdf {name} [{report.indication}], {label}", r))
            rows.append(("  ratio to raw SM2 verify", r / raw_verify))

    width = max(len(n) for n, _ in rows)
    print(f"{'measurement':<{width}}  per CPU-second")
    for name, value in rows:
        if "ratio" in name:
            print(f"{name:<{width}}  {value:10.3f}x")
        else:
            print(f"{name:<{width}}  {value:10.1f}")


if __name__ == "__main__":
    main()

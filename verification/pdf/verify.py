"""`verify_pdf`: one report for a signed licence PDF, as of a given time.  Never raises.

Order (each a named check; docs/pdf.md maps every attack to the check that stops it):
  pdf.structure, pdf.tail                 strict parse, nothing after the last %%EOF
  pdf.signature_dictionary                /Type, /SubFilter allow-list, /ByteRange, gap, CMS
  pdf.signature_count                     every filled /Sig field is one pyHanko validates
  pdf.integrity, pdf.signature_value      digest over the byte ranges, SM2/RSA signature
  pdf.coverage, pdf.modifications         last signature covers the file; strict diff policy
  pdf.timestamp                           RFC 3161 signature timestamp (when present)
  pdf.certificate_path                    trusted as of `at` (timestamp as proof of existence)
  pdf.seal_binding, pdf.seal              SESeal attribute: signer listed, seal valid and trusted
  pdf.licence_status                      status_lookup(identifier), when given
"""

from __future__ import annotations

import asyncio
import threading
from datetime import datetime
from typing import Callable

from signing import oids
from verification.pdf.licence import check_status, read_licence
from verification.pdf.seal_binding import check_seal
from verification.pdf.sigdict import check_signature_fields
from verification.pdf.signature import (check_document_timestamp, check_signature,
                                         embedded_certs)
from verification.pdf.structure import read_pdf
from verification.report import Report
from verification.seal import SealTrust

# The trust material has the same shape as for seals: signer, TSA and seal-maker roots,
# intermediates, CRLs and an optional seal-registry status callback.
PdfTrust = SealTrust


def verify_pdf(data: bytes, trust: PdfTrust, at: datetime,
               status_lookup: Callable | None = None) -> Report:
    coro = async_verify_pdf(data, trust, at, status_lookup)
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    box: list = []  # called from inside an event loop: run on a private loop in a thread
    t = threading.Thread(target=lambda: box.append(asyncio.run(coro)))
    t.start()
    t.join()
    return box[0]


async def async_verify_pdf(data: bytes, trust: PdfTrust, at: datetime,
                           status_lookup: Callable | None = None) -> Report:
    report = Report(subject="pdf")
    if at is None or at.tzinfo is None:
        report.fail_format("pdf.input", "验证时间必须带时区 / `at` must be timezone-aware")
        return report
    try:
        await _verify(report, bytes(data), trust, at, status_lookup)
    except Exception as exc:  # any parser/validator surprise is a format failure, never a crash
        report.fail_format("pdf.format", f"PDF 无法验证 / PDF could not be verified: "
                           f"{type(exc).__name__}: {str(exc)[:200]}")
    return report


async def _verify(report: Report, data: bytes, trust, at: datetime, status_lookup) -> None:
    reader = read_pdf(report, data)
    if reader is None:
        return
    filled = check_signature_fields(report, reader, data)
    if filled is None:
        return
    embedded = reader.embedded_signatures
    if len(embedded) != filled:
        report.fail_format("pdf.signature_count", f"{filled} 个已签名域，但只有 {len(embedded)} 个可验证 "
                           f"/ {filled} filled signature fields, {len(embedded)} verifiable")
        return
    report.add("pdf.signature_count", True, f"{filled} 个签名 / {filled} signature(s)")
    sigs = [e for e in embedded if e.sig_object_type == "/Sig"]
    if not sigs:
        report.fail_format("pdf.signature_count", "没有文档签名（只有时间戳）/ no document "
                           "signature (only timestamps)")
        return
    last_sig = sigs[-1]
    for emb in embedded:
        if emb.sig_object_type != "/Sig":
            await check_document_timestamp(report, emb, trust, at)
            continue
        outcome = await check_signature(report, emb, trust, at, last=emb is last_sig)
        if emb is last_sig:
            algorithm = _algorithm(emb)
            report.signer = _signer_summary(emb, outcome, algorithm)
            check_seal(report, emb.signer_info, emb.signer_cert, algorithm, trust,
                       outcome.signing_time, at, embedded_certs(emb))
    report.licence = read_licence(reader)
    check_status(report, report.licence, status_lookup)


def _algorithm(emb) -> str:
    oid = emb.signer_info["signature_algorithm"]["algorithm"].dotted
    return oids.ALG_SM2 if oid in oids.SM2_SIGNATURE_OIDS else oids.ALG_RSA


def _signer_summary(emb, outcome, algorithm: str) -> dict:
    cert = emb.signer_cert
    st = outcome.status
    return {
        "subject": cert.subject.human_friendly,
        "issuer": cert.issuer.human_friendly,
        "serial": format(cert.serial_number, "x"),
        "algorithm": algorithm,
        "digest": st.md_algorithm,
        "subfilter": str(emb.sig_object.get("/SubFilter", "")).lstrip("/"),
        "certification": str(emb.docmdp_level.name) if emb.docmdp_level else None,
        "claimed_signing_time": _iso(emb.self_reported_timestamp),
        "timestamp": _iso(outcome.signing_time) if outcome.timestamped else None,
    }


def _iso(t):
    return t.isoformat() if t is not None else None

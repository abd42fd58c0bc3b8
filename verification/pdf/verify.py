"""`verify_pdf`: one report for a signed licence PDF, as of a given time.  Never raises.

Order (each a named check; docs/pdf.md maps every attack to the check that stops it):
  pdf.structure, pdf.tail                 strict parse, nothing after the last %%EOF
  pdf.signature_dictionary                /Type, /SubFilter allow-list, /ByteRange, gap, CMS
                                          (BER read as its DER; leniencies become notes)
  pdf.signature_count                     every filled /Sig field is one pyHanko validates
  pdf.integrity, pdf.signature_value      digest over the byte ranges, SM2/RSA signature
  pdf.coverage, pdf.modifications         last signature covers the file; strict diff policy
  pdf.timestamp                           RFC 3161 signature timestamp (when present)
  pdf.algorithms                          dated weak-algorithm policy (algorithm_policy.py)
  pdf.certificate_path                    trusted as of `at` (timestamp as proof of existence),
                                          naming the trust anchor
  pdf.seal_binding, pdf.seal              SESeal attribute: signer listed, seal valid and trusted
                                          (each signature's, when there are several)
  pdf.licence_status                      status_lookup(identifier), when given

The licence's EL1 in the catalog (`/Code`) is checked with `code_trust`, the QR trust, when given
(verification.licence_code): its claims are reported, never judged.
"""

from __future__ import annotations

import asyncio
import functools
import threading
from datetime import datetime
from typing import Callable

from formats import certs, libraries
from formats.algorithms import registry
from verification import certpath
from verification.checks import PdfCheck
from verification.limits import check_budget
from verification.licence_code import check_code
from verification.pdf.licence import check_status, read_licence
from verification.pdf.seal_binding import check_seal
from verification.pdf.sigdict import check_signature_fields, normalise
from verification.pdf.signature import (check_document_timestamp, check_signature,
                                         embedded_certs)
from verification.pdf.structure import read_pdf
from verification.qr import QrTrust
from verification.report import Report, Signed
from verification.seal import SealTrust

# The trust material has the same shape as for seals: signer, TSA and seal-maker roots,
# intermediates, CRLs and an optional seal-registry status callback.
PdfTrust = SealTrust


def verify_pdf(data: bytes, trust: PdfTrust, at: datetime,
               status_lookup: Callable | None = None, code_trust: QrTrust | None = None) -> Report:
    libraries.install()  # a library user may not have: without it genuine SM2 PDFs fail
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        report, follow_ups = certpath.run_on_new_loop(_pdf_part(data, trust, at))
        _finish(report, follow_ups, status_lookup, code_trust, at)
        return report
    box: list = []  # called from inside an event loop: run apart on a private loop
    t = threading.Thread(target=lambda: box.append(
        verify_pdf(data, trust, at, status_lookup, code_trust)))
    t.start()
    t.join()
    return box[0]


async def async_verify_pdf(data: bytes, trust: PdfTrust, at: datetime,
                           status_lookup: Callable | None = None,
                           code_trust: QrTrust | None = None) -> Report:
    libraries.install()  # as in verify_pdf
    report, follow_ups = await _pdf_part(data, trust, at)
    await asyncio.to_thread(_finish, report, follow_ups, status_lookup, code_trust, at)
    return report


async def _pdf_part(data, trust, at: datetime):
    """The PDF and CMS checks (pyHanko is async).  Returns the report so far and the
    synchronous checks still to run: the seal verifier and the caller's status lookup are
    plain functions (they may do I/O or run their own event loop), so they run outside ours."""
    report = Report(subject="pdf")
    follow_ups: list = []
    if at is None or at.tzinfo is None:
        report.fail_format(PdfCheck.INPUT, "验证时间必须带时区 / `at` must be timezone-aware")
        return report, None
    try:
        await _verify(report, bytes(data), trust, at, follow_ups)
    except _Stop:
        return report, None
    except Exception as exc:  # any parser/validator surprise is a format failure, never a crash
        _format_failure(report, exc)
        return report, None
    return report, follow_ups


def _finish(report: Report, follow_ups, status_lookup, code_trust, at: datetime) -> None:
    if follow_ups is None:
        return
    try:
        for step in follow_ups:
            step()
        check_code(report, report.licence, code_trust, at)  # before the status: judges the file
        check_status(report, report.licence, status_lookup)
    except Exception as exc:
        _format_failure(report, exc)


def _format_failure(report: Report, exc: Exception) -> None:
    report.fail_format(PdfCheck.FORMAT, f"PDF 无法验证 / PDF could not be verified: "
                       f"{type(exc).__name__}: {str(exc)[:200]}")


async def _verify(report: Report, data: bytes, trust, at: datetime, follow_ups: list) -> None:
    reader = read_pdf(report, data)
    if reader is None:
        raise _Stop
    filled = check_signature_fields(report, reader, data)
    if filled is None:
        raise _Stop
    embedded = reader.embedded_signatures
    for emb in embedded:
        normalise(emb)  # a CMS in BER (noted by check_signature_fields) is validated as DER
    if len(embedded) != filled:
        report.fail_format(PdfCheck.SIGNATURE_COUNT, f"{filled} 个已签名域，但只有 {len(embedded)} 个可验证 "
                           f"/ {filled} filled signature fields, {len(embedded)} verifiable")
        raise _Stop
    report.add(PdfCheck.SIGNATURE_COUNT, True, f"{filled} 个签名 / {filled} signature(s)")
    sigs = [e for e in embedded if e.sig_object_type == "/Sig"]
    if not sigs:
        report.fail_format(PdfCheck.SIGNATURE_COUNT, "没有文档签名（只有时间戳）/ no document "
                           "signature (only timestamps)")
        raise _Stop
    last_sig = sigs[-1]
    signed_after = len(sigs) > 1 and _all_signature_fields_filled(reader)
    for emb in embedded:
        check_budget()  # between signatures: pyHanko validates each in one step (limits.py)
        if emb.sig_object_type != "/Sig":
            await check_document_timestamp(report, emb, trust, at)
            continue
        outcome = await check_signature(report, emb, trust, at, last=emb is last_sig,
                                        signed_after=signed_after)
        algorithm = _algorithm(emb)
        if emb is last_sig:
            report.signer = _signer_summary(emb, outcome, algorithm)
            report.signatures.append(Signed(
                "licence_signer", emb.signer_cert.dump(), claimed_at=emb.self_reported_timestamp,
                proven_before=outcome.signing_time if outcome.timestamped else None,
                proof="签名时间戳 / signature timestamp" if outcome.timestamped else None))
        # Every signature's seal, in order (the last one's ends in report.seal): with several
        # organisations' stamps, an earlier one could otherwise carry a copied seal unchecked.
        carried = embedded_certs(emb)
        _certificate_notes(report, [emb.signer_cert, *carried])
        follow_ups.append(functools.partial(
            check_seal, report, emb.signer_info, emb.signer_cert, algorithm, trust,
            outcome.signing_time, at, carried))
    report.licence = read_licence(reader)


def _certificate_notes(report: Report, certificates) -> None:
    """What reading the signature's certificates needed leniency for (formats.certs)."""
    for cert in certificates:
        report.notes.extend(n for n in certs.leniencies(cert) if n not in report.notes)


def _all_signature_fields_filled(reader) -> bool:
    """No empty signature field anywhere: a later revision may then add only signatures."""
    from pyhanko.sign.fields import enumerate_sig_fields

    return all(value is not None for _name, value, _ref in enumerate_sig_fields(reader))


class _Stop(Exception):
    """A structural check failed and was recorded: nothing further can be checked."""


def _algorithm(emb) -> str:
    """The registered algorithm the SignerInfo names, or its OID when none is registered (its
    signature then fails in pyHanko's validation, which names the reason)."""
    oid = emb.signer_info["signature_algorithm"]["algorithm"].dotted
    spec = registry.find_by_cms_signature_oid(oid)
    return spec.name if spec is not None else oid


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

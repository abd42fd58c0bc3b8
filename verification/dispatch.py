"""One entry point for "verify this": tell what the bytes are, hand them to the verifier for that
kind, and add the licence's status where the verifier does not ask for it itself.

Why a dispatcher: a clerk (or `license-svc verify`, or `POST /api/v1/verify`) holds a file or a
scanned text and should not have to know whether it is a PDF licence, an OFD document, a seal
file or a photo of a QR code.  Detection is by content, never by file name.

Three kinds of answer (docs/formats.md, docs/api.md):
- `UnreadableInput` (raised): nothing we recognise — empty, random bytes, an unknown format, a
  picture that cannot be decoded.  The CLI maps it to exit 3, HTTP to a 4xx problem.
- a report whose subject is ``not-a-licence`` (INDETERMINATE, SIGNED_DATA_NOT_FOUND): readable,
  but no licence code in it (a URL, a picture of a payment code).
- any other report: the verifier's verdict, TOTAL_PASSED / TOTAL_FAILED / INDETERMINATE.

Online concerns (a replayed EP1, audit) belong to the service (license_svc.verify_service).

Every verification runs under a time budget and its report is bounded (verification.limits):
running out of time is INDETERMINATE / TRY_LATER, a report over the caps a FORMAT_FAILURE.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone

from formats import libraries
from formats.errors import Kind, ServiceError
from verification import limits
from verification import qr as qr_verifier
from verification.ofd import verify_ofd
from verification.checks import OfdCheck, PdfCheck, QrCheck, StatusCheck
from verification.qr import QrTrust
from verification.listing import TrustIndex, check_against_lists
from verification.report import Report
from verification.seal import SealFormatError, SealTrust, detect as detect_seal
from verification.seal import verify_seal, verify_signature
from verification.status import add_status_check

PDF, OFD, SEAL, SEAL_SIGNATURE, IMAGE, QR_TEXT = (
    "pdf", "ofd", "seal", "seal-signature", "image", "qr-text")
KIND_ZH = {PDF: "PDF 版式文件", OFD: "OFD 版式文件", SEAL: "电子印章（.esl）",
           SEAL_SIGNATURE: "电子签章数据（.dat）", IMAGE: "二维码图片", QR_TEXT: "二维码文本"}
MAX_INPUT = 50 * 1024 * 1024
MAX_TEXT = 16 * 1024  # a QR holds at most 4,296 characters; anything much longer is not one
_IMAGE_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"BM")
_VERIFIER_CHECK = {PDF: PdfCheck.VERIFIER, OFD: OfdCheck.VERIFIER}  # verifiers `_guard` runs
# Every SESeal and SES_Signature opens (within its first few headers) with the seal's SES_Header,
# whose first field is the IA5String "ES" (GB/T 38540 §A.1).  DER that carries it but does not
# parse is a seal file that was damaged (truncated, changed): a FORMAT_FAILURE of a seal, not an
# input of unknown kind.
_SEAL_HEADER_ID = b"\x16\x02ES"
_SEAL_HEADER_WITHIN = 64
# A ZIP local file header (signature, 22 bytes of fields, name length 7, extra length) for OFD.xml.
_OFD_LOCAL_HEADER = re.compile(rb"PK\x03\x04[\s\S]{22}\x07\x00[\s\S]{2}OFD\.xml")


class UnreadableInput(ServiceError):
    """Input that is none of the kinds we verify (exit 3, HTTP 422)."""

    code = "unreadable-input"
    kind = Kind.INVALID
    title_zh = "无法识别的输入"
    title_en = "Unreadable input"


class TimeOutOfRange(ServiceError):
    """A verification time no document can be judged at (HTTP 422, CLI exit 3)."""

    code = "verification-time-out-of-range"
    kind = Kind.INVALID
    title_zh = "验证时间超出范围"
    title_en = "Verification time out of range"


# Times a verification may be asked about.  Certificate and timestamp arithmetic near the ends
# of `datetime` overflows (`?at=9999-12-31T23:59:59Z` was an OverflowError deep in pyHanko,
# reported as a FORMAT_FAILURE of the document): the caller's time is refused instead.
EARLIEST = datetime(1970, 1, 1, tzinfo=timezone.utc)
LATEST = datetime(2200, 1, 1, tzinfo=timezone.utc)


def check_moment(at: datetime) -> None:
    """Raise TimeOutOfRange unless `at` is a timezone-aware time in [EARLIEST, LATEST)."""
    if not isinstance(at, datetime) or at.tzinfo is None:
        raise TimeOutOfRange("the verification time must be timezone-aware",
                             "验证时间必须带时区")
    if not EARLIEST <= at < LATEST:
        shown = at.isoformat()[:40]
        raise TimeOutOfRange(f"verification time {shown} is outside {EARLIEST.year}–"
                             f"{LATEST.year - 1}", f"验证时间 {shown} 超出 {EARLIEST.year}–"
                             f"{LATEST.year - 1} 年的范围")


@dataclass
class Trust:
    """Everything the verifiers need.  `seal` serves seals, OFD and PDF signatures (same shape:
    signer, TSA and seal-maker roots, intermediates, CRLs, seal registry status).
    `status_lookup(identifier)` → {"status", ...} or raises (see verification.status).
    `listing`: the synced trust lists' entries; with it every signature is also checked against
    the lists (identity binding, withdrawal — verification.listing)."""

    qr: QrTrust
    seal: SealTrust
    status_lookup: Callable[[str], Mapping | str] | None = None
    listing: TrustIndex | None = None


def detect(data: bytes) -> str:
    """The kind of `data`, by content.  Raises UnreadableInput."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise UnreadableInput("input must be bytes", "输入必须是字节")
    data = bytes(data)
    if not data:
        raise UnreadableInput("empty input", "输入为空")
    if len(data) > MAX_INPUT:
        raise UnreadableInput("input larger than 50 MiB", "输入超过 50 MiB")
    if b"%PDF-" in data[:1024]:
        return PDF
    if data.startswith(b"PK\x03\x04"):
        if _is_ofd(data):
            return OFD
        raise UnreadableInput("a ZIP file that is not an OFD document (no OFD.xml)",
                              "ZIP 文件不是 OFD 文档（缺少 OFD.xml）")
    if data.startswith(_IMAGE_MAGIC) or (data[:4] == b"RIFF" and data[8:12] == b"WEBP"):
        return IMAGE
    if data[0] == 0x30:
        try:
            return SEAL if detect_seal(data) == "seal" else SEAL_SIGNATURE
        except SealFormatError:
            if _SEAL_HEADER_ID in data[:_SEAL_HEADER_WITHIN]:
                return SEAL  # a damaged seal file: the seal verifier names what is wrong
            raise UnreadableInput("DER data that is neither a SESeal nor an SES_Signature",
                                  "DER 数据既不是电子印章也不是电子签章数据") from None
    if _text(data) is not None:
        return QR_TEXT
    raise UnreadableInput("not a PDF, OFD, seal file, image or QR text",
                          "不是 PDF、OFD、印章文件、图片或二维码文本")


def _is_ofd(data: bytes) -> bool:
    """A ZIP listing OFD.xml — or a damaged one (truncated, say) whose local header names it:
    that is a broken OFD document (FORMAT_FAILURE), not an unreadable input."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            return "OFD.xml" in z.namelist()
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, NotImplementedError):
        return _OFD_LOCAL_HEADER.search(data) is not None


def _text(data: bytes) -> str | None:
    """The text of a scanned code: UTF-8 (BOM allowed), printable, not too long."""
    if len(data) > MAX_TEXT:
        return None
    try:
        text = data.decode("utf-8-sig").strip()
    except UnicodeDecodeError:
        return None
    if not text or not text.isprintable():
        return None
    return text


def verify_bytes(data: bytes, trust: Trust, at: datetime, *,
                 budget: float | None = limits.DEFAULT_BUDGET_SECONDS) -> Report:
    """Detect and verify within `budget` seconds.  Raises UnreadableInput; otherwise returns
    the report."""
    libraries.install()  # a library user may not have: without the SM OIDs SM2 documents fail
    kind = detect(data)
    check_moment(at)
    with limits.budget(budget):
        try:
            report = _verify_kind(kind, bytes(data), trust, at)
        except limits.BudgetExceeded:
            report = _with_kind(limits.report_budget_exceeded(_SUBJECT[kind]), kind)
    return limits.bound_report(report)


_SUBJECT = {PDF: "pdf", OFD: "ofd", SEAL: "seal", SEAL_SIGNATURE: "signature", IMAGE: "qr",
            QR_TEXT: "qr"}


def _verify_kind(kind: str, data: bytes, trust: Trust, at: datetime) -> Report:
    if kind == PDF:
        report = _verify_pdf(data, trust, at)
    elif kind == OFD:
        report = _verify_ofd(data, trust, at)
    elif kind == SEAL:
        report = verify_seal(data, at=at, trust=trust.seal)
    elif kind == SEAL_SIGNATURE:
        report = verify_signature(data, at=at, trust=trust.seal)
    elif kind == IMAGE:
        report = qr_verifier.verify_qr_image(data, trust.qr, at)
        image = report.check(QrCheck.IMAGE)
        if image is not None and not image.passed:
            raise UnreadableInput(f"cannot read the image ({image.detail})", "无法读取图片")
        _qr_status(report, trust)
    else:
        return _with_kind(_verify_text(_text(data), trust, at), kind)
    _against_lists(report, trust, at)
    return _with_kind(report, kind)


def _with_kind(report: Report, kind: str) -> Report:
    report.notes.insert(0, f"输入类型：{KIND_ZH[kind]} / input kind: {kind}")
    return report


def _against_lists(report: Report, trust: Trust, at: datetime) -> None:
    if trust.listing is not None:
        check_against_lists(report, trust.listing, at, trust.status_lookup)


def verify_text(text: str, trust: Trust, at: datetime, *,
                budget: float | None = limits.DEFAULT_BUDGET_SECONDS) -> Report:
    """A scanned code's text (EL1, EP1, or anything else → "not a licence code")."""
    libraries.install()  # as in verify_bytes
    if not isinstance(text, str) or len(text) > MAX_TEXT:
        raise UnreadableInput("QR text missing or longer than 16 KiB", "二维码文本为空或超过 16 KiB")
    check_moment(at)
    with limits.budget(budget):
        try:
            report = _verify_text(text, trust, at)
        except limits.BudgetExceeded:
            report = limits.report_budget_exceeded("qr")
    return limits.bound_report(report)


def _verify_text(text: str, trust: Trust, at: datetime) -> Report:
    report = qr_verifier.verify_qr_text(text, trust.qr, at)
    _qr_status(report, trust)
    _against_lists(report, trust, at)
    return report


def _qr_status(report: Report, trust: Trust) -> None:
    """Status of the licence a QR names — only when its signature held: a forged code's claims
    are the forger's words, not worth a lookup."""
    if report.subject in ("qr-el1", "qr-ep1") and report.indication != "TOTAL_FAILED" \
            and report.licence.get("id"):
        add_status_check(report, StatusCheck.LICENCE, report.licence["id"], trust.status_lookup)


def _unavailable(subject: str, zh: str, en: str) -> Report:
    report = Report(subject=subject)
    report.add(_VERIFIER_CHECK[subject], False, f"{zh} / {en}", failure="GENERIC", indeterminate=True)
    return report


def _verify_pdf(data: bytes, trust: Trust, at: datetime) -> Report:
    try:
        from verification.pdf import verify_pdf
    except ImportError:
        return _unavailable("pdf", "PDF 验证器不可用", "PDF verifier unavailable")
    return _guard("pdf", lambda: verify_pdf(data, trust.seal, at, status_lookup=trust.status_lookup,
                                            code_trust=trust.qr))


def _verify_ofd(data: bytes, trust: Trust, at: datetime) -> Report:
    report = _guard("ofd", lambda: verify_ofd(data, trust.seal, at, code_trust=trust.qr))
    if report.licence.get("identifier"):  # a licence OFD (signed CustomData): its status, as for PDFs
        add_status_check(report, StatusCheck.LICENCE, report.licence["identifier"],
                         trust.status_lookup)
    return report


def _guard(subject: str, run: Callable[[], Report]) -> Report:
    """Verifiers promise not to raise; if one does, the answer is "cannot tell", never a crash."""
    try:
        return run()
    except Exception as exc:
        return _unavailable(subject, f"验证器内部错误（{type(exc).__name__}）",
                            f"verifier error ({type(exc).__name__})")

"""File-level checks before any signature is looked at (pdf-notes A.2, A.6 items 1 and 4).

pyHanko reads at most 1 KiB backwards to the last `%%EOF` and silently ignores what follows
(pdf-notes A.2: the `isa-3.pdf` gap), while lenient viewers reconstruct an xref from those
bytes and render them.  So the tail must be exactly `startxref N %%EOF` with N the offset
pyHanko used, and nothing between the end of the last xref section and that `startxref` may
look like PDF syntax.  The reader is strict: duplicate keys, hybrid xrefs and broken xref
tables are errors, and nothing is ever repaired.

Caps (verification/limits.py): pyHanko reads every revision before it can say how many there
are, and its difference analysis then costs revisions × revisions.  Every revision after the
first names the one before it with a `/Prev` key in its trailer (a trailer dictionary or an
xref stream's dictionary, neither ever compressed), so counting the `/Prev` names in the raw
bytes — name escapes such as `/P#72ev` included — is an upper bound found in linear time, and a
file over the revision cap is refused before pyHanko sees it.  After the parse the real counts
of revisions, objects and signature dictionaries are checked against their caps too.
"""

from __future__ import annotations

import io
import re

from pyhanko.pdf_utils.reader import PdfFileReader

from verification.checks import PdfCheck
from verification.limits import (MAX_PDF_OBJECTS, MAX_PDF_REVISIONS, MAX_PDF_SIGNATURES,
                                 check_budget, over_cap)
from verification.report import Report

MAX_PDF_BYTES = 50 * 1024 * 1024
_TAIL = re.compile(rb"startxref\s+(\d+)\s*%%EOF\s*\Z")
_SYNTAX = re.compile(rb"\bobj\b|\bstream\b|%%EOF|\bxref\b|\btrailer\b")
# The name /Prev, each letter written plainly or as a #xx escape (hex digits in either case).
_PREV = re.compile(rb"/(?:P|#50)(?:r|#72)(?:e|#65)(?:v|#76)(?![A-Za-z0-9])", re.I)


def read_pdf(report: Report, data: bytes) -> PdfFileReader | None:
    """A strict reader over `data`, or None after recording a FORMAT_FAILURE check."""
    if not isinstance(data, (bytes, bytearray, memoryview)) or len(data) == 0:
        report.fail_format(PdfCheck.STRUCTURE, "不是 PDF 文件（空）/ not a PDF (empty input)")
        return None
    data = bytes(data)
    if len(data) > MAX_PDF_BYTES:
        report.fail_format(PdfCheck.STRUCTURE, "PDF 超过 50 MiB / PDF larger than 50 MiB")
        return None
    if not data.startswith(b"%PDF-"):
        report.fail_format(PdfCheck.STRUCTURE, "缺少 %PDF- 文件头 / missing %PDF- header")
        return None
    tail = _TAIL.search(data, max(0, len(data) - 64))
    if tail is None:
        report.fail_format(PdfCheck.TAIL, "文件末尾不是 startxref … %%EOF（%%EOF 之后有附加数据）/ the "
                           "file does not end with startxref … %%EOF (data after the last %%EOF)")
        return None
    revisions_at_most = len(_PREV.findall(data)) + 1
    if revisions_at_most > MAX_PDF_REVISIONS:
        report.fail_format(PdfCheck.STRUCTURE, over_cap("修订版本（/Prev 链）", "revisions (/Prev "
                           "links)", revisions_at_most, MAX_PDF_REVISIONS))
        return None
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=True)
        reader.root  # noqa: B018  (fails early on a missing/broken catalog)
        xrefs = reader.xrefs
        last_end = max(xrefs.get_xref_container_info(i).end_location
                       for i in range(xrefs.total_revisions))
        if not _within_caps(report, reader):
            return None
    except Exception as exc:
        report.fail_format(PdfCheck.STRUCTURE, f"PDF 结构错误，拒绝修复 / malformed PDF, not repaired: "
                           f"{type(exc).__name__}: {_short(exc)}")
        return None
    report.add(PdfCheck.STRUCTURE, True, f"严格解析通过，{xrefs.total_revisions} 个修订版本 / strict "
               f"parse, {xrefs.total_revisions} revision(s)")
    if int(tail.group(1)) != reader.last_startxref:
        report.fail_format(PdfCheck.TAIL, "最后的 startxref 与解析所用的不一致 / last startxref is not "
                           "the one the reader used")
        return None
    between = re.sub(rb"^\s*endobj", b"", data[last_end:tail.start()], count=1)
    if _SYNTAX.search(between):
        report.fail_format(PdfCheck.TAIL, "最后一个交叉引用表之后还有对象或交叉引用数据 / objects or xref data "
                           "after the last cross-reference section")
        return None
    report.add(PdfCheck.TAIL, True, "文件以 startxref … %%EOF 结束，之后无附加数据 / ends with "
               "startxref … %%EOF, nothing appended")
    return reader


def _within_caps(report: Report, reader: PdfFileReader) -> bool:
    """The counts that decide the signature checks' cost, each against its cap."""
    check_budget()
    xrefs = reader.xrefs
    counts = (
        (xrefs.total_revisions, MAX_PDF_REVISIONS, "修订版本", "revisions"),
        (sum(len(xrefs.get_xref_data(i).explicit_refs_in_revision)
             for i in range(xrefs.total_revisions)), MAX_PDF_OBJECTS, "对象", "objects"),
        (_signature_count(reader), MAX_PDF_SIGNATURES, "签名", "signatures"))
    for count, cap, zh, en in counts:
        if count is not None and count > cap:
            report.fail_format(PdfCheck.STRUCTURE, over_cap(zh, en, count, cap))
            return False
    return True


def _signature_count(reader: PdfFileReader) -> int | None:
    """How many signatures pyHanko will validate, or None when it cannot list them: a broken
    signature dictionary is for the signature-dictionary check to name, not this cap."""
    try:
        return len(reader.embedded_signatures)
    except Exception:  # noqa: BLE001 - pyHanko raises many types for a malformed field
        return None


def _short(exc: Exception, limit: int = 200) -> str:
    text = str(exc).replace("\n", " ")
    return text if len(text) <= limit else text[:limit] + "…"

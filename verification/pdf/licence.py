"""The licence a PDF claims to be, and that licence's status (docs/formats.md "/LicenseSvc").

The identifier and record data hash are read from the `/LicenseSvc` catalog dictionary of the
file; the structural checks have already made sure nothing after the signature may have
changed the catalog.  Status comes from the caller (`status_lookup(identifier)`: the local
registry, a peer's signed status response or a status list), so this module stays a pure
function of its inputs.

The catalog's optional `/Code` (the EL1 the page prints) is read as `code`, for
verification.licence_code to judge.
"""

from __future__ import annotations

from typing import Callable, Mapping

from pyhanko.pdf_utils import generic

from formats.pdf_licence import LICENCE_CODE_KEY, LICENCE_DICT_KEY
from verification.checks import PdfCheck
from verification.report import Report


def read_licence(reader) -> dict:
    d = reader.root.get(LICENCE_DICT_KEY)
    if d is None:
        return {}
    d = d.get_object()
    if not isinstance(d, generic.DictionaryObject):
        return {}
    out: dict = {}
    for key, name in (("/Id", "identifier"), ("/Hash", "data_hash"), (LICENCE_CODE_KEY, "code")):
        v = d.get(key)
        if isinstance(v, (generic.TextStringObject, generic.ByteStringObject)):
            out[name] = str(v) if isinstance(v, generic.TextStringObject) else bytes(v).decode(
                "latin-1")
    if isinstance(d.get("/HashAlg"), generic.NameObject):
        out["hash_alg"] = str(d["/HashAlg"]).lstrip("/")
    if type(d.get("/Version")) is generic.NumberObject:
        out["version"] = int(d["/Version"])
    return out


def check_status(report: Report, licence: dict, status_lookup: Callable | None) -> None:
    if status_lookup is None:
        report.notes.append("未查询证照状态 / licence status not checked (no status source)")
        return
    ident = licence.get("identifier")
    if not ident:
        # Not a licence but a signed document (a department's stamped notice,
        # signing.pdf.stamp_document): its signatures are the verdict, no register applies.  A
        # licence cannot lose its /LicenseSvc: the catalog is in its certified (P=1) revision.
        report.notes.append("不是电子证照（无 /LicenseSvc）：已验证文档签名，不适用证照状态 / not a "
                            "licence (no /LicenseSvc): the document's signatures were verified, "
                            "no licence status applies")
        return
    try:
        answer = status_lookup(ident)
    except Exception as exc:
        report.add(PdfCheck.LICENCE_STATUS, False, f"证照状态查询失败 / status lookup failed: "
                   f"{type(exc).__name__}", failure="TRY_LATER", indeterminate=True)
        return
    info = dict(answer) if isinstance(answer, Mapping) else {"status": answer}
    status = str(info.get("status") or "unknown").lower()
    licence["status"] = status
    if info.get("superseded_by"):
        licence["superseded_by"] = info["superseded_by"]
    if status in ("active", "valid", "issued"):
        report.add(PdfCheck.LICENCE_STATUS, True, "证照状态：有效 / licence status: active")
    elif status == "superseded":
        newer = info.get("superseded_by") or "?"
        report.add(PdfCheck.LICENCE_STATUS, True, f"此版本已被新版本 {newer} 取代（签名仍有效）/ this "
                   f"version is superseded by {newer} (the signature itself is valid)")
        report.notes.append(f"已被新版本取代 / superseded by {newer}")
    elif status == "revoked":
        report.add(PdfCheck.LICENCE_STATUS, False, "证照已撤销 / licence revoked", failure="REVOKED")
    elif status == "suspended":
        # EN 319 102-1: a suspension may be lifted, so "cannot tell now", not "bad".
        report.add(PdfCheck.LICENCE_STATUS, False, "证照已暂停 / licence suspended",
                   failure="TRY_LATER", indeterminate=True)
    elif status == "expired":
        report.add(PdfCheck.LICENCE_STATUS, False, "证照已过有效期 / licence expired", failure="EXPIRED")
    else:
        report.add(PdfCheck.LICENCE_STATUS, False, "证照状态未知 / licence status unknown",
                   failure="GENERIC", indeterminate=True)

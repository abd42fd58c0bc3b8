"""Signature dictionary sanity (pdf-notes A.1 USF, A.3 signature wrapping, B.1.4 item 6).

A malformed or missing /ByteRange or /Contents must make the signature INVALID, never
"skipped": pyHanko drops signatures with an unknown /SubFilter from `embedded_signatures`
and raises on others, so every filled /Sig field is checked here against the raw bytes, and
their number must equal the number pyHanko will validate.

Read leniently, judge strictly (issue 15, docs/verification.md "Leniency notes"): what the
standards allow or what cannot change the verdict is accepted and recorded as a note — a
dictionary without the optional /Type, a CMS in BER (validated as its DER re-encoding, which
is what the signed attributes are signed over), a signed attribute of a type no check here
reads — while everything a check relies on stays as strict as before.
"""

from __future__ import annotations

import functools
import re

from asn1crypto import cms
from pyhanko.pdf_utils import generic
from pyhanko.sign.fields import enumerate_sig_fields

from formats import ber, oids
from verification import certpath
from verification.checks import PdfCheck
from verification.report import Report

ALLOWED_SUBFILTERS = {
    "/Sig": frozenset({"/ETSI.CAdES.detached", "/adbe.pkcs7.detached"}),
    "/DocTimeStamp": frozenset({"/ETSI.RFC3161"}),
}
_HEX = re.compile(rb"<[0-9A-Fa-f]*>\Z")


def check_signature_fields(report: Report, reader, data: bytes) -> int | None:
    """Number of filled signature fields (all sane), or None after a FORMAT_FAILURE check."""
    try:
        fields: list[tuple] = list(enumerate_sig_fields(reader, filled_status=True))
    except Exception as exc:
        report.fail_format(PdfCheck.SIGNATURE_DICTIONARY, f"无法枚举签名域 / cannot enumerate "
                           f"signature fields: {type(exc).__name__}")
        return None
    if not fields:
        report.fail_format(PdfCheck.SIGNATURE_DICTIONARY, "文件未签名 / the PDF has no signature")
        return None
    for name, sig, _ref in fields:
        notes: list[tuple[str, str]] = []
        problem = _problem(sig, data, notes)
        report.notes.extend(f"签名域 {name}：{zh} / signature field {name}: {en}" for zh, en in notes)
        if problem is not None:
            report.fail_format(PdfCheck.SIGNATURE_DICTIONARY,
                               f"签名域 {name}：{problem[0]} / signature field {name}: {problem[1]}")
            return None
    report.add(PdfCheck.SIGNATURE_DICTIONARY, True, f"{len(fields)} 个签名域格式正确 / {len(fields)} "
               "well-formed signature field(s)")
    return len(fields)


def _problem(sig, data: bytes, notes: list) -> tuple[str, str] | None:
    try:
        sig = sig.get_object()
    except Exception:
        return "签名字典无法读取", "unreadable signature dictionary"
    if not isinstance(sig, generic.DictionaryObject):
        return "签名值不是字典", "signature value is not a dictionary"
    sub = sig.get("/SubFilter")
    kind = sig.get("/Type")
    if kind is None:  # optional (ISO 32000-2 Table 255); pyHanko then takes it as /Sig
        kind = generic.NameObject("/Sig")
        notes.append(("签名字典缺少可选的 /Type，按 /Sig 处理", "no /Type in the signature dictionary "
                      "(optional): read as /Sig"))
    if not isinstance(kind, generic.NameObject) or str(kind) not in ALLOWED_SUBFILTERS:
        return "/Type 不是 /Sig 或 /DocTimeStamp", "/Type is not /Sig or /DocTimeStamp"
    if not isinstance(sub, generic.NameObject) or str(sub) not in ALLOWED_SUBFILTERS[str(kind)]:
        return f"不接受的 /SubFilter {sub}", f"/SubFilter {sub} not in the allow-list"
    br = sig.get("/ByteRange")
    if not isinstance(br, generic.ArrayObject) or len(br) != 4 or \
            not all(type(v) is generic.NumberObject for v in br):
        return "/ByteRange 必须是 4 个整数", "/ByteRange must be exactly four integers"
    a, b, c, d = (int(v) for v in br)
    if a != 0 or b <= 0 or c <= b or d < 0 or c + d > len(data):
        return f"/ByteRange {[a, b, c, d]} 不合法", f"impossible /ByteRange {[a, b, c, d]}"
    contents = sig.get("/Contents")
    if not isinstance(contents, (generic.ByteStringObject, generic.TextStringObject)):
        return "/Contents 不是字符串", "/Contents is not a string"
    gap = data[b:c]
    # The gap must be exactly the <hex> string of /Contents: nothing else is unsigned.
    if not _HEX.match(gap) or bytes.fromhex(gap[1:-1].decode("ascii")) != bytes(contents.original_bytes):
        return "签名范围的空隙不等于 /Contents 十六进制串", \
            "the unsigned gap is not exactly the /Contents hex string (signature wrapping?)"
    return _cms_problem(bytes(contents.original_bytes), notes)


@functools.lru_cache(maxsize=16)
def cms_der(blob: bytes) -> tuple[bytes, int]:
    """(DER of the CMS in a /Contents string, its length there): the CMS as written may be BER,
    followed by zero padding.  Kept for the few documents being verified (the dictionary
    check and `normalise` ask for the same CMS; ~3 ms each for a 5 KB CMS)."""
    return ber.to_der(blob)


def normalise(emb) -> None:
    """Give pyHanko the DER of a signature's CMS when it was written in BER (pyHanko reads
    shallow BER but not nested indefinite lengths).  `pkcs7_content` stays as written: its
    length is part of pyHanko's coverage computation."""
    der, end = cms_der(bytes(emb.pkcs7_content))
    if der == bytes(emb.pkcs7_content[:end]):
        return
    emb.signed_data = cms.ContentInfo.load(der)["content"]
    emb.signer_info = emb.signed_data["signer_infos"][0]


# Signed attributes a check here or in pyHanko reads: one that does not parse is malformed.
_READ_ATTRIBUTES = {"content_type", "message_digest", "signing_time", "signing_certificate",
                    "signing_certificate_v2", "cms_algorithm_protection",
                    "signature_time_stamp_token", "content_time_stamp",
                    oids.SESEAL_SIGNED_ATTRIBUTE}


def _cms_problem(blob: bytes, notes: list) -> tuple[str, str] | None:
    try:
        der, der_len = cms_der(blob)
        if blob[der_len:].strip(b"\x00"):
            return "/Contents 的 CMS 之后有非零数据", "non-zero data after the CMS in /Contents"
        if der != blob[:der_len]:
            notes.append(("CMS 采用 BER 编码（不定长），按其 DER 重编码验证", "the CMS is BER-encoded "
                          "(indefinite lengths): validated as its DER re-encoding"))
        info = cms.ContentInfo.load(der, strict=True)
        if info["content_type"].native != "signed_data":
            return "/Contents 不是 CMS SignedData", "/Contents is not CMS SignedData"
        signer_infos = info["content"]["signer_infos"]
        if len(signer_infos) != 1:
            return f"SignerInfo 数量为 {len(signer_infos)}，应为 1", \
                f"{len(signer_infos)} SignerInfos, expected exactly one"
        signed_data = info["content"]
        signed_data["digest_algorithms"].native  # noqa: B018  (lazy: parse what is unused too)
        signed_data["encap_content_info"].native  # noqa: B018
        signer = signer_infos[0]
        for name in ("version", "sid", "digest_algorithm", "signature_algorithm", "signature"):
            signer[name].native  # noqa: B018
        for attr in signer["signed_attrs"]:  # parse everything once (known DER: skip)
            _parse_attribute(attr, notes)
        for attr in signer["unsigned_attrs"] or ():
            _parse_attribute(attr, notes)
    except Exception as exc:
        return "/Contents 无法解析为 CMS", f"/Contents does not parse as CMS ({type(exc).__name__})"
    return None


def _parse_attribute(attr, notes: list) -> None:
    """Parse a signed attribute in full; one no check reads may stay unparsed (it is still
    covered by the signature, over its DER), with a note.  Its type must still parse."""
    kind = attr["type"]
    try:
        certpath.ensure_parsed(attr)
    except Exception as exc:
        if kind.native in _READ_ATTRIBUTES or kind.dotted in _READ_ATTRIBUTES:
            raise
        notes.append((f"签名属性 {kind.dotted} 无法解析，未使用（仍受签名保护）",
                      f"signed attribute {kind.dotted} does not parse ({type(exc).__name__}); not "
                      "used (still covered by the signature)"))

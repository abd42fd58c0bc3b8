"""`verify_ofd`: one report for a signed OFD document, as of a given time.  Never raises.

Checks, in order (`verification.checks.OfdCheck`; `ofd.sig[N]` is the N-th signature in
Signatures.xml order, across documents):

  ofd.package                 the ZIP is safe to read (package.py) and every entry intact
  ofd.structure               OFD.xml → DocBody → Document.xml and Signatures.xml parse
  ofd.signatures              there is at least one signature
  ofd.sig[N].signature_xml    its Signature.xml parses (with its Type: Seal or Sign)
  ofd.sig[N].check_method     the References' digest algorithm is one we accept (SM3, SHA-256)
  ofd.sig[N].reference[/path] each protected file is present and hashes to its CheckValue
  ofd.sig[N].stamp            each StampAnnot names a page of the document and a sane boundary
  Type="Seal" (电子签章):
  ofd.sig[N].seal.*, ofd.sig[N].signature.*   the SES_Signature as verification.seal checks
                              it, with dataHash = hash of the Signature.xml bytes
  ofd.sig[N].seal_file        Seal.esl (when named) is exactly the seal inside the signature
  Type="Sign" (数字签名, not a seal):
  ofd.sig[N].digital_signature.*   format, content bound to Signature.xml, value, certificate,
                              time (signed_data.py)
  ofd.coverage                every file of the package is protected by some reference, except
                              the signature files themselves (Signatures.xml is deliberately
                              left out by signers so that more signatures can be added) and
                              OFD.xml when every DocRoot it names is protected (_check_coverage)

A protected file changed or removed is TOTAL_FAILED / HASH_FAILURE naming that file; a file no
signature protects is TOTAL_FAILED / SIG_CONSTRAINTS_FAILURE, as for PDFs (anything not covered
is rejected); an untrusted signer is INDETERMINATE / NO_CERTIFICATE_CHAIN_FOUND.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import math
from datetime import datetime
from typing import Iterable

from formats import algorithms as alg
from formats import oids
from verification.checks import OFD_SEAL, OfdCheck, embedded
from verification.licence_code import check_code
from verification.limits import MAX_OFD_REFERENCES, MAX_OFD_SIGNATURES, check_budget, over_cap
from verification.ofd import safexml
from verification.ofd.model import SEAL, Document, SignatureFile, read_documents, read_signature
from verification.ofd.package import OfdFormatError, OfdPackage, read_package
from verification.ofd.signed_data import SHA256, verify_plain
from verification.qr import QrTrust
from verification.report import Check, Report
from verification.seal import SealFormatError, SealTrust, parse_signature, verify_signature

# CheckMethod as producers write it: an OID or a name (ofdrw: "1.2.156.10197.1.401", "SM3").
CHECK_METHODS = {oids.SM3: alg.sm3, "sm3": alg.sm3, SHA256: alg.sha256, "sha256": alg.sha256,
                 "sha-256": alg.sha256}
MAX_LISTED = 10
ENTRY_FILE = "OFD.xml"


def verify_ofd(data: bytes, trust: SealTrust, at: datetime, *,
               known_signers: Iterable = (), code_trust: QrTrust | None = None) -> Report:
    """Report on the OFD package `data` as of `at` (timezone-aware).

    `known_signers`: certificates (asn1crypto or DER) the relying party already holds, used only
    for bare signature values that carry none (ofdrw's DigitalSignContainer).  `code_trust`: the
    QR trust that judges the licence's EL1 (`license-svc.code`, verification.licence_code)."""
    if not isinstance(at, datetime) or at.tzinfo is None:
        raise ValueError("`at` must be a timezone-aware datetime")
    report = Report(subject="ofd")
    try:
        _verify(report, data, trust, at, list(known_signers))
        check_code(report, report.licence, code_trust, at)
    except Exception as exc:  # noqa: BLE001 - last line of defence, reported not hidden
        report.add(OfdCheck.INTERNAL, False, f"验证过程出错 / verification error: "
                   f"{exc.__class__.__name__}: {str(exc)[:200]}", failure="GENERIC",
                   indeterminate=True)
    return report


def _verify(report: Report, data: bytes, trust: SealTrust, at: datetime,
            known_signers: list) -> None:
    try:
        pkg = read_package(data)
    except OfdFormatError as exc:
        report.fail_format(OfdCheck.PACKAGE, str(exc))
        return
    report.add(OfdCheck.PACKAGE, True, f"文件包完好，{len(pkg.files)} 个文件 / package intact, "
               f"{len(pkg.files)} files")
    try:
        documents = read_documents(pkg)
    except OfdFormatError as exc:
        report.fail_format(OfdCheck.STRUCTURE, str(exc))
        return
    report.add(OfdCheck.STRUCTURE, True, f"{len(documents)} 个文档 / {len(documents)} document(s)")
    entries = [(doc, entry) for doc in documents for entry in doc.entries]
    if not entries:
        report.fail_format(OfdCheck.SIGNATURES, "文档未签名 / the OFD has no signature")
        return
    if not _entries_within_caps(report, [entry for _doc, entry in entries]):
        return
    report.add(OfdCheck.SIGNATURES, True, f"{len(entries)} 个签名 / {len(entries)} signature(s)")
    covered: set[str] = set()
    exempt = {doc.signatures_path for doc in documents if doc.signatures_path}
    unreadable = references = 0
    for number, (doc, entry) in enumerate(entries, start=1):
        check_budget()
        exempt.add(entry.path)
        try:
            sig = read_signature(pkg, entry)
        except OfdFormatError as exc:
            report.fail_format(OfdCheck.SIG_SIGNATURE_XML.at(number), str(exc))
            unreadable += 1
            continue
        references += len(sig.references)
        if references > MAX_OFD_REFERENCES:
            report.fail_format(OfdCheck.SIG_REFERENCES.at(number), over_cap(
                "受保护文件引用（所有签名合计）", "references (all signatures together)", references,
                MAX_OFD_REFERENCES))
            return
        exempt.update(p for p in (sig.signed_value_path, sig.seal_path) if p)
        kind = "电子签章 / seal" if entry.type == SEAL else "数字签名 / plain digital signature"
        report.add(OfdCheck.SIG_SIGNATURE_XML.at(number), True, f"/{entry.path}：{kind}"
                   + (f"，ID {entry.id}" if entry.id else ""))
        covered.update(_check_references(report, number, pkg, sig))
        _check_stamps(report, number, doc, sig)
        if entry.type == SEAL:
            _check_seal_signature(report, number, pkg, sig, trust, at)
        else:
            _check_plain_signature(report, number, pkg, sig, trust, at, known_signers)
    if unreadable:  # what an unreadable signature protects is unknown: coverage cannot be judged
        report.notes.append("有签名无法读取，未检查文件覆盖范围 / a signature could not be read, so "
                            "coverage was not checked")
    else:
        _check_coverage(report, pkg, covered, exempt, documents)
    report.licence = _licence(report, pkg)


def _entries_within_caps(report: Report, entries: list) -> bool:
    """Each signature entry names its own Signature.xml, and there are not too many: entries
    sharing one file would make one set of references count (and be reported) again and
    again — 100 entries on one Signature.xml of 7,800 references gave 781,404 checks."""
    if len(entries) > MAX_OFD_SIGNATURES:
        report.fail_format(OfdCheck.SIGNATURES, over_cap("签名", "signatures", len(entries),
                                                         MAX_OFD_SIGNATURES))
        return False
    seen: set[str] = set()
    for entry in entries:
        if entry.path in seen:
            report.fail_format(OfdCheck.SIGNATURES, f"多个签名条目指向同一个签名描述文件 /{entry.path[:200]} "
                               f"/ several signature entries name the same /{entry.path[:200]}")
            return False
        seen.add(entry.path)
    return True


LICENCE_DATA = {"license-svc.identifier": "identifier", "license-svc.data_hash": "data_hash",
                "license-svc.hash_alg": "hash_alg", "license-svc.version": "version",
                "license-svc.code": "code"}  # the EL1, for verification.licence_code


def _licence(report: Report, pkg: OfdPackage) -> dict:
    """Which licence the file says it is: the CustomData our licence OFDs carry in OFD.xml's
    DocInfo (docs/ofd.md), the twin of a PDF's /LicenseSvc — read only when a signature's
    reference to OFD.xml held, so the identifier whose status is looked up is a signed one."""
    held = any(c.name.endswith(".reference[/OFD.xml]") and c.passed for c in report.checks)
    if not held:
        return {}
    try:
        ofd = safexml.parse(pkg.get("OFD.xml") or b"", "OFD.xml", "OFD")
    except OfdFormatError:
        return {}
    info = next((safexml.child(b, "DocInfo") for b in safexml.children(ofd, "DocBody")), None)
    datas = safexml.child(info, "CustomDatas") if info is not None else None
    out: dict = {}
    for item in safexml.children(datas, "CustomData") if datas is not None else ():
        key = LICENCE_DATA.get(item.get("Name") or "")
        if key is not None and item.text:
            out[key] = int(item.text) if key == "version" and item.text.isdigit() else item.text
    return out


def _check_references(report: Report, number: int, pkg: OfdPackage,
                      sig: SignatureFile) -> set[str]:
    """Each reference as its own check, so a clerk sees which file changed.  Returns the
    package names the signature protects."""
    digest = CHECK_METHODS.get((sig.check_method or "").lower())
    if digest is None:
        report.add(OfdCheck.SIG_CHECK_METHOD.at(number), False, f"不接受的摘要算法 / digest algorithm not "
                   f"accepted: {str(sig.check_method)[:60]}",
                   failure="CRYPTO_CONSTRAINTS_FAILURE_NO_POE", indeterminate=True)
    if not sig.references:
        report.add(OfdCheck.SIG_REFERENCES.at(number), False, "签名未保护任何文件 / the signature protects no "
                   "file", failure="SIG_CONSTRAINTS_FAILURE")
    protected, hashes = set(), {}
    for index, ref in enumerate(sig.references):
        if index % 100 == 0:
            check_budget()
        name = OfdCheck.SIG_REFERENCE.at(number, "/" + ref.path if ref.path else ref.file_ref[:100])
        if ref.path is None:
            report.fail_format(name, ref.problem or "无效路径 / bad location")
            continue
        protected.add(ref.path)
        content = pkg.get(ref.path)
        try:
            expected = base64.b64decode(ref.check_value, validate=True)
        except (binascii.Error, ValueError):
            report.fail_format(name, "CheckValue 不是 Base64 / CheckValue is not Base64")
            continue
        if content is None:
            report.add(name, False, "受保护的文件已被删除 / the protected file is missing",
                       failure="HASH_FAILURE")
            continue
        if digest is None:
            continue
        if ref.path not in hashes:  # a file listed many times is hashed once
            hashes[ref.path] = digest(content)
        if hmac.compare_digest(hashes[ref.path], expected):
            report.add(name, True, "摘要一致 / hash matches")
        else:
            report.add(name, False, "文件在签名后被改动（摘要不符）/ the file was changed after "
                       "signing (hash differs)", failure="HASH_FAILURE")
    return protected


def _check_stamps(report: Report, number: int, doc: Document, sig: SignatureFile) -> None:
    """Where the seal picture is shown (OFD draws it from the seal into this box on that page).
    Signature.xml is signed, so the position is protected; here it must also make sense."""
    if not sig.stamps:
        return
    shown, problems = [], []
    for stamp in sig.stamps:
        page = doc.pages.get((stamp.page_ref or "").strip())
        box = _boundary(stamp.boundary)
        if page is None:
            problems.append(f"PageRef {str(stamp.page_ref)[:20]!r} 不是文档中的页面 / is not a page")
        elif box is None:
            problems.append(f"Boundary {str(stamp.boundary)[:40]!r} 无效 / is not x y w h")
        else:
            shown.append({"signature": "/" + sig.path, "page": page[0], "boundary_mm": box})
    if problems:
        report.fail_format(OfdCheck.SIG_STAMP.at(number), "；".join(problems))
        return
    report.add(OfdCheck.SIG_STAMP.at(number), True, "；".join(
        f"第 {s['page']} 页 x={s['boundary_mm'][0]:g} y={s['boundary_mm'][1]:g} "
        f"宽 {s['boundary_mm'][2]:g} 高 {s['boundary_mm'][3]:g} mm / page {s['page']}"
        for s in shown))
    report.seal.setdefault("stamps", []).extend(shown)


def _boundary(text: str | None) -> list[float] | None:
    try:
        box = [float(v) for v in (text or "").split()]
    except ValueError:
        return None
    if len(box) != 4 or not all(math.isfinite(v) for v in box) or box[2] <= 0 or box[3] <= 0:
        return None
    return box


def _check_seal_signature(report: Report, number: int, pkg: OfdPackage, sig: SignatureFile,
                          trust: SealTrust, at: datetime) -> None:
    value = pkg.get(sig.signed_value_path)
    if value is None:
        report.fail_format(OfdCheck.SIG_SIGNED_VALUE.at(number), f"缺少签名值文件 / missing signed value "
                           f"/{sig.signed_value_path}")
        return
    sub = verify_signature(value, at=at, trust=trust, data=sig.xml)
    _merge(report, sub, number)
    if sig.seal_path is None:
        return
    seal_file = pkg.get(sig.seal_path)
    try:
        embedded = parse_signature(value).seal.der
    except SealFormatError:
        return  # already a format failure from verify_signature
    if seal_file is None:
        report.fail_format(OfdCheck.SIG_SEAL_FILE.at(number), f"缺少印章文件 / missing seal file /{sig.seal_path}")
    elif seal_file == embedded:
        report.add(OfdCheck.SIG_SEAL_FILE.at(number), True, "印章文件与签章数据中的印章一致 / the seal file is "
                   "the seal inside the signature")
    else:
        report.add(OfdCheck.SIG_SEAL_FILE.at(number), False, "印章文件与签章数据中的印章不一致 / the seal file "
                   "differs from the seal inside the signature", failure="SIG_CONSTRAINTS_FAILURE")


def _check_plain_signature(report: Report, number: int, pkg: OfdPackage, sig: SignatureFile,
                           trust: SealTrust, at: datetime, known_signers: list) -> None:
    value = pkg.get(sig.signed_value_path)
    if value is None:
        report.fail_format(OfdCheck.SIG_SIGNED_VALUE.at(number), f"缺少签名值文件 / missing signed value "
                           f"/{sig.signed_value_path}")
        return
    verify_plain(report, number, value, sig.xml, sig.date_time, trust,
                 at, known_signers)


def _merge(report: Report, sub: Report, number: int) -> None:
    report.checks.extend(Check(embedded(OFD_SEAL, c.name, number), c.passed, c.detail, c.failure,
                               c.indeterminate) for c in sub.checks)
    report.notes.extend(n for n in sub.notes if n not in report.notes)
    report.signatures.extend(sub.signatures)
    if not report.signer and sub.signer:
        report.signer = sub.signer
    if sub.seal and "es_id" not in report.seal:
        report.seal.update(sub.seal)


def _check_coverage(report: Report, pkg: OfdPackage, covered: set[str], exempt: set[str],
                    documents: list[Document]) -> None:
    """Every file must be protected by some signature, the signature files excepted — and the
    entry file OFD.xml too, when what it points to is protected.

    Why OFD.xml may be left out: what a reader sees is each DocBody's DocRoot document, its
    pages, templates and resources, and real signers (tax invoices among them) protect those
    but not the package's entry file.  With every file but OFD.xml protected, an unsigned
    OFD.xml can only point at protected documents (a DocRoot moved to a file of its own is a
    file no signature protects), so what is displayed stays what was signed; its DocInfo
    metadata is not, and the report says so."""
    loose = [name for name in pkg.files if name not in covered | exempt]
    roots = {doc.root_path for doc in documents}
    if ENTRY_FILE in loose and roots <= covered:
        loose.remove(ENTRY_FILE)
        report.notes.append("OFD.xml（入口文件）未受签名保护：显示的文档均受保护，但其中的文档元数据（DocInfo）"
                            "不可依赖 / OFD.xml (the entry file) is not signed: every displayed "
                            "document is protected, but its metadata (DocInfo) cannot be relied on")
    if not loose:
        report.add(OfdCheck.COVERAGE, True, "显示的文档及文件包中的每个文件都受签名保护 / every "
                   "displayed document and every file in the package is protected by a signature")
        return
    listed = ", ".join("/" + n for n in loose[:MAX_LISTED]) + (" …" if len(loose) > MAX_LISTED else "")
    report.add(OfdCheck.COVERAGE, False, f"{len(loose)} 个文件不受任何签名保护（签名后加入？）/ "
               f"{len(loose)} file(s) protected by no signature (added after signing?): {listed}",
               failure="SIG_CONSTRAINTS_FAILURE")

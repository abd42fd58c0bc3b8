"""Cryptographic and modification checks of each embedded signature, through pyHanko's
validator with our SM2-capable `SignatureValidator` (verification.certpath).

What we add on top of pyHanko's `bottom_line` (pdf-notes B.1.4): a strict diff policy (only DSS
and document-timestamp updates after a signature; form filling is not part of a licence), the
last signature must cover the whole file, every pyHanko exception is a failed check, and the
certificate is judged "as of" `at` with the signature timestamp as proof of existence (also for
the dated weak-algorithm policy, verification.algorithm_policy, which we apply ourselves rather
than let pyHanko fold a weak algorithm into "untrusted"): a
certificate expired (or revoked) at `at` still passes if a trusted timestamp shows the
signature existed while it was valid, and fails EXPIRED if the timestamp shows it was used
after expiry.

Speed: certificate paths (signer, TSA, with CRLs) were ~75 % of a verification and come out
the same for every licence of an issuer.  pyHanko runs them in full, as before, the first time
a (signer certificate, TSA certificate, certificates in the signature) combination is seen in a
time bucket of the trust material (verification.certpath.TrustStore); after that, when both
are remembered valid, pyHanko gets contexts that trust exactly those two certificates, and
checks everything else (integrity, signature values, timestamp imprint, diff analysis) as
always.  Anything unusual (several or content timestamps, an unreadable token) takes the full
path.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pyhanko.sign.ades.report import AdESFailure, AdESIndeterminate
from pyhanko.sign.diff_analysis import (CatalogModificationRule, DocInfoRule, DSSCompareRule,
                                        FormUpdatingRule, MetadataUpdateRule, ModificationLevel,
                                        ObjectStreamRule, SigFieldCreationRule,
                                        SigFieldModificationRule, StandardDiffPolicy,
                                        SuspiciousModification, XrefStreamRule)
from asn1crypto import core
from pyhanko.sign.validation import async_validate_pdf_signature, async_validate_pdf_timestamp
from pyhanko.sign.general import extract_certificate_info
from pyhanko.sign.validation.generic_cms import extract_tst_data_iter
from pyhanko.sign.validation.settings import KeyUsageConstraints
from pyhanko.sign.validation.status import SignatureCoverageLevel

from verification import certpath
from verification.algorithm_policy import CMS_UNJUDGED, judge, weakness
from verification.checks import PdfCheck
from verification.report import Report

_L = ModificationLevel.LTA_UPDATES
# pdf-notes B.1.4 item 3: DSS, document timestamps and metadata bookkeeping only.
STRICT_DIFF_POLICY = StandardDiffPolicy(
    global_rules=[CatalogModificationRule(), DocInfoRule().as_qualified(_L),
                  XrefStreamRule().as_qualified(_L), ObjectStreamRule().as_qualified(_L),
                  DSSCompareRule().as_qualified(_L), MetadataUpdateRule().as_qualified(_L)],
    form_rule=FormUpdatingRule(field_rules=[SigFieldCreationRule(), SigFieldModificationRule()]),
)
# Licence signer certificates carry nonRepudiation; some issuers set only digitalSignature.
KEY_USAGE = KeyUsageConstraints(key_usage={"non_repudiation", "digital_signature"},
                                match_all_key_usages=False)
# What a remembered success was validated for (TrustStore purposes): pyHanko's signer check
# with KEY_USAGE, and its timestamp check with the TSA defaults.
_SIGNER_PURPOSE = ("pdf-signer", "non_repudiation|digital_signature")
_TSA_PURPOSE = ("pdf-tsa", "time_stamping")

_POE_RECOVERABLE = {AdESIndeterminate.OUT_OF_BOUNDS_NO_POE, AdESIndeterminate.REVOKED_NO_POE,
                    AdESIndeterminate.OUT_OF_BOUNDS_NOT_REVOKED, AdESIndeterminate.EXPIRED}


@dataclass
class SignatureOutcome:
    status: object            # PdfSignatureStatus
    signing_time: datetime    # timestamp time if trusted, else `at`
    timestamped: bool


def stores(trust):
    """Trust stores (verification.certpath.TrustStore) of the signer and the TSA."""
    signer = trust.store_for(trust.signer_roots)
    return signer, trust.store_for(trust.tsa_roots or trust.signer_roots)


def contexts(trust, at: datetime):
    """Validation contexts for the signer and the TSA; one shared context when both trust the
    same roots, so CRL and path work done for one is reused for the other."""
    signer_store, tsa_store = stores(trust)
    signer = signer_store.validation_context(at)
    if tsa_store is signer_store:
        return signer, signer
    return signer, tsa_store.validation_context(at)


class _Contexts:
    """The contexts for one signature: anchored on the signer and TSA certificates when both
    are remembered valid for this signature's certificates in `at`'s time bucket, else the
    full contexts of `contexts()` — after which a success is remembered."""

    def __init__(self, emb, trust, at: datetime):
        self.at = at
        self.signer_store, self.tsa_store = stores(trust)
        try:
            self._look_up(emb)
        except Exception:  # malformed signature: pyHanko reports it, from the full contexts
            self.full, self.extras = True, None
            self.anchor = None
        if self.full:
            self.signer, self.tsa = contexts(trust, at)
        else:
            self.signer = certpath.anchored_context(self.cert, at)
            self.tsa = self.signer if self.tsa_cert is None else \
                certpath.anchored_context(self.tsa_cert, at)

    def _look_up(self, emb) -> None:
        self.cert = emb.signer_cert
        self.tsa_cert, tst_certs, usual = _signature_tsa(emb.signer_info)
        self.extras = [*embedded_certs(emb), *tst_certs]
        signer_ok = usual and self.signer_store.known_valid(
            _SIGNER_PURPOSE, self.cert, self.at, self.extras)
        self.anchor = signer_ok if isinstance(signer_ok, str) else None
        tsa_ok = self.tsa_cert is None or self.tsa_store.known_valid(
            _TSA_PURPOSE, self.tsa_cert, self.at, self.extras)
        self.full = not (signer_ok and tsa_ok)

    def remember(self, st) -> None:
        if not self.full or self.extras is None:
            return
        if st.trusted:  # remembered with the anchor the full run found, for the report
            self.signer_store.remember_valid(_SIGNER_PURPOSE, self.cert, self.at, self.extras,
                                             anchor_name(st) or True)
        tst = st.timestamp_validity
        if self.tsa_cert is not None and tst is not None and tst.trusted and \
                tst.signing_cert.dump() == self.tsa_cert.dump():
            self.tsa_store.remember_valid(_TSA_PURPOSE, self.tsa_cert, self.at, self.extras)


def _signature_tsa(signer_info):
    """(TSA certificate, certificates in the token, usual?) of the signature timestamp, as
    pyHanko will pick them; "usual" means no content timestamp and at most one readable
    signature timestamp — anything else always gets the full contexts."""
    try:
        if list(extract_tst_data_iter(signer_info, signed=True)):
            return None, [], False
        tokens = list(extract_tst_data_iter(signer_info, signed=False))
        if not tokens:
            return None, [], True
        if len(tokens) > 1:
            return None, [], False
        info = extract_certificate_info(tokens[0])
        return info.signer_cert, [info.signer_cert, *info.other_certs], True
    except Exception:  # pyHanko will report it; we just do not take the short cut
        return None, [], False


async def check_document_timestamp(report: Report, emb, trust, at: datetime) -> None:
    _, ts_vc = contexts(trust, at)
    st = await async_validate_pdf_timestamp(emb, ts_vc, diff_policy=STRICT_DIFF_POLICY)
    ok = st.intact and st.valid and st.trusted
    report.add(PdfCheck.DOCUMENT_TIMESTAMP, ok,
               f"文档时间戳 {st.timestamp:%Y-%m-%d %H:%M:%S}Z / document timestamp" if ok else
               "文档时间戳无效或不可信 / document timestamp invalid or untrusted",
               failure=None if ok else ("HASH_FAILURE" if not st.intact else
                                        "SIG_CRYPTO_FAILURE" if not st.valid else
                                        "NO_CERTIFICATE_CHAIN_FOUND"),
               indeterminate=st.intact and st.valid)


async def check_signature(report: Report, emb, trust, at: datetime, *,
                          last: bool, signed_after: bool = False) -> SignatureOutcome:
    ctx = _Contexts(emb, trust, at)
    st = await async_validate_pdf_signature(emb, ctx.signer, ts_validation_context=ctx.tsa,
                                            diff_policy=STRICT_DIFF_POLICY,
                                            key_usage_settings=KEY_USAGE,
                                            algorithm_policy=CMS_UNJUDGED)
    ctx.remember(st)
    _integrity(report, st)
    _coverage(report, st, last)
    _modifications(report, st, signed_after and not last)
    ts_time = _timestamp(report, st, at)
    _algorithms(report, st, emb, ts_time, at)
    # On the short cut pyHanko's anchor is the signer itself: name the one remembered.
    anchor = anchor_name(st) if ctx.full else ctx.anchor
    await _certificate(report, st, emb, trust, at, ts_time, anchor)
    return SignatureOutcome(st, ts_time or at, ts_time is not None)


def _integrity(report: Report, st) -> None:
    report.add(PdfCheck.INTEGRITY, st.intact,
               "签名范围内的内容未被修改（摘要一致）/ signed bytes intact (digest matches)"
               if st.intact else "签名范围内的内容已被修改 / signed bytes changed (digest mismatch)",
               failure="HASH_FAILURE")
    report.add(PdfCheck.SIGNATURE_VALUE, st.valid,
               f"签名值有效（{st.md_algorithm}）/ signature value valid ({st.md_algorithm})"
               if st.valid else "签名值无效 / signature value does not verify",
               failure="SIG_CRYPTO_FAILURE")


def _coverage(report: Report, st, last: bool) -> None:
    cov = st.coverage
    level = st.modification_level
    if cov == SignatureCoverageLevel.ENTIRE_FILE:
        ok, detail = True, "签名覆盖整个文件 / the signature covers the entire file"
    elif cov == SignatureCoverageLevel.ENTIRE_REVISION and (
            not last or (level is not None and level <= _L)):
        ok, detail = True, ("签名覆盖其修订版本，之后仅有长期验证数据 / covers its revision; only "
                            "validation data / document timestamps follow")
    else:
        ok, detail = False, (f"签名未覆盖整个文件（{cov.name if cov else '未知'}）/ the signature does "
                             f"not cover the file ({cov.name if cov else 'unknown'})")
    report.add(PdfCheck.COVERAGE, ok, detail, failure="SIG_CONSTRAINTS_FAILURE")


def _modifications(report: Report, st, signed_after: bool = False) -> None:
    """`signed_after`: later revisions may add signature fields (FORM_FILLING under the strict
    policy means nothing else) because every signature field of the file is filled — each by a
    signature this report checks too.  That is a document stamped by several organisations in
    turn (signing.pdf.stamp_document); an empty field's appearance overlaying the page is not."""
    diff = st.diff_result
    level = st.modification_level
    allowed = ModificationLevel.FORM_FILLING if signed_after else _L
    if isinstance(diff, SuspiciousModification) or level is None and st.coverage != \
            SignatureCoverageLevel.ENTIRE_FILE:
        ok, detail = False, f"签名后存在不允许的修改 / disallowed change after signing: {diff}"
    elif level is not None and (level > allowed or not st.docmdp_ok):
        ok, detail = False, (f"签名后的修改超出证书签名（DocMDP）允许范围：{_CHANGES_ZH[level.name]} / "
                             f"changes after signing exceed what the certification allows: "
                             f"{level.name}")
    else:
        name = level.name if level is not None else "NONE"
        ok, detail = True, f"签名后{_CHANGES_ZH[name]} / after signing: {_CHANGES_EN[name]}"
    report.add(PdfCheck.MODIFICATIONS, ok, detail, failure="SIG_CONSTRAINTS_FAILURE")


# pyHanko's ModificationLevel names, in the words a clerk reads.
_CHANGES_ZH = {"NONE": "无任何修改", "LTA_UPDATES": "仅追加了长期验证数据或文档时间戳",
               "FORM_FILLING": "仅填写了表单域（含追加签章）", "ANNOTATIONS": "添加了注释",
               "OTHER": "有其他修改"}
_CHANGES_EN = {"NONE": "no changes", "LTA_UPDATES": "only validation data or document "
               "timestamps added", "FORM_FILLING": "only form fields filled (later signatures)",
               "ANNOTATIONS": "annotations added", "OTHER": "other changes"}


def _algorithms(report: Report, st, emb, ts_time: datetime | None, at: datetime) -> None:
    """The signer's digest, signature mechanism and key under the dated algorithm policy,
    with the signature timestamp as proof of existence (verification.algorithm_policy)."""
    mechanism = emb.signer_info["signature_algorithm"]
    try:
        implied = mechanism.hash_algo  # ed448 → shake256, sha256_rsa → sha256; none for PSS, SM2
    except (ValueError, KeyError):
        implied = None
    if implied and st.md_algorithm and implied != st.md_algorithm.lower():
        # Not weak but malformed: the message digest is not the one the mechanism is defined
        # with (RFC 8419 for EdDSA, RFC 5754 for the rest) — never allowed, whatever the date.
        report.add(PdfCheck.ALGORITHMS, False, f"摘要算法 {st.md_algorithm} 与签名算法 "
                   f"{mechanism['algorithm'].native} 不符 / message digest {st.md_algorithm} does not "
                   f"match the signature algorithm {mechanism['algorithm'].native}",
                   failure="CRYPTO_CONSTRAINTS_FAILURE", indeterminate=True)
        return
    weak = weakness(st.md_algorithm, mechanism, emb.signer_cert.public_key)
    verdict = judge(weak, ts_time, at)
    report.add(PdfCheck.ALGORITHMS, verdict.ok, verdict.detail, failure=verdict.failure,
               indeterminate=verdict.indeterminate)


def _timestamp(report: Report, st, at: datetime) -> datetime | None:
    tst = st.timestamp_validity
    if tst is None:
        report.notes.append("签名无时间戳（PAdES B-B），签名时间仅为签名者自述 / no signature "
                            "timestamp (B-B): the signing time is only claimed")
        return None
    if not (tst.intact and tst.valid):
        report.add(PdfCheck.TIMESTAMP, False, "签名时间戳无效 / signature timestamp does not verify",
                   failure="SIG_CRYPTO_FAILURE")
        return None
    if not tst.trusted:
        report.add(PdfCheck.TIMESTAMP, False, "签名时间戳来自不可信的时间戳服务 / timestamp from an "
                   "untrusted TSA", failure="NO_CERTIFICATE_CHAIN_FOUND", indeterminate=True)
        return None
    tsa = tst.signing_cert
    if not tsa.not_valid_before <= tst.timestamp <= tsa.not_valid_after:
        # pyHanko judges the TSA's certificate at `at` only: a token dated before its TSA's
        # certificate existed would otherwise "prove" an early signing time (and save a
        # signature made with an algorithm refused since).
        report.add(PdfCheck.TIMESTAMP, False, f"时间戳时间 {tst.timestamp:%Y-%m-%d} 不在时间戳证书有效期内"
                   f" / the timestamp's time is outside its TSA certificate's validity "
                   f"({tsa.not_valid_before:%Y-%m-%d} – {tsa.not_valid_after:%Y-%m-%d})",
                   failure="SIG_CONSTRAINTS_FAILURE")
        return None
    weak = weakness(tst.md_algorithm, None, tsa.public_key)
    verdict = judge(weak, None, at)
    if not verdict.ok:  # a weak timestamp proves nothing
        report.add(PdfCheck.TIMESTAMP, False, f"签名时间戳算法 / signature timestamp algorithms: "
                   f"{verdict.detail}", failure=verdict.failure, indeterminate=True)
        return None
    report.add(PdfCheck.TIMESTAMP, True, f"签名时间戳 {tst.timestamp:%Y-%m-%d %H:%M:%S}Z / signature "
               f"timestamp (TSA {tst.signing_cert.subject.human_friendly})")
    return tst.timestamp


def anchor_name(st) -> str | None:
    """The trust anchor of a signature's validated path, as the report names it."""
    try:
        return st.validation_path.trust_anchor.authority.name.human_friendly
    except Exception:  # no path (untrusted) or an anchor without a name
        return None


async def _certificate(report: Report, st, emb, trust, at: datetime,
                       ts_time: datetime | None, anchor: str | None = None) -> None:
    cert = emb.signer_cert
    if st.trusted and not st.revoked:
        named = f"；信任锚 / anchor: {anchor}" if anchor else ""
        report.add(PdfCheck.CERTIFICATE_PATH, True, f"签名证书链可信（截至 {at:%Y-%m-%d}）/ signer "
                   f"certificate trusted as of {at:%Y-%m-%d}{named}")
        return
    indic = st.trust_problem_indic
    not_after = cert["tbs_certificate"]["validity"]["not_after"].native
    expired = at > not_after
    if not (st.intact and st.valid) or (indic is not None and
                                        indic.name.startswith("CRYPTO_CONSTRAINTS")):
        # pyHanko does not judge the path of a signature that does not verify ("untrusted"
        # with no reason): judge it on its own, so a tampered file is not blamed on a
        # certificate that is fine (issue 14).  A weak algorithm in the path: our own run
        # names the algorithm and the policy date.
        when = ts_time if expired and ts_time is not None and ts_time <= not_after else at
        result = await stores(trust)[0].async_validate(
            cert, at=when, extra_intermediates=embedded_certs(emb))
        result.add_to(report, PdfCheck.CERTIFICATE_PATH)
        return
    if ts_time is not None and (expired or indic in _POE_RECOVERABLE or st.revoked):
        if expired and ts_time > not_after:
            report.add(PdfCheck.CERTIFICATE_PATH, False, f"时间戳证明签名晚于证书到期（{not_after:%Y-%m-%d}）"
                       f"/ the timestamp shows the certificate was used after it expired",
                       failure="EXPIRED")
            return
        # The timestamp is proof of existence: judge the certificate at that time.
        result = await stores(trust)[0].async_validate(
            cert, at=ts_time, extra_intermediates=embedded_certs(emb))
        result.add_to(report, PdfCheck.CERTIFICATE_PATH)
        return
    if expired:
        report.add(PdfCheck.CERTIFICATE_PATH, False, f"签名证书已于 {not_after:%Y-%m-%d} 过期，且无时间戳证明"
                   f" / signer certificate expired on {not_after:%Y-%m-%d}, no proof of existence "
                   "before that", failure="OUT_OF_BOUNDS_NO_POE", indeterminate=True)
        return
    code, hard = _classify(indic, st)
    report.add(PdfCheck.CERTIFICATE_PATH, False, _PATH_TEXT.get(code, _PATH_TEXT["GENERIC"]),
               failure=code, indeterminate=not hard)


def embedded_certs(emb) -> list:
    """The certificates of the signature's CMS, every one parsed in full (a malformed one
    raises, as `.native` of the whole set did, but known DER is not parsed again)."""
    certs = emb.signed_data["certificates"]
    if isinstance(certs, core.Void):
        return []
    for choice in certs:
        certpath.ensure_parsed(choice.chosen if choice.name == "certificate" else choice)
    return [c.chosen for c in certs if c.name == "certificate"]


def _classify(indic, st) -> tuple[str, bool]:
    if st.revoked:
        return "REVOKED", True
    if isinstance(indic, AdESFailure):
        return indic.name, True
    if isinstance(indic, AdESIndeterminate):
        return indic.name, False
    return "NO_CERTIFICATE_CHAIN_FOUND", False


_PATH_TEXT = {
    "NO_CERTIFICATE_CHAIN_FOUND": "签名证书无法链接到可信根证书 / no path from the signer to a trusted root",
    "REVOKED": "签名证书已被撤销 / the signer certificate is revoked",
    "NOT_YET_VALID": "签名证书尚未生效 / the signer certificate is not yet valid",
    "CHAIN_CONSTRAINTS_FAILURE": "证书链不满足约束（密钥用途等）/ the path violates a constraint (key usage…)",
    "TRY_LATER": "缺少有效的撤销信息 / no usable revocation information",
    "OUT_OF_BOUNDS_NO_POE": "证书已过期且无存在性证明 / certificate expired, no proof of existence",
    "GENERIC": "签名证书验证失败 / signer certificate validation failed",
}


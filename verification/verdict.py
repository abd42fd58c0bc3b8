"""The verdict a clerk acts on, derived from a Report: valid, invalid, suspended, revoked,
expired or undetermined, with one Chinese sentence that says what to do.

Why a second conclusion beside the ETSI indication: EN 319 102-1 judges signatures, and in
its vocabulary a genuine but suspended licence is INDETERMINATE / TRY_LATER (a suspension may
be lifted) — which a clerk read as "the system is down, try again" (issue 16).  The indication
stays in every report for programs (DESIGN §10); the verdict is the same evidence read as a
licence question: is this the issuer's genuine licence, and may I accept it today?

The rule, in order:
1. a hard failure of any check other than the licence status → `invalid` (forged, tampered,
   untrusted signer, stale or replayed 亮证码): the status of a licence the document only
   claims to be does not matter — except an EL1 past its exp when the licence itself has
   ended (an EL1 lapses with its licence), which is the expiry of rule 2;
2. the issuer's register says revoked / suspended / expired → that verdict, with the reason
   and date the register gave ("原因未公布" when its answer carried none); a licence whose
   end date (`about.valid_until`, from the register or the signed claims) has passed as of
   `report.at` is expired even where the status source does not say so (status lists carry
   no expiry);
3. anything that could not be established → `undetermined`;
4. otherwise `valid` (a superseded version is still the issuer's genuine document: valid,
   and the sentence says which version replaced it).

The facts the sentence quotes (reason, date, validity) come from `report.about`, which the
service fills (license_svc.verdict_context); without them the verdict is the same and the
sentence says less.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from verification.checks import PdfCheck, QrCheck, ServiceCheck, StatusCheck, chinese

VALID, INVALID, SUSPENDED, REVOKED, EXPIRED, UNDETERMINED = (
    "valid", "invalid", "suspended", "revoked", "expired", "undetermined")
VERDICTS = (VALID, INVALID, SUSPENDED, REVOKED, EXPIRED, UNDETERMINED)
VERDICT_ZH = {VALID: "有效", INVALID: "无效", SUSPENDED: "已暂停", REVOKED: "已撤销",
              EXPIRED: "已过期", UNDETERMINED: "无法确定"}
# Where the licence status is checked; every other check is about the document itself.
STATUS_CHECKS = frozenset({PdfCheck.LICENCE_STATUS.value, StatusCheck.LICENCE.value})
# A 亮证码 that failed only because it is old or already scanned: the holder can fix that.
_PRESENTATION_CHECKS = frozenset({QrCheck.EP1_FRESHNESS.value,
                                  ServiceCheck.PRESENTATION_REPLAY.value})
_STATUS_VERDICT = {"revoked": REVOKED, "suspended": SUSPENDED, "expired": EXPIRED}
NO_REASON = "原因未公布"
# EN 319 102-1 sub-indications in Chinese (the report, the HTML page and the verify page show
# them under the verdict); here because the verdict sentences quote them.
SUBINDICATION_ZH = {
    "FORMAT_FAILURE": "格式错误", "HASH_FAILURE": "内容已被篡改（摘要不符）",
    "SIG_CRYPTO_FAILURE": "签名值无效", "REVOKED": "已撤销", "EXPIRED": "已过期",
    "NOT_YET_VALID": "尚未生效", "SIG_CONSTRAINTS_FAILURE": "不符合签名策略",
    "CHAIN_CONSTRAINTS_FAILURE": "证书链不符合约束",
    "NO_CERTIFICATE_CHAIN_FOUND": "未找到可信证书链", "TRY_LATER": "请稍后重试",
    "OUT_OF_BOUNDS_NO_POE": "证书已过期且无存在性证明", "SIGNED_DATA_NOT_FOUND": "未找到被签名数据",
    "GENERIC": "其他原因", "CERTIFICATE_CHAIN_GENERAL_FAILURE": "证书链验证出错",
    "SUSPENDED": "已暂停", "SUPERSEDED": "已被新版本取代",
    "CRYPTO_CONSTRAINTS_FAILURE": "所用算法在签名时已不被接受",
    "CRYPTO_CONSTRAINTS_FAILURE_NO_POE": "所用算法已不被接受，且无证据表明签名早于停用日期",
}
CHINA = timezone(timedelta(hours=8))


@dataclass(frozen=True)
class Verdict:
    code: str   # one of VERDICTS
    text: str   # Chinese: the verdict's name, a full stop, one sentence saying what to do

    @property
    def name_zh(self) -> str:
        return VERDICT_ZH[self.code]


def day(value) -> str | None:
    """The calendar day (China time) of an ISO date or time, as YYYY-MM-DD; None if unreadable."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(CHINA)
    return moment.date().isoformat()


def _ended(about: dict, at: datetime | None) -> str | None:
    """The licence's end day if it has passed as of `at`."""
    end = day(about.get("valid_until"))
    if end is None or at is None:
        return None
    return end if at.astimezone(CHINA).date().isoformat() > end else None


def verdict_of(report) -> Verdict:
    """The verdict of `report` (a verification.report.Report), by the rule above."""
    about = report.about or {}
    failed = [c for c in report.checks if not c.passed]
    if not report.checks:
        return Verdict(UNDETERMINED, "无法确定。没有可检查的内容，请确认上传的是电子证照文件或二维码。")
    status = str(report.licence.get("status") or about.get("status") or "")
    code = _STATUS_VERDICT.get(status)
    if code is None and _ended(about, report.at):
        code = EXPIRED
    # An EL1 lapses with the licence (its exp is at most the licence's end): when the licence
    # itself has ended, that failure is the expiry, not a fault of the code.
    hard = [c for c in failed if not c.indeterminate and c.name not in STATUS_CHECKS
            and not (code == EXPIRED and c.name == QrCheck.EL1_LICENCE_VALIDITY.value
                     and c.failure == "EXPIRED")]
    if hard:
        return Verdict(INVALID, _invalid_text(hard))
    if code is not None:
        return Verdict(code, _status_text(code, about))
    if failed:
        return Verdict(UNDETERMINED, _undetermined_text(report, failed))
    if report.subject == "not-a-licence":
        return Verdict(UNDETERMINED, "无法确定。这不是电子证照二维码。")
    if status == "superseded":
        newer = report.licence.get("superseded_by") or about.get("superseded_by")
        return Verdict(VALID, "有效。签名真实，但此版本已被新版本取代" + (f"（{newer}）" if newer else "")
                       + "，请以新版本为准。")
    if not (report.licence.get("id") or report.licence.get("identifier")):
        # A seal, a department's stamped document, an audit export: no licence status applies.
        return Verdict(VALID, "有效。签名真实、内容未被篡改。")
    if not status:
        return Verdict(VALID, "有效。签名真实、内容未被篡改；未查询证照状态，如需确认请联网核验。")
    return Verdict(VALID, "有效。电子证照真实、未被篡改，状态有效，可以受理。")


def _invalid_text(hard) -> str:
    if all(c.name in _PRESENTATION_CHECKS for c in hard):
        return "无效。亮证码已失效（超过有效时间或已被扫描过），请持证人刷新后重新出示。"
    first = hard[0]
    why = SUBINDICATION_ZH.get(first.failure or "FORMAT_FAILURE", "")
    title = chinese(first.name) or "检查"
    return f"无效。{title}未通过" + (f"（{why}）" if why else "") + "，不能受理，请向签发机构核实。"


def _status_text(code: str, about: dict) -> str:
    reason = about.get("status_reason") or NO_REASON
    since = day(about.get("status_since"))
    if code == SUSPENDED:
        when = f"自 {since} 起" if since else ""
        return f"已暂停。该证照{when}暂停使用，原因：{reason}；暂停期间不能受理，请持证人联系签发机构。"
    if code == REVOKED:
        when = f"已于 {since} " if since else "已"
        return f"已撤销。该证照{when}被撤销，原因：{reason}；不能受理。"
    end = day(about.get("valid_until"))
    return f"已过期。该证照有效期{'至 ' + end + ' ' if end else ''}已届满，不能受理，请持证人办理换证。"


def _undetermined_text(report, failed) -> str:
    first = failed[0]
    title = chinese(first.name) or "检查"
    why = SUBINDICATION_ZH.get(first.failure or "GENERIC", "")
    if first.failure == "TRY_LATER":
        return f"无法确定。{title}暂时无法查询，请稍后重试或联系签发机构核实。"
    return f"无法确定。{title}无法确认" + (f"（{why}）" if why else "") + "，请联系签发机构核实。"


def exit_code(verdict: Verdict) -> int:
    """`license-svc verify`'s exit code (docs/verification.md "Exit codes"): 0 only for a licence
    that may be accepted; 1 for one that must not be (invalid, revoked, expired, suspended);
    2 when it cannot be told (try later); 3 (unreadable input) is the CLI's own."""
    return {VALID: 0, UNDETERMINED: 2}.get(verdict.code, 1)

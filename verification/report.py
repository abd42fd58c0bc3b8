"""Verification reports in the vocabulary of ETSI EN 319 102-1.

Every verifier (PDF, seal, QR, audit) returns a `Report`: a list of named checks, each passed or
failed with a detail a clerk can read, and an indication derived from them.  A verifier never
raises for bad input: it records a failed check with FORMAT_FAILURE instead.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from verification.checks import chinese

TOTAL_PASSED = "TOTAL_PASSED"
TOTAL_FAILED = "TOTAL_FAILED"
INDETERMINATE = "INDETERMINATE"

# Sub-indications (EN 319 102-1 §5.1.3), grouped by the main indication they belong to.
FAILED_SUBINDICATIONS = {
    "FORMAT_FAILURE", "HASH_FAILURE", "SIG_CRYPTO_FAILURE", "REVOKED", "EXPIRED",
    "NOT_YET_VALID", "SIG_CONSTRAINTS_FAILURE", "CHAIN_CONSTRAINTS_FAILURE",
}
INDETERMINATE_SUBINDICATIONS = {
    "NO_CERTIFICATE_CHAIN_FOUND", "TRY_LATER", "OUT_OF_BOUNDS_NO_POE", "NO_POE",
    "REVOKED_NO_POE", "CRYPTO_CONSTRAINTS_FAILURE_NO_POE", "SIGNED_DATA_NOT_FOUND",
    "GENERIC", "CERTIFICATE_CHAIN_GENERAL_FAILURE",
}

INDICATION_ZH = {TOTAL_PASSED: "验证通过", TOTAL_FAILED: "验证失败", INDETERMINATE: "无法确定"}
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


@dataclass
class Check:
    """One named step.  `failure` is the sub-indication this check implies when it fails;
    `indeterminate` marks a check whose failure means "cannot tell" rather than "bad"."""

    name: str
    passed: bool
    detail: str = ""
    failure: str | None = None
    indeterminate: bool = False

    @property
    def title_zh(self) -> str:
        """The check's Chinese title (verification.checks), for people; `name` is for programs."""
        return chinese(self.name)

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "title_zh": self.title_zh, "passed": self.passed,
                "detail": self.detail}


@dataclass(frozen=True)
class Signed:
    """What one verified signature stands on, for the checks that need trust-list facts
    (identity binding, withdrawal — verification.listing): the certificate that signed, in which
    trust-list role, the time the signer claims (EL1 iat, CMS signing time, seal time: evidence
    the key holder controls) and, when another key proved it, the time before which the
    signature existed (a verified timestamp by a listed TSA)."""

    role: str                          # trust-list role: licence_signer, node, seal_maker
    cert_der: bytes
    claimed_at: datetime | None = None
    proven_before: datetime | None = None
    proof: str | None = None           # who proved it, for the report
    region: str | None = None          # the region the signed content claims (EL1 r, EP1 iss)
    claims: Any = None                 # an EL1's licence claims (digested only when compared)


@dataclass
class Report:
    subject: str = ""  # what was verified: "pdf", "seal", "signature", "qr", ...
    checks: list[Check] = field(default_factory=list)
    licence: dict[str, Any] = field(default_factory=dict)
    signer: dict[str, Any] = field(default_factory=dict)
    seal: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # e.g. leniencies applied while parsing
    # The signatures the checks above verified, for verification.listing (not serialised).
    signatures: list[Signed] = field(default_factory=list, repr=False)

    def add(self, name: str, passed: bool, detail: str = "", *, failure: str | None = None,
            indeterminate: bool = False) -> bool:
        """`name`: a member of an enumeration in verification.checks (or `.at(...)` of one).
        Kept as a plain string, so reports compare, print and serialise like before."""
        self.checks.append(Check(str(name), bool(passed), detail, failure, indeterminate))
        return bool(passed)

    def fail_format(self, name: str, detail: str) -> "Report":
        self.add(name, False, detail, failure="FORMAT_FAILURE")
        return self

    def check(self, name: str) -> Check | None:
        return next((c for c in self.checks if c.name == name), None)

    @property
    def indication(self) -> str:
        failed = [c for c in self.checks if not c.passed]
        if not self.checks:
            return INDETERMINATE
        if any(not c.indeterminate for c in failed):
            return TOTAL_FAILED
        if failed:
            return INDETERMINATE
        return TOTAL_PASSED

    @property
    def sub_indication(self) -> str | None:
        failed = [c for c in self.checks if not c.passed]
        hard = [c for c in failed if not c.indeterminate]
        for c in hard or failed:
            return c.failure or ("GENERIC" if c.indeterminate else "FORMAT_FAILURE")
        return None

    def as_dict(self) -> dict[str, Any]:
        return {
            "indication": self.indication,
            "sub_indication": self.sub_indication,
            "subject": self.subject,
            "checks": [c.as_dict() for c in self.checks],
            "licence": self.licence,
            "signer": self.signer,
            "seal": self.seal,
            "notes": self.notes,
        }

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), ensure_ascii=False, indent=2, default=str)

    def to_text(self) -> str:
        """Plain Chinese for a clerk at a terminal."""
        ind = self.indication
        lines = [f"结论：{INDICATION_ZH[ind]}（{ind}）"]
        if self.sub_indication:
            lines[0] += f"，原因：{SUBINDICATION_ZH.get(self.sub_indication, self.sub_indication)}" \
                        f"（{self.sub_indication}）"
        for c in self.checks:
            title = f"{c.title_zh} " if c.title_zh else ""
            lines.append(f"  [{'通过' if c.passed else '未通过'}] {title}{c.name}"
                         + (f"：{c.detail}" if c.detail else ""))
        for n in self.notes:
            lines.append(f"  注：{n}")
        return "\n".join(lines)


def exit_code(report: Report) -> int:
    """docs/api.md: 0 TOTAL_PASSED, 1 TOTAL_FAILED, 2 INDETERMINATE (3 is for unreadable input)."""
    return {TOTAL_PASSED: 0, TOTAL_FAILED: 1, INDETERMINATE: 2}[report.indication]



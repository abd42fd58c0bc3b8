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
from verification.verdict import SUBINDICATION_ZH, Verdict, day, verdict_of
from verification.verdict import exit_code as _verdict_exit

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
    # Who and what, for people (license_svc.verdict_context): type name, number, masked holder,
    # issuer and region names, validity from the licence record, status reason and date.
    about: dict[str, Any] = field(default_factory=dict)
    # The moment the report judges (an expired licence is judged against it; not serialised).
    at: datetime | None = field(default=None, repr=False)
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

    @property
    def verdict(self) -> Verdict:
        """What a clerk acts on (verification.verdict); the indication stays for programs."""
        return verdict_of(self)

    def as_dict(self) -> dict[str, Any]:
        """DESIGN §10's keys, after the verdict and `about` a person reads first."""
        verdict = self.verdict
        return {
            "verdict": verdict.code,
            "verdict_text": verdict.text,
            "about": self.about,
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
        """Plain Chinese for a clerk at a terminal: the verdict, who and what, then the ETSI
        indication and every check."""
        ind = self.indication
        lines = [f"结论：{self.verdict.text}"]
        lines += [f"{label}：{value}" for label, value in about_lines(self.about)]
        etsi = f"ETSI 结论：{INDICATION_ZH[ind]}（{ind}）"
        if self.sub_indication:
            etsi += f"，原因：{SUBINDICATION_ZH.get(self.sub_indication, self.sub_indication)}" \
                    f"（{self.sub_indication}）"
        lines.append(etsi)
        for c in self.checks:
            title = f"{c.title_zh} " if c.title_zh else ""
            lines.append(f"  [{'通过' if c.passed else '未通过'}] {title}{c.name}"
                         + (f"：{c.detail}" if c.detail else ""))
        for n in self.notes:
            lines.append(f"  注：{n}")
        return "\n".join(lines)


# The `about` rows people read, in order: (key, Chinese label).
ABOUT_ZH = (("type_name", "证照类型"), ("number", "证照编号"), ("holder", "持证主体"),
            ("holder_code", "持证主体代码"), ("issuer_name", "签发机构"), ("region_name", "签发地区"),
            ("validity", "有效期"), ("status_name", "证照状态"), ("status_reason", "状态原因"),
            ("status_since", "状态变更时间"), ("version", "版本"))


def about_lines(about: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, value) for each known `about` fact, in reading order (text and HTML reports)."""
    out = []
    for key, label in ABOUT_ZH:
        value = about.get(key)
        if value in (None, ""):
            continue
        if key == "version":
            value = f"第 {value} 版"
        elif key == "status_since":
            value = day(value) or value
        out.append((label, str(value)))
    return out


def exit_code(report: Report) -> int:
    """0 valid, 1 must not be accepted (invalid, revoked, expired, suspended), 2 cannot tell;
    3 (unreadable input) is the CLI's own.  docs/verification.md "Exit codes" says how this
    departs from DESIGN's indication-based codes."""
    return _verdict_exit(report.verdict)

"""Caps and the time budget that keep one verification's cost linear in its input and bounded.

Why caps: the libraries we verify with do work that grows faster than the input for some
shapes of file.  pyHanko's difference analysis looks at every revision against every earlier
one (an outside attack appended 5,000 empty revisions to a genuine licence: 78 s), and an OFD
may name one Signature.xml from many signature entries, each listing thousands of references
(781,404 checks and a 73 MB report from 31 KB).  Real licences carry a handful of revisions,
signatures and references, so each count is capped far above what a genuine document uses and
checked *before* the expensive step, by a scan that is itself linear.  Going over a cap is a
FORMAT_FAILURE whose detail names the cap (`over_cap`).

Why a budget as well: the caps bound the worst case, but what a verification costs also
depends on the machine and its load.  Each verification runs under a deadline (`budget`); the
verifiers call `check_budget()` between steps (per revision, signature, reference) and, once the
deadline has passed, `BudgetExceeded` unwinds the verification and the dispatcher answers
INDETERMINATE / TRY_LATER (`report_budget_exceeded`) — never a crash, never a held worker
beyond one step's bounded cost.  The checks are cooperative: a thread cannot be killed, and a
process per request would cost more than most verifications (docs/security.md).
"""

from __future__ import annotations

import contextvars
import time
from contextlib import contextmanager

from verification.checks import LimitCheck
from verification.report import Report

# PDF (verification/pdf/structure.py): a licence has its original revision, the signature's,
# and perhaps a document timestamp's and a DSS's; amendments issue a new PDF.
MAX_PDF_REVISIONS = 32
MAX_PDF_OBJECTS = 10_000           # xref entries over all revisions (a licence has ~20)
MAX_PDF_SIGNATURES = 8            # signature dictionaries (/Type /Sig or /DocTimeStamp)
# OFD (verification/ofd/verify.py): an invoice carries one or two signatures over ~20 files.
MAX_OFD_SIGNATURES = 32
MAX_OFD_REFERENCES = 2_000         # over all signatures together
# Any report: what a clerk can read and a response may carry.
MAX_CHECKS = 5_000
MAX_REPORT_BYTES = 1024 * 1024

DEFAULT_BUDGET_SECONDS = 20.0

_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "verification_deadline", default=None)


class BudgetExceeded(BaseException):
    """The verification's time budget ran out.  A BaseException (like asyncio's
    CancelledError) so that the verifiers' and libraries' `except Exception` last lines of
    defence, which turn surprises into FORMAT_FAILURE, do not turn running out of time into a
    verdict about the document."""


@contextmanager
def budget(seconds: float | None = DEFAULT_BUDGET_SECONDS):
    """Run the block under a deadline `seconds` from now (None: no deadline).  Nested budgets
    keep the earlier deadline."""
    if seconds is None:
        yield
        return
    outer = _deadline.get()
    mine = time.monotonic() + seconds
    token = _deadline.set(mine if outer is None else min(outer, mine))
    try:
        yield
    finally:
        _deadline.reset(token)


def check_budget() -> None:
    """Raise BudgetExceeded when the current verification's deadline has passed."""
    deadline = _deadline.get()
    if deadline is not None and time.monotonic() > deadline:
        raise BudgetExceeded


def over_cap(what_zh: str, what_en: str, count: int, cap: int) -> str:
    """The detail of a FORMAT_FAILURE for a count over its cap, naming the cap."""
    return (f"{what_zh}过多（{count} 个，上限 {cap}）/ too many {what_en} "
            f"({count}; the cap is {cap})")


def report_budget_exceeded(subject: str) -> Report:
    report = Report(subject=subject)
    report.add(LimitCheck.BUDGET, False, "验证超出时间预算，未能完成；请稍后重试 / the verification "
               "ran out of its time budget before it finished; try again later",
               failure="TRY_LATER", indeterminate=True)
    return report


def bound_report(report: Report) -> Report:
    """A report within MAX_CHECKS and MAX_REPORT_BYTES.  The verifiers' own caps keep real
    reports far below; this is the last line for any verifier that does not, and it keeps the
    verdict: a report cut short is a FORMAT_FAILURE naming the cap, with its first failures."""
    size = len(report.to_json().encode()) if len(report.checks) <= MAX_CHECKS else None
    if size is not None and size <= MAX_REPORT_BYTES:
        return report
    bounded = Report(subject=report.subject, licence=report.licence, signer=report.signer,
                     seal=report.seal, notes=report.notes[:20])
    bounded.checks = [c for c in report.checks if not c.passed][:50]
    detail = (over_cap("检查项", "checks", len(report.checks), MAX_CHECKS) if size is None else
              f"报告过大（{size} 字节，上限 {MAX_REPORT_BYTES}）/ report too large ({size} bytes; "
              f"the cap is {MAX_REPORT_BYTES})")
    bounded.fail_format(LimitCheck.REPORT, detail)
    return bounded

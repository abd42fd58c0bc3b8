"""Which check names the code under test emits, so the suite can insist each has Chinese text.

Why here and not in one test: a name that only a rare branch emits (a hostile ZIP, a replayed
presentation, a stale federation list) is reached by the test written for that branch.  Recording
every check the verifiers and the service create while the whole suite runs covers them all
without a second catalogue of inputs.  A check counts as emitted by the code when the first frame
outside verification/report.py that creates it lies in verification/ or license_svc/; checks a
test builds by hand (hostile names for the HTML report, say) are the test's business.
"""

from __future__ import annotations

import sys
from pathlib import Path

from verification import report as report_module
from verification.checks import chinese

ROOT = Path(__file__).resolve().parents[2]
_CODE = tuple(str(ROOT / d) + "/" for d in ("verification", "license_svc"))
_REPORT = report_module.__file__
emitted: list[str] = []


def _record(init):
    def __init__(self, name, *args, **kwargs):
        frame = sys._getframe(1)
        while frame is not None and frame.f_code.co_filename == _REPORT:
            frame = frame.f_back
        if frame is not None and frame.f_code.co_filename.startswith(_CODE):
            emitted.append(str(name))
        init(self, name, *args, **kwargs)
    return __init__


def install() -> None:
    """Wrap `Check.__init__` once per process (every way into a report builds a Check)."""
    if not getattr(report_module.Check.__init__, "_records_names", False):
        report_module.Check.__init__ = _record(report_module.Check.__init__)
        report_module.Check.__init__._records_names = True


def without_chinese(names) -> list[str]:
    """Names with no Chinese title, or with an index left unfilled (`ofd.sig[].stamp`)."""
    return sorted({n for n in names if not chinese(n) or "[]" in n})

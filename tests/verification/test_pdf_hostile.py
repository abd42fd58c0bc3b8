"""Hostile input for verify_pdf: random single-byte changes and truncations of a genuine
licence never give PASSED (unless the change is meaningless: the letter case of a /Contents
hex digit) and never raise."""

import asyncio
import re

from hypothesis import HealthCheck, given, settings, strategies as st

from tests.verification.pdf_fixtures import AT, genuine, trust
from verification.pdf import async_verify_pdf, verify_pdf
from verification.report import TOTAL_PASSED

DATA = genuine("rsa")
_CONTENTS = [m.span(1) for m in re.finditer(rb"/Contents\s*<([0-9A-Fa-f]+)>", DATA)]


def _case_only(pos: int, new: int) -> bool:
    old = DATA[pos]
    return any(a <= pos < b for a, b in _CONTENTS) and chr(old).lower() == chr(new).lower()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pos=st.integers(0, len(DATA) - 1), value=st.integers(1, 255))
def test_single_byte_change_never_passes(pos, value):
    new = DATA[pos] ^ value
    mutated = DATA[:pos] + bytes([new]) + DATA[pos + 1:]
    report = verify_pdf(mutated, trust("rsa"), AT)
    if report.indication == TOTAL_PASSED:
        assert _case_only(pos, new), (pos, value, report.to_text())


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cut=st.integers(1, len(DATA) - 1))
def test_truncation_never_passes(cut):
    report = verify_pdf(DATA[:cut], trust("rsa"), AT)
    assert report.indication != TOTAL_PASSED


def test_usable_from_inside_an_event_loop():
    async def main():
        sync = verify_pdf(DATA, trust("rsa"), AT)  # runs on a private loop in a thread
        asyn = await async_verify_pdf(DATA, trust("rsa"), AT)
        return sync.indication, asyn.indication

    assert asyncio.run(main()) == (TOTAL_PASSED, TOTAL_PASSED)


def test_not_bytes_is_format_failure():
    assert verify_pdf(None, trust("rsa"), AT).sub_indication == "FORMAT_FAILURE"

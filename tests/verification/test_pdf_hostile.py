"""Hostile input for verify_pdf: random single-byte changes and truncations of a genuine
licence never give PASSED (unless the change is meaningless: the letter case of a /Contents
hex digit, or a byte of a certificate the signature merely carries as a hint — the CMS and
timestamp certificate sets are unsigned, and a changed copy of a CA or root certificate is
simply not used) and never raise."""

import asyncio
import re

from asn1crypto import cms
from hypothesis import HealthCheck, example, given, settings, strategies as st

from tests.support.pdf import AT, genuine, trust
from verification.pdf import async_verify_pdf, verify_pdf
from verification.report import TOTAL_PASSED

DATA = genuine("rsa")
_CONTENTS = [m.span(1) for m in re.finditer(rb"/Contents\s*<([0-9A-Fa-f]+)>", DATA)]


def _case_only(pos: int, new: int) -> bool:
    old = DATA[pos]
    return any(a <= pos < b for a, b in _CONTENTS) and chr(old).lower() == chr(new).lower()


def _hint_spans() -> list[tuple[int, int]]:
    """File offsets of the hex of every certificate carried in the CMS or its timestamp
    token other than the one that signed it (the signer's and the TSA's are bound by their
    ESS signing-certificate attributes, so a change there must fail)."""
    spans = []
    for a, b in _CONTENTS:
        blob = bytes.fromhex(DATA[a:b].decode())
        sd = cms.ContentInfo.load(blob)["content"]
        tokens = [attr["values"][0]["content"] for attr in sd["signer_infos"][0]["unsigned_attrs"]
                  if attr["type"].native == "signature_time_stamp_token"]
        for signed in (sd, *tokens):
            sid = signed["signer_infos"][0]["sid"].chosen
            for choice in signed["certificates"]:
                cert = choice.chosen
                if cert.serial_number == sid["serial_number"].native:
                    continue
                start = blob.find(cert.dump())
                spans.append((a + 2 * start, a + 2 * (start + len(cert.dump()))))
    return spans


_HINTS = _hint_spans()


def _meaningless(pos: int, new: int) -> bool:
    return _case_only(pos, new) or any(a <= pos < b for a, b in _HINTS)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pos=st.integers(0, len(DATA) - 1), value=st.integers(1, 255))
@example(pos=_HINTS[0][0] + 300, value=1)   # inside a carried root/CA copy: passes, rightly
def test_single_byte_change_never_passes(pos, value):
    new = DATA[pos] ^ value
    mutated = DATA[:pos] + bytes([new]) + DATA[pos + 1:]
    report = verify_pdf(mutated, trust("rsa"), AT)
    if report.indication == TOTAL_PASSED:
        assert _meaningless(pos, new), (pos, value, report.to_text())


def test_signer_certificate_change_never_passes():
    """The exemption above is narrow: every byte position sampled across the signer's own
    certificate fails (ESS signing-certificate-v2 binds it)."""
    a, b = _CONTENTS[0]
    blob = bytes.fromhex(DATA[a:b].decode())
    sd = cms.ContentInfo.load(blob)["content"]
    sid = sd["signer_infos"][0]["sid"].chosen
    signer = next(c.chosen for c in sd["certificates"]
                  if c.chosen.serial_number == sid["serial_number"].native)
    start = a + 2 * blob.find(signer.dump())
    for pos in range(start + 40, start + 2 * len(signer.dump()) - 8, 397):
        new = DATA[pos] ^ 1
        if chr(new).lower() == chr(DATA[pos]).lower() or chr(new) not in "0123456789abcdefABCDEF":
            new = ord("0") if DATA[pos] != ord("0") else ord("1")
        mutated = DATA[:pos] + bytes([new]) + DATA[pos + 1:]
        assert verify_pdf(mutated, trust("rsa"), AT).indication != TOTAL_PASSED, pos


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

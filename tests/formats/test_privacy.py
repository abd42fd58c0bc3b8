"""The one ID-number filter (`formats.privacy`, issue 14 item 5), checked with hypothesis against
python-stdnum's GB 11643 implementation: no resident ID number survives masking — with an X or
x check character, glued to letters, inside longer runs of digits — and text holding none comes
back unchanged."""

from __future__ import annotations

import re
import string
from datetime import date

import stdnum.cn.ric as ric
from hypothesis import example, given, settings
from hypothesis import strategies as st

from formats.privacy import REDACTED, contains_id_number, is_id_number, mask_id_numbers

AROUND = string.ascii_letters + string.digits + "xX-_.:/ 中证号"


def _stdnum_id_like(window: str, *, check_digit: bool = True) -> bool:
    """The independent oracle: 17 digits + check character by stdnum's formula (unless
    `check_digit` is False: the filter also masks mistyped numbers), a birth date by stdnum."""
    w = window.upper()
    if not re.fullmatch(r"[0-9]{17}[0-9X]", w) or (check_digit and ric.calc_check_digit(w) != w[17]):
        return False
    try:
        born = ric.get_birth_date(w)
    except Exception:
        return False
    return 1900 <= born.year <= 2099


def _holds_any(text: str) -> bool:
    if any(_stdnum_id_like(text[i:i + 18], check_digit=False) for i in range(len(text) - 17)):
        return True
    for m in re.finditer(r"(?<![0-9])[0-9]{15}(?![0-9])", text):  # the 1990s form
        d = m.group()
        try:
            date(1900 + int(d[6:8]), int(d[8:10]), int(d[10:12]))
            return True
        except ValueError:
            continue
    return False


@st.composite
def id_numbers(draw) -> str:
    region = draw(st.from_regex(r"[1-8][0-9]{5}", fullmatch=True))
    born = draw(st.dates(min_value=date(1900, 1, 1), max_value=date(2099, 12, 31)))
    body = region + born.strftime("%Y%m%d") + draw(st.from_regex(r"[0-9]{3}", fullmatch=True))
    check = ric.calc_check_digit(body + "0")
    return body + (draw(st.sampled_from("Xx")) if check == "X" else check)


@settings(max_examples=400, deadline=None)
@given(id_numbers(), st.text(AROUND, max_size=24), st.text(AROUND, max_size=24))
@example("310101199003071230", "ID", "x")                      # the attack: a letter after it
@example("11010519491231002X", "9", "7")                        # inside a longer run of digits
@example("11010519491231002x", "cti=ab", "cd")                  # lower-case x, in hex
def test_no_id_number_survives(number, before, after):
    """Valid numbers (by stdnum), and the same with a wrong check character (mistyped)."""
    _masked_everywhere(number, before, after)
    wrong = number[:17] + next(c for c in "0123456789X" if c != number[17].upper())
    _masked_everywhere(wrong, before, after)


def _masked_everywhere(number, before, after):
    text = before + number + after
    assert contains_id_number(text)
    masked = mask_id_numbers(text)
    assert number.upper() not in masked.upper() and REDACTED in masked
    assert not _holds_any(masked) and not contains_id_number(masked)


@settings(max_examples=400, deadline=None)
@given(st.text(AROUND + "0123456789" * 3, max_size=80))
@example("2026-12-06T20:04:32.123456Z 1700000000000 ok")
@example("0f2e6b0c9a1d4e5f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f")
@example("320100-000-0012 事项 1.2.156.3005.2.11100000000013338W.SH2026000001.001.K")
@example("grantee 11320000014000000X, 91310000MA1FL0000X")       # all-digit organisation codes
def test_ordinary_text_is_unchanged(text):
    if _holds_any(text):
        assert mask_id_numbers(text) != text and contains_id_number(text)
    else:
        assert mask_id_numbers(text) == text and not contains_id_number(text)


@given(id_numbers())
def test_generated_numbers_are_valid_by_stdnum_and_here(number):
    assert is_id_number(number) and _stdnum_id_like(number)


def test_stdnum_valid_numbers_are_numbers_here():
    for number in ("360426199101010071", "13043419840726291X", "11010519491231002X"):
        assert _stdnum_id_like(number) and is_id_number(number) and is_id_number(number.lower())
    assert not is_id_number("110105194912310021")   # wrong check digit
    assert not is_id_number("110105194913310029")   # month 13

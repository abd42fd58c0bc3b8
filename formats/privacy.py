"""The one ID-number filter: finds GB 11643 resident ID numbers in any text, to mask or refuse.

Why one function: the service had four (the log formatter's, the problem bodies', the audit
log's, the request-id check's), each with its own idea of where a number may sit, and text
slipped between them: an ID number followed by a letter (`ID310101199003071230x`) passed the
audit log's check and went into signed licence events, the unauthenticated status route and
seal names (issue 14 item 5).  Everything that sends text out of the service or into the
append-only log now asks this module.

What counts: every 18-character window of 17 digits and a check character 0-9/X/x whose
digits 7-14 are a birth date from 1900 to 2099, wherever it sits — glued to letters, inside a
longer run of digits or hex, either case of X — and the older 15-digit number as a whole run
of 15 digits with a 19YYMMDD birth date.  The check character is deliberately not required: a
mistyped number is still a person's number (the grant routes always refused those).  The date
keeps ordinary long numbers unchanged: times (20261206…) put a year of 0620 where the birth
date would be, and an all-digit organisation code (11320000014000000X) a month of 40.
"""

from __future__ import annotations

import re
from datetime import date

REDACTED = "[REDACTED-ID]"
_WEIGHTS = tuple(pow(2, 17 - i, 11) for i in range(17))
_CHECK = "10X98765432"
_WINDOW = re.compile(r"(?=([0-9]{17}[0-9Xx]))")         # overlapping 18-character windows
_OLD_FORM = re.compile(r"(?<![0-9])[0-9]{15}(?![0-9])")  # 15-digit numbers issued before 1999


def _is_date(year: int, month: int, day: int) -> bool:
    try:
        date(year, month, day)
    except ValueError:
        return False
    return True


def is_id_number(code: str) -> bool:
    """True for exactly one valid 18-character resident ID number, check character included
    (either case of X).  The filter below is wider (see the module docstring)."""
    if len(code) != 18 or not code[:17].isdigit() or not code[:17].isascii() \
            or code[17] not in "0123456789Xx":
        return False
    if not _is_date(int(code[6:10]), int(code[10:12]), int(code[12:14])):
        return False
    return _CHECK[sum(int(c) * w for c, w in zip(code, _WEIGHTS)) % 11] == code[17].upper()


def _has_birth_date(window: str) -> bool:
    year = int(window[6:10])
    return 1900 <= year <= 2099 and _is_date(year, int(window[10:12]), int(window[12:14]))


def _spans(text: str) -> list[tuple[int, int]]:
    spans = [(m.start(1), m.end(1)) for m in _WINDOW.finditer(text) if _has_birth_date(m.group(1))]
    spans += [(m.start(), m.end()) for m in _OLD_FORM.finditer(text)
              if _is_date(1900 + int(m.group()[6:8]), int(m.group()[8:10]), int(m.group()[10:12]))]
    return sorted(spans)


def contains_id_number(text: str) -> bool:
    """True if `text` holds a resident ID number anywhere (see the module docstring)."""
    return bool(_spans(text))


def mask_id_numbers(text: str, replacement: str = REDACTED) -> str:
    """`text` with every resident ID number replaced (overlapping ones merged into one mark);
    text without one is returned unchanged.  Repeated until none is left: cutting a number out
    of a long run of digits can leave a 15-digit run standing alone."""
    while spans := _spans(text):
        text = _replace(text, spans, replacement)
    return text


def _replace(text: str, spans: list[tuple[int, int]], replacement: str) -> str:
    out, pos, end = [], 0, -1
    for start, stop in spans:
        if start < end:  # overlaps the previous number: extend it
            end = max(end, stop)
            continue
        if end >= 0:
            out.append(replacement)
            pos = end
        out.append(text[pos:start])
        end = stop
    out.append(replacement)
    out.append(text[end:])
    return "".join(out)


def mask_in(value):
    """`value` (JSON-like: str, list, dict) with every string, dict keys included, masked."""
    if isinstance(value, str):
        return mask_id_numbers(value)
    if isinstance(value, dict):
        return {mask_in(k): mask_in(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [mask_in(v) for v in value]
    return value

"""Canonical JSON: the bytes every signed JSON object of the project is signed over.

Why canonical: a record, a status answer, a trust list or an audit entry is signed once and
re-verified years later by other regions' software, so the bytes must be reproducible from the
parsed JSON by anyone — UTF-8, keys sorted by code point, no insignificant whitespace, and no
floats (their text form is not portable; amounts and measures are strings or integers in the
templates).  Producer and verifier run this same function, so they cannot disagree.

Input is checked without recursion and at most MAX_DEPTH levels deep: hostile input nests
thousands of levels, and a RecursionError deep in a worker is not an answer.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from formats.errors import FormatError

MAX_DEPTH = 32  # a record nests four levels; anything far deeper is hostile input


class CanonicalJSONError(FormatError):
    code = "canonical-json"


def _check(value: Any) -> None:
    """Find the first offending place, depth first, and name it (iteratively)."""
    stack = [(value, "$", 0)]
    while stack:
        v, path, depth = stack.pop()
        if isinstance(v, bool) or v is None or isinstance(v, (str, int)):
            continue
        if depth >= MAX_DEPTH:
            raise CanonicalJSONError(f"nested deeper than {MAX_DEPTH} levels (at {path})",
                                     f"嵌套超过 {MAX_DEPTH} 层（位置 {path}）")
        if isinstance(v, float):
            raise CanonicalJSONError(f"floats are not allowed in signed records (at {path})",
                                     f"签名记录中不允许浮点数（位置 {path}）")
        if isinstance(v, dict):
            children = []
            for k, x in v.items():
                if not isinstance(k, str):
                    raise CanonicalJSONError(f"object keys must be strings (at {path})",
                                             f"对象键必须是字符串（位置 {path}）")
                children.append((x, f"{path}.{k}", depth + 1))
            stack.extend(reversed(children))
        elif isinstance(v, (list, tuple)):
            stack.extend(reversed([(x, f"{path}[{i}]", depth + 1) for i, x in enumerate(v)]))
        else:
            raise CanonicalJSONError(f"{type(v).__name__} is not a JSON value (at {path})",
                                     f"{type(v).__name__} 不是 JSON 值（位置 {path}）")


def _plain(value: Any) -> bool:
    """True when `value` is built of exact str/int/bool/None/dict/list/tuple only, at most
    MAX_DEPTH deep: the common case, checked without building a path per key (every audit
    entry and record passes here).  Anything else goes to `_check`, which decides and names
    the place."""
    stack = [(value, 0)]
    while stack:
        v, depth = stack.pop()
        t = type(v)
        if t is str or t is int or t is bool or v is None:
            continue
        if depth >= MAX_DEPTH:
            return False
        if t is dict:
            for k, x in v.items():
                if type(k) is not str:
                    return False
                stack.append((x, depth + 1))
        elif t is list or t is tuple:
            stack.extend((x, depth + 1) for x in v)
        else:
            return False
    return True


def iso_time(at: datetime) -> str:
    """RFC 3339 UTC with a Z and whole seconds: the one time format inside signed JSON."""
    if at.tzinfo is None:
        raise CanonicalJSONError("signed times must be timezone-aware", "签名时间必须带时区")
    return at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")



def parse_time(text) -> datetime | None:
    """The inverse of `iso_time` for what other nodes send: an aware datetime, or None for
    anything that is not an RFC 3339 time with a zone."""
    try:
        value = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo is not None else None


def canonical_json(value: Any) -> bytes:
    """UTF-8 bytes, sorted keys, no whitespace; floats, NaN, non-string keys, lone surrogates
    and nesting deeper than MAX_DEPTH raise CanonicalJSONError."""
    if not _plain(value):
        _check(value)
    try:
        return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"),
                          allow_nan=False).encode("utf-8")
    except UnicodeEncodeError:
        raise CanonicalJSONError("text is not valid Unicode (lone surrogate)",
                                 "文本不是有效的 Unicode（孤立代理项）") from None

"""Licence identifiers and the check characters of the codes a licence carries.

- GB/T 36904 licence identifier (证照标识): defined in `formats.identifier` (the verifiers
  parse it too); its names are re-exported here for the service's callers.
- GB 32100 统一社会信用代码 (USCC) check character and GB 11643 公民身份号码 check digit.

Everything that can be wrong with a code raises `IdentifierError` with a Chinese and an English
message, so the API can show the clerk exactly which character is off.  The check algorithms are
implemented here (a dozen lines each) instead of depending on python-stdnum at run time; the
tests cross-check them against python-stdnum.
"""

from __future__ import annotations

import re
import secrets
from datetime import date

from formats.identifier import (ROOT, SERIAL_LENGTH, IdentifierError, LicenceIdentifier,  # noqa: F401
                                 is_valid_identifier, make_identifier, mod37_36_check, new_serial,
                                 parse_identifier)
from signing.x509.names import USCC_ALPHABET
from signing.x509.names import uscc_check_char as _uscc_check_char

# Holder code types of GB/T 36903 Appendix A that this service checks (others pass through).
CODE_TYPE_USCC = "001"
CODE_TYPE_ID_CARD = "111"
CODE_TYPE_NAMES = {
    "001": ("统一社会信用代码", "unified social credit code"),
    "099": ("其它法人与其它组织有效证件代码", "other organisation code"),
    "111": ("公民身份号码", "resident identity card number"),
    "414": ("普通护照", "ordinary passport"),
    "516": ("港澳居民来往内地通行证", "Mainland travel permit for HK/Macao residents"),
    "999": ("其它自然人有效证件号码", "other personal document number"),
}

_ID_WEIGHTS = [pow(2, 17 - i, 11) for i in range(17)]  # 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2

_USCC_SHAPE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$")


# -- GB 32100 unified social credit code ---------------------------------------------------

def uscc_check_char(body17: str) -> str:
    """The GB 32100 check character (one implementation, in signing.x509.names, which the dev
    PKI also needs); here only the error becomes bilingual."""
    bad = next((ch for ch in body17 if ch not in USCC_ALPHABET), None)
    if bad is not None:
        raise IdentifierError(f"character {bad!r} is not allowed in a USCC",
                              f"统一社会信用代码中不允许出现字符 {bad!r}")
    return _uscc_check_char(body17)


def check_uscc(code: str) -> None:
    if not isinstance(code, str) or len(code) != 18:
        raise IdentifierError("a unified social credit code has 18 characters",
                              "统一社会信用代码应为 18 位")
    if not _USCC_SHAPE.match(code):
        raise IdentifierError(
            "a unified social credit code uses 0-9 and A-Y without I, O, S, V, Z, "
            "with digits in positions 3-8 (region code)",
            "统一社会信用代码只能使用数字和除 I、O、S、V、Z 以外的大写字母，第 3-8 位为行政区划码")
    expected = uscc_check_char(code[:17])
    if code[17] != expected:
        raise IdentifierError(f"USCC check character is {code[17]!r}, expected {expected!r}",
                              f"统一社会信用代码校验码错误（应为 {expected}，实为 {code[17]}）")


# -- GB 11643 citizen identity number --------------------------------------------------------

def id_card_check_char(body17: str) -> str:
    s = sum(int(c) * w for c, w in zip(body17, _ID_WEIGHTS))
    return "10X98765432"[s % 11]


def check_id_card(code: str) -> None:
    if not isinstance(code, str) or len(code) != 18 or not code[:17].isdigit() \
            or not code[:17].isascii() or code[17] not in "0123456789X":
        raise IdentifierError("a citizen identity number has 17 digits and a check digit 0-9 or X",
                              "公民身份号码应为 17 位数字加 1 位校验码（0-9 或 X）")
    try:
        date(int(code[6:10]), int(code[10:12]), int(code[12:14]))
    except ValueError:
        raise IdentifierError("the birth date in the identity number (digits 7-14) is not a date",
                              "公民身份号码中的出生日期（第 7-14 位）无效") from None
    expected = id_card_check_char(code[:17])
    if code[17] != expected:
        raise IdentifierError(f"identity number check digit is wrong (expected {expected!r})",
                              f"公民身份号码校验码错误（应为 {expected}）")


# -- holder codes ----------------------------------------------------------------------------

def check_holder_code(code_type: str, code: str, legacy: bool = False) -> list[str]:
    """Check a holder (or issuer) code by its GB/T 36903 code type.

    Returns warnings (bilingual strings); raises IdentifierError for an error.  On legacy
    import (`legacy=True`) a USCC failing only its check character is a warning: some early
    pilot-area codes are legitimate yet fail it (standards-notes §4.4).  New issuance is strict.
    """
    if code_type not in CODE_TYPE_NAMES:
        raise IdentifierError(f"unknown holder code type {code_type!r}",
                              f"未知的持证主体代码类型 {code_type!r}")
    if not isinstance(code, str) or not code or len(code) > 64 or not code.isprintable():
        raise IdentifierError("holder code must be a non-empty printable string (≤ 64 characters)",
                              "持证主体代码必须是非空可打印字符串（不超过 64 个字符）")
    if code_type == CODE_TYPE_ID_CARD:
        check_id_card(code)
    elif code_type == CODE_TYPE_USCC:
        try:
            check_uscc(code)
        except IdentifierError as exc:
            shape_ok = isinstance(code, str) and len(code) == 18 and _USCC_SHAPE.match(code)
            if legacy and shape_ok:
                return [f"{exc.message_zh}（历史数据，仅警告） / {exc.message_en} "
                        "(legacy data: warning only)"]
            raise
    return []


# -- licence numbers (证照编号) ---------------------------------------------------------------

_NUMBER_TOKEN = re.compile(r"\{(region|year|serial(?::(\d+))?|[a-z_]+)\}")


def format_licence_number(pattern: str, *, region: str, issued: date,
                          variables: dict[str, str] | None = None) -> str:
    """Fill a template's licence-number pattern, e.g. ``"沪食经{year}{serial:8}"``.

    Tokens: {region} (SH/JS/ZJ/AH), {year}, {serial:N} (N random digits from `secrets`, so numbers
    do not reveal issuance counts), and any other {name} taken from `variables` (e.g. a district
    code from the request).  A missing variable is an error, never a silent blank.
    """
    variables = variables or {}

    def fill(m: re.Match) -> str:
        name = m.group(1)
        if name == "region":
            return region.upper()
        if name == "year":
            return f"{issued.year:04d}"
        if name.startswith("serial"):
            n = int(m.group(2) or 8)
            return "".join(secrets.choice("0123456789") for _ in range(n))
        if name not in variables:
            raise IdentifierError(f"licence number pattern needs {{{name}}}, not provided",
                                  f"证照编号规则需要 {{{name}}}，但未提供")
        return str(variables[name])

    return _NUMBER_TOKEN.sub(fill, pattern)


def licence_number_regex(pattern: str) -> re.Pattern:
    """A regex matching numbers the pattern can produce, for checking numbers on import."""
    out, pos = [], 0
    for m in _NUMBER_TOKEN.finditer(pattern):
        out.append(re.escape(pattern[pos:m.start()]))
        name = m.group(1)
        if name == "region":
            out.append("(?:SH|JS|ZJ|AH)")
        elif name == "year":
            out.append(r"\d{4}")
        elif name.startswith("serial"):
            out.append(r"\d{%d}" % int(m.group(2) or 8))
        else:
            out.append(r"[0-9A-Za-z\u4e00-\u9fff]{1,64}")
        pos = m.end()
    out.append(re.escape(pattern[pos:]))
    return re.compile("^" + "".join(out) + "$")

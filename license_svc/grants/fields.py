"""Checks of the fields grants and retrievals share: holder codes, licence types, matter codes,
free text.  Each raises a bilingual 422 naming the field and never quoting the value (it may be
an ID number)."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any

from formats.privacy import contains_id_number
from license_svc.identifiers import (CODE_TYPE_ID_CARD, CODE_TYPE_USCC, IdentifierError,
                                     check_id_card, check_uscc)
from license_svc.templates import Template, load_templates

# Matched with fullmatch: `$` also matches before a final newline, and "CODE\n" would then be
# stored, escape the auditor's exact search and print as two lines (issue 14 item 8).
MATTER_CODE = re.compile(r"[0-9A-Za-z][0-9A-Za-z\-_.]{0,63}")
GRANT_ID = re.compile(r"^grt_[A-Za-z0-9_-]{22}$")
HOLDER_CODE_TYPES = (CODE_TYPE_ID_CARD, CODE_TYPE_USCC)
MAX_TEXT = 200


def invalid(error_cls, field: str, en: str, zh: str):
    return error_cls(f"{field}: {en}", f"{field}：{zh}")


def holder_code_type_of(code: str) -> str | None:
    """111 for a well-formed resident ID number, 001 for a USCC, None for neither."""
    for code_type, check in ((CODE_TYPE_ID_CARD, check_id_card), (CODE_TYPE_USCC, check_uscc)):
        try:
            check(code)
            return code_type
        except IdentifierError:
            continue
    return None


def normalise_code(code: str) -> str:
    return code.strip().upper()


def check_holder(error_cls, code: Any, code_type: Any) -> str:
    """The normalised holder code, checked against its declared code type (GB 11643 / GB 32100)."""
    if code_type not in HOLDER_CODE_TYPES:
        raise invalid(error_cls, "holder_code_type", f"must be one of {HOLDER_CODE_TYPES}",
                      f"应为 {HOLDER_CODE_TYPES} 之一")
    if not isinstance(code, str):
        raise invalid(error_cls, "holder_code", "must be a string", "应为字符串")
    code = normalise_code(code)
    if holder_code_type_of(code) != code_type:
        raise invalid(error_cls, "holder_code", "is not a valid code of the given holder_code_type "
                      "(check digit, length, alphabet)", "与 holder_code_type 不符或校验位错误")
    return code


def check_org(error_cls, field: str, code: Any) -> str:
    if not isinstance(code, str):
        raise invalid(error_cls, field, "must be the organisation's USCC", "应为统一社会信用代码")
    try:
        check_uscc(code.strip().upper())
    except IdentifierError as exc:
        raise error_cls(f"{field}: {exc.message_en}", f"{field}：{exc.message_zh}") from None
    return code.strip().upper()


def check_matter(error_cls, value: Any) -> str:
    if not isinstance(value, str) or not MATTER_CODE.fullmatch(value):
        raise invalid(error_cls, "matter_code", "the matter code (事项编码) is required: 1-64 "
                      "characters of 0-9 A-Z a-z - _ .", "须提供办理事项编码（1-64 位字母、数字、- _ .）")
    # The matter code goes into the audit entry, which refuses an ID number: refused here as a
    # bad field (422) rather than an unwritable entry (503, "try later").
    if contains_id_number(value):
        raise invalid(error_cls, "matter_code", "must not contain an identity number", "不得包含身份证号码")
    return value


def licence_template(error_cls, value: Any) -> Template:
    """A licence type by folder name (`driving_licence`) or GB/T 36903 type code."""
    if isinstance(value, str):
        templates = load_templates()
        if value in templates:
            return templates[value]
        for template in templates.values():
            if template.type_code == value:
                return template
    raise invalid(error_cls, "licence_type", "unknown licence type (give the type name, e.g. "
                  "driving_licence, or its type code)", "未知的证照类型")


def check_text(error_cls, field: str, value: Any, *, required: bool = False,
               min_length: int = 1) -> str | None:
    """Free text bound for the audit log: bounded, printable, and never holding an ID number
    (`formats.privacy`: 18 characters with a birth date, check digit or not; 15 digits)."""
    if value is None and not required:
        return None
    if not isinstance(value, str) or not min_length <= len(value.strip()) <= MAX_TEXT \
            or not value.isprintable():
        raise invalid(error_cls, field, f"must be printable text of {min_length}-{MAX_TEXT} characters",
                      f"应为 {min_length}-{MAX_TEXT} 个可打印字符")
    if contains_id_number(value):  # the audit log's rule too
        raise invalid(error_cls, field, "must not contain an identity number", "不得包含身份证号码")
    return value.strip()


def parse_time(error_cls, field: str, value: Any) -> datetime:
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            parsed = None
        if parsed is not None and parsed.tzinfo is not None:
            return parsed.astimezone(timezone.utc)
    raise invalid(error_cls, field, "must be an RFC 3339 time with a time zone, e.g. "
                  "2026-07-01T00:00:00+08:00", "应为带时区的 RFC 3339 时间")


def iso(t: datetime | None) -> str | None:
    return None if t is None else t.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")

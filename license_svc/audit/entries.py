"""What one audit entry says (docs/formats.md) and its exact bytes.

The leaf of the Merkle tree is the canonical JSON of the entry (the licence record's rule:
UTF-8, sorted keys, no whitespace, no floats), so anyone holding an exported entry can
recompute its leaf hash without our code.  Every field is always present (null when it does
not apply): a fixed shape is easier for an auditor to read and for a verifier to check.

Privacy: an entry names the holder only by `holder_ref`, a keyed hash of the holder code
(license_svc.audit.holder).  `log.record` masks every free-text value with the service's one
ID-number filter (`formats.privacy`); as a last line of defence `validate` refuses any value
that still contains a resident ID number (GB 11643), wherever in the value it sits, so a
careless caller cannot put one in clear into an append-only, exported, replicated log.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from license_svc.config import REGIONS
from formats.canonical_json import CanonicalJSONError, canonical_json
from formats.errors import Kind, ServiceError
from formats.privacy import contains_id_number

SCHEMA_VERSION = 1
OUTCOMES = ("success", "denied", "not_found", "invalid", "error")
# Known actions; others may be added by domain code as long as they match ACTION_RE.
ACTIONS = (
    "licence.issue", "licence.amend", "licence.suspend", "licence.reinstate", "licence.revoke",
    "licence.retrieve", "licence.file", "licence.verify", "licence.status",
    "qr.present", "grant.create", "grant.revoke", "federation.retrieve", "dispute.file",
)
ACTION_RE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*){0,3}$")
TOKEN_RE = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
HOLDER_REF_RE = re.compile(r"^[0-9a-f]{64}$")
MAX_TEXT = 256


class AuditError(ServiceError):
    """The audit log cannot do what was asked; an action depending on it must fail."""

    code = "audit"


class AuditEntryError(AuditError):
    code = "audit-entry"


class AuditUnavailable(AuditError):
    """The database would not take the entry (read-only, locked, full, gone): the action it
    audits is rolled back and the caller is told to try later — a 503, not a 500 (issue 14
    item 8), as the grant routes already answered."""

    code = "audit-unavailable"
    kind = Kind.UNAVAILABLE
    title_zh, title_en = "审计日志不可用，操作未执行", "Audit log unavailable: the action was not carried out"

    def __init__(self):
        super().__init__("the audit entry could not be written; nothing was done or returned",
                         "审计条目无法写入，未执行任何操作、未返回任何数据")


def format_time(t: datetime) -> str:
    """RFC 3339 UTC with milliseconds: one spelling per instant, so the leaf is reproducible."""
    if t.tzinfo is None:
        raise AuditEntryError("audit time must be timezone-aware", "审计时间必须带时区")
    t = t.astimezone(timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


@dataclass(frozen=True)
class Actor:
    org_code: str            # the client's organisation (USCC or government code)
    client_id: str | None = None
    operator: str | None = None   # the person at the client, as the client reports them

    def as_dict(self) -> dict[str, Any]:
        return {"org_code": self.org_code, "client_id": self.client_id, "operator": self.operator}


@dataclass(frozen=True)
class AuditEntry:
    time: datetime
    actor: Actor
    action: str
    outcome: str = "success"
    licence_id: str | None = None
    holder_ref: str | None = None
    purpose: str | None = None        # matter code 事项编码
    legal_basis: str | None = None
    grant_id: str | None = None
    channel: str = "api"
    source_region: str | None = None
    request_id: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "v": SCHEMA_VERSION,
            "time": format_time(self.time),
            "actor": self.actor.as_dict(),
            "action": self.action,
            "outcome": self.outcome,
            "licence_id": self.licence_id,
            "holder_ref": self.holder_ref,
            "purpose": self.purpose,
            "legal_basis": self.legal_basis,
            "grant_id": self.grant_id,
            "channel": self.channel,
            "source_region": self.source_region,
            "request_id": self.request_id,
            "detail": dict(self.detail),
        }

    def leaf(self) -> bytes:
        """The exact leaf bytes: canonical JSON of the validated entry."""
        data = self.as_dict()
        validate(data)
        try:
            return canonical_json(data)
        except CanonicalJSONError as exc:
            raise AuditEntryError(exc.message_en, exc.message_zh) from None


def _fail(en: str, zh: str):
    raise AuditEntryError(en, zh)


def _text(data: dict, key: str, *, required: bool = False, scan: bool = True) -> None:
    value = data.get(key)
    if value is None:
        if required:
            _fail(f"audit entry needs {key}", f"审计条目缺少 {key}")
        return
    if not isinstance(value, str) or not value or len(value) > MAX_TEXT:
        _fail(f"audit field {key} must be a non-empty string of at most {MAX_TEXT} characters",
              f"审计字段 {key} 应为不超过 {MAX_TEXT} 字符的非空字符串")
    if scan and contains_id_number(value):
        _fail(f"audit field {key} contains a resident ID number in clear",
              f"审计字段 {key} 含有明文身份证号码")


def validate(data: dict[str, Any]) -> None:
    """Check a would-be entry; raises AuditEntryError naming the field."""
    if data.get("v") != SCHEMA_VERSION:
        _fail("unknown audit entry version", "未知的审计条目版本")
    actor = data.get("actor")
    if not isinstance(actor, dict) or set(actor) != {"org_code", "client_id", "operator"}:
        _fail("audit actor must have org_code, client_id, operator", "审计主体应含 org_code、client_id、operator")
    _text(actor, "org_code", required=True, scan=False)  # a configured client's org code
    _text(actor, "client_id")
    _text(actor, "operator")
    action = data.get("action")
    if not isinstance(action, str) or len(action) > 64 or not ACTION_RE.match(action):
        _fail(f"bad audit action {action!r}", f"审计动作格式错误：{action!r}")
    if data.get("outcome") not in OUTCOMES:
        _fail(f"audit outcome must be one of {OUTCOMES}", f"审计结果应为 {OUTCOMES} 之一")
    if not isinstance(data.get("channel"), str) or not TOKEN_RE.match(data["channel"]):
        _fail("bad audit channel", "审计渠道格式错误")
    ref = data.get("holder_ref")
    if ref is not None and (not isinstance(ref, str) or not HOLDER_REF_RE.match(ref)):
        _fail("holder_ref must be the 64-hex keyed hash, never the holder code",
              "holder_ref 必须是持证人代码的带密钥哈希（64 位十六进制），不得为明文")
    region = data.get("source_region")
    if region is not None and region not in REGIONS:
        _fail(f"unknown source region {region!r}", f"未知的来源区域 {region!r}")
    _text(data, "licence_id")  # a GB/T 36904 identifier, or what a forged code claimed to be
    for key in ("purpose", "legal_basis", "grant_id", "request_id"):
        _text(data, key)
    detail = data.get("detail")
    if not isinstance(detail, dict):
        _fail("audit detail must be an object", "审计 detail 应为对象")
    if len(json.dumps(detail, ensure_ascii=False, default=str)) > 2048:
        _fail("audit detail larger than 2048 characters", "审计 detail 超过 2048 字符")
    _scan_detail(detail, "detail")


def _scan_detail(value: Any, path: str) -> None:
    if isinstance(value, str) and contains_id_number(value):
        _fail(f"audit {path} contains a resident ID number in clear", f"审计 {path} 含有明文身份证号码")
    if isinstance(value, dict):
        for k, v in value.items():
            _scan_detail(k, path)
            _scan_detail(v, f"{path}.{k}")
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            _scan_detail(v, f"{path}[{i}]")

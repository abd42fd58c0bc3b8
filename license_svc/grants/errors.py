"""Errors of grants and retrievals.  Each carries its kind and stable problem slug
(the web layer turns them into problem+json by `code` and `kind`),
and fixed bilingual titles, so the messages become the problem's `detail`."""

from __future__ import annotations

from formats.errors import Kind, ServiceError
from license_svc.audit.entries import AuditUnavailable as AuditLogUnavailable


class GrantError(ServiceError):
    code = "grant-invalid"
    kind = Kind.INVALID
    title_zh, title_en = "授权请求无效", "Invalid grant request"


class GrantNotFound(GrantError):
    code = "grant-not-found"
    kind = Kind.NOT_FOUND
    title_zh, title_en = "未找到授权", "Grant not found"

    def __init__(self):
        super().__init__("no such grant for this holder", "该持证主体没有此授权")


class GrantForbidden(GrantError):
    """The caller's role or identity does not allow this grant operation."""

    code = "grant-forbidden"
    kind = Kind.FORBIDDEN
    title_zh, title_en = "无权操作此授权", "Not allowed to manage grants"


class RetrievalInvalid(GrantError):
    code = "retrieval-invalid"
    title_zh, title_en = "调取请求无效", "Invalid retrieval request"


class RetrievalRefused(GrantError):
    """No grant or legal basis covers this retrieval.  `reason` is a stable token
    (docs/authorisation.md) that also goes into the audit entry."""

    code = "retrieval-refused"
    kind = Kind.FORBIDDEN
    title_zh = "调取被拒绝：无有效授权或法定依据"
    title_en = "Retrieval refused: no valid grant or legal basis"

    def __init__(self, reason: str, message_en: str, message_zh: str):
        super().__init__(message_en, message_zh)
        self.reason = reason


class LicenceNotHeld(GrantError):
    code = "retrieval-no-licence"
    kind = Kind.NOT_FOUND
    title_zh, title_en = "未找到符合条件的证照", "No matching licence"


class LicenceAmbiguous(GrantError):
    code = "retrieval-ambiguous"
    kind = Kind.CONFLICT
    title_zh, title_en = "匹配到多本证照，请指定 licence_id", "Several licences match: name one with licence_id"


class AuditUnavailable(AuditLogUnavailable, GrantError):
    """The audit entry could not be written, so the action was not carried out (docs/formats.md):
    the audit log's own error (one code, title and 503 for every route), still a GrantError
    for the grant code that catches those."""
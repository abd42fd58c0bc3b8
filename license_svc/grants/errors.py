"""Errors of grants and retrievals.  Each carries its HTTP status and stable problem slug
(the web layer turns `SigningError` subclasses into problem+json by `code` and `http_status`),
and fixed bilingual titles, so the messages become the problem's `detail`."""

from __future__ import annotations

from formats.errors import SigningError


class GrantError(SigningError):
    code = "grant-invalid"
    http_status = 422
    title_zh, title_en = "授权请求无效", "Invalid grant request"


class GrantNotFound(GrantError):
    code = "grant-not-found"
    http_status = 404
    title_zh, title_en = "未找到授权", "Grant not found"

    def __init__(self):
        super().__init__("no such grant for this holder", "该持证主体没有此授权")


class GrantForbidden(GrantError):
    """The caller's role or identity does not allow this grant operation."""

    code = "grant-forbidden"
    http_status = 403
    title_zh, title_en = "无权操作此授权", "Not allowed to manage grants"


class RetrievalInvalid(GrantError):
    code = "retrieval-invalid"
    title_zh, title_en = "调取请求无效", "Invalid retrieval request"


class RetrievalRefused(GrantError):
    """No grant or legal basis covers this retrieval.  `reason` is a stable token
    (docs/authorisation.md) that also goes into the audit entry."""

    code = "retrieval-refused"
    http_status = 403
    title_zh = "调取被拒绝：无有效授权或法定依据"
    title_en = "Retrieval refused: no valid grant or legal basis"

    def __init__(self, reason: str, message_en: str, message_zh: str):
        super().__init__(message_en, message_zh)
        self.reason = reason


class LicenceNotHeld(GrantError):
    code = "retrieval-no-licence"
    http_status = 404
    title_zh, title_en = "未找到符合条件的证照", "No matching licence"


class LicenceAmbiguous(GrantError):
    code = "retrieval-ambiguous"
    http_status = 409
    title_zh, title_en = "匹配到多本证照，请指定 licence_id", "Several licences match: name one with licence_id"


class AuditUnavailable(GrantError):
    """The audit entry could not be written, so the action was not carried out (DESIGN §9)."""

    code = "audit-unavailable"
    http_status = 503
    title_zh, title_en = "审计日志不可用，操作未执行", "Audit log unavailable: the action was not carried out"

    def __init__(self):
        super().__init__("the audit entry could not be written; nothing was done or returned",
                         "审计条目无法写入，未执行任何操作、未返回任何数据")

"""Errors of disputes: bilingual, each with its kind (the web layer maps kinds to statuses)."""

from __future__ import annotations

from formats.errors import Kind, ServiceError


class DisputeError(ServiceError):
    code = "dispute-invalid"
    kind = Kind.INVALID
    title_zh, title_en = "异议请求无效", "Invalid dispute request"


class DisputeNotFound(DisputeError):
    """Unknown, or not visible to the caller (the same answer: no probing)."""

    code = "dispute-not-found"
    kind = Kind.NOT_FOUND
    title_zh, title_en = "未找到异议", "Dispute not found"

    def __init__(self, en: str = "no such dispute for this client",
                 zh: str = "该客户端没有此异议"):
        super().__init__(en, zh)


class DisputeForbidden(DisputeError):
    code = "dispute-forbidden"
    kind = Kind.FORBIDDEN
    title_zh, title_en = "无权处理此异议", "Not allowed to act on this dispute"


class DisputeConflict(DisputeError):
    code = "dispute-conflict"
    kind = Kind.CONFLICT
    title_zh, title_en = "异议状态不允许此操作", "The dispute's state does not allow this"

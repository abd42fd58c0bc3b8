"""Errors of issuance and lifecycle.  Each carries its kind and the stable problem slug the web
layer turns into RFC 9457 problem+json (`license_svc.web.problems`), so a route never has to
translate them by hand and the CLI prints the same bilingual text."""

from __future__ import annotations

from formats.errors import Kind, ServiceError


class LicenceError(ServiceError):
    code = "licence-error"
    kind = Kind.INVALID


class LicenceNotFound(LicenceError):
    code = "licence-not-found"
    kind = Kind.NOT_FOUND

    def __init__(self, identifier: str):
        super().__init__(f"no licence {identifier!r} in this region", f"本区域没有证照 {identifier!r}")


class UnknownLicenceType(LicenceError):
    code = "unknown-licence-type"


class LicenceDataInvalid(LicenceError):
    """The request does not match the type's schema (which field and why is in the message)."""

    code = "licence-data-invalid"


class StatusSlotUnavailable(LicenceError):
    """No free status-list slot in MAX_PICKS random draws.  Not the caller's fault (a list
    moves to its next part when half full, so this means something is wrong with the lists);
    nothing was written, and the request can be retried as it is."""

    code = "status-slot-unavailable"
    kind = Kind.UNAVAILABLE

    def __init__(self):
        super().__init__("no free status-list slot found; nothing was issued, try again",
                         "未找到空闲的状态列表位置，未签发任何证照，请重试")


class IssuerAuthorityError(LicenceError):
    """The caller may not issue or change this licence: wrong organisation, type or region."""

    code = "issuer-authority"
    kind = Kind.FORBIDDEN


class LicenceStateError(LicenceError):
    """The lifecycle change is not allowed from the licence's current status."""

    code = "licence-state"
    kind = Kind.CONFLICT


class IdempotencyKeyReused(LicenceError):
    """Same Idempotency-Key, different request (draft-ietf-httpapi-idempotency-key-header §2.7)."""

    code = "idempotency-key-reused"
    kind = Kind.INVALID

    def __init__(self):
        super().__init__("this Idempotency-Key was already used with a different request body",
                         "该幂等键（Idempotency-Key）已用于另一个不同的请求")


class IdempotencyKeyInvalid(LicenceError):
    code = "idempotency-key-invalid"
    kind = Kind.MALFORMED

    def __init__(self):
        super().__init__("Idempotency-Key must be 1-255 printable ASCII characters",
                         "幂等键（Idempotency-Key）必须是 1 到 255 个可打印 ASCII 字符")


class DuplicateLicence(LicenceError):
    """The holder already has this licence in force (active or suspended) by the type's
    uniqueness rule (`licences/uniqueness.py`).  The answer names the licence that exists, so the
    caller can show it, or ask again with `"replaces": <that identifier>` to amend it."""

    code = "licence-duplicate"
    kind = Kind.CONFLICT
    title_zh = "该证照已存在且有效"
    title_en = "This licence is already in force"

    def __init__(self, existing: str, type_name: str):
        super().__init__(
            f"this holder already has a {type_name} in force ({existing}); to change it, send "
            f"\"replaces\": \"{existing}\"",
            f"该持证主体已有有效的{type_name}（{existing}），如需变更请在请求中注明 "
            f"\"replaces\": \"{existing}\"")
        self.existing = existing
        self.problem_members = {"existing_identifier": existing}


class BatchAllDuplicates(LicenceError):
    """Every item of a batch was a duplicate: nothing was issued (`rejected` lists them)."""

    code = "licence-duplicate"
    kind = Kind.CONFLICT
    title_zh = DuplicateLicence.title_zh
    title_en = DuplicateLicence.title_en

    def __init__(self, rejected: list[dict]):
        super().__init__("every item of the batch is a licence already in force; nothing was issued",
                         "批量请求中的每一项都是已有的有效证照，未签发任何证照")
        self.problem_members = {"rejected": rejected}

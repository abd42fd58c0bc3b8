"""RFC 9457 problem details: every error the API returns has a stable `type` and a bilingual title.

Raise `ProblemError` from a route or a domain function called by one; the handlers installed by
`install_problem_handlers` turn it (and FastAPI's own errors) into `application/problem+json`.
`type` is `urn:license-svc:problem:<slug>`; clients switch on it, never on the text.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from formats.privacy import mask_id_numbers
from license_svc.request_context import current_request_id
from license_svc.web.metrics import count_problem

PROBLEM_TYPE_PREFIX = "urn:license-svc:problem:"
PROBLEM_MEDIA_TYPE = "application/problem+json"

# Problem types raised by the web layer itself (domain modules add their own slugs).
# slug: (status, 中文, English)
CORE_PROBLEMS: dict[str, tuple[int, str, str]] = {
    "bad-request": (400, "请求无效", "Bad request"),
    "unauthorized": (401, "未认证：缺少或无效的 API 密钥", "Unauthorized: missing or invalid API key"),
    "forbidden": (403, "无权执行此操作", "Forbidden"),
    "not-found": (404, "未找到", "Not found"),
    "method-not-allowed": (405, "不支持的请求方法", "Method not allowed"),
    "not-acceptable": (406, "无法提供所请求的格式", "Not acceptable"),
    "conflict": (409, "与当前状态冲突", "Conflict"),
    "body-too-large": (413, "请求体过大", "Request body too large"),
    "unsupported-media-type": (415, "不支持的内容类型", "Unsupported media type"),
    "validation-error": (422, "请求参数校验失败", "Request validation failed"),
    "too-many-requests": (429, "请求过于频繁", "Too many requests"),
    "internal-error": (500, "服务器内部错误", "Internal server error"),
    "not-ready": (503, "服务尚未就绪", "Service not ready"),
    "database-unavailable": (503, "数据库连接中断，请稍后重试", "Database connection lost; retry"),
    "database-unwritable": (503, "数据库暂时无法写入，操作未执行，请稍后重试",
                            "The database cannot take writes now; nothing was done, retry later"),
}
_SLUG_BY_STATUS = {status: slug for slug, (status, _, _) in CORE_PROBLEMS.items()}


def problem_type(slug: str) -> str:
    return PROBLEM_TYPE_PREFIX + slug


class ProblemError(Exception):
    """An error with an HTTP status, a stable slug, and titles a clerk and a developer can read.

    `detail` explains this occurrence (English, or bilingual text); `extra` adds extension members.
    """

    def __init__(self, status: int, type_slug: str, title_zh: str, title_en: str,
                 detail: str | None = None, *, headers: dict[str, str] | None = None,
                 **extra: Any):
        super().__init__(f"{title_zh} / {title_en}" + (f": {detail}" if detail else ""))
        self.status, self.type_slug = status, type_slug
        self.title_zh, self.title_en, self.detail = title_zh, title_en, detail
        self.headers = headers or {}
        self.extra = extra

    @classmethod
    def core(cls, slug: str, detail: str | None = None, **kwargs) -> "ProblemError":
        """One of the web layer's own problems by slug: `ProblemError.core("not-found", "...")`."""
        status, zh, en = CORE_PROBLEMS[slug]
        return cls(status, slug, zh, en, detail, **kwargs)

    def body(self) -> dict[str, Any]:
        body = {"type": problem_type(self.type_slug), "title": f"{self.title_zh} / {self.title_en}",
                "title_zh": self.title_zh, "title_en": self.title_en, "status": self.status}
        if self.detail:
            body["detail"] = self.detail
        body.update(self.extra)
        body = _redacted(body)
        rid = current_request_id()
        if rid:
            body["request_id"] = rid
        return body


def _redacted(value: Any) -> Any:
    """Every string of a problem body with ID-number-like tokens masked.  Domain messages quote
    what was wrong (an unknown type, a schema error quoting the instance, an identifier segment),
    and that may be a holder's ID number: the last line of defence, as in the logs."""
    if isinstance(value, str):
        return mask_id_numbers(value)
    if isinstance(value, dict):
        return {k: _redacted(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_redacted(v) for v in value]
    return value


class ProblemResponse(JSONResponse):
    """A problem body that counts itself by type when sent (`license_svc_problems_total`):
    every problem — a handler's, a route's own, the middleware's 413 and 500 — goes out here."""

    media_type = PROBLEM_MEDIA_TYPE

    def __init__(self, problem: ProblemError):
        super().__init__(problem.body(), status_code=problem.status, headers=problem.headers)
        self.slug = problem.type_slug

    async def __call__(self, scope, receive, send) -> None:
        count_problem(scope, self.slug, self.status_code)
        await super().__call__(scope, receive, send)


def problem_response(problem: ProblemError) -> JSONResponse:
    return ProblemResponse(problem)


async def _problem_handler(_request: Request, exc: ProblemError):
    return problem_response(exc)


async def _http_exception_handler(_request: Request, exc: StarletteHTTPException):
    slug = _SLUG_BY_STATUS.get(exc.status_code)
    if slug:
        problem = ProblemError.core(slug, _detail_text(exc.detail), headers=exc.headers)
    else:
        problem = ProblemError(exc.status_code, f"http-{exc.status_code}", "请求失败", "HTTP error",
                               _detail_text(exc.detail), headers=exc.headers)
    return problem_response(problem)


def _detail_text(detail: Any) -> str | None:
    return detail if isinstance(detail, str) else None


async def _validation_handler(_request: Request, exc: RequestValidationError):
    # The offending input is deliberately left out: it may be an ID number.
    errors = [{"loc": [str(p) for p in err.get("loc", ())], "msg": err.get("msg", ""),
               "type": err.get("type", "")} for err in exc.errors()]
    return problem_response(ProblemError.core(
        "validation-error", "; ".join(f"{'.'.join(e['loc'])}: {e['msg']}" for e in errors)[:2000],
        errors=errors))


# What HTTP says for each kind of domain error (formats.errors.Kind): the one place a kind
# becomes a status.
KIND_STATUS = {"invalid": 422, "malformed": 400, "forbidden": 403, "not-found": 404,
               "conflict": 409, "unavailable": 503}


def status_of(exc) -> int:
    """The HTTP status of a domain error (formats.errors.ServiceError)."""
    return KIND_STATUS[exc.kind.value]


async def _service_error_handler(_request: Request, exc):
    """A domain error (formats.errors.ServiceError) reached a route: its kind decides the status.

    RFC 9457 wants a title that does not vary between occurrences: a class may declare
    `title_zh`/`title_en` for that, and its messages then become `detail`/`detail_zh`.  Without
    them the messages serve as titles."""
    status = status_of(exc)
    title_zh, title_en = type(exc).title_zh, type(exc).title_en
    if title_zh and title_en:
        problem = ProblemError(status, exc.code, title_zh, title_en, exc.message_en,
                               detail_zh=exc.message_zh)
    else:
        problem = ProblemError(status, exc.code, exc.message_zh, exc.message_en)
    # Where in the request body the error is (RFC 6901), when the error knows: the console
    # shows the message next to that input (templates.TemplateError).
    if getattr(exc, "pointer", None):
        problem.extra["pointer"] = exc.pointer
    problem.extra.update(getattr(exc, "problem_members", {}))  # e.g. existing_identifier
    return problem_response(problem)


async def _database_error_handler(_request: Request, exc):
    """A pooled connection found dead (database restarted, network cut), or a new one refused
    (database stopped or starting: `db.engine`): SQLAlchemy has already invalidated the pool,
    the transaction wrote nothing, and a retry will reconnect — a 503 with Retry-After, not a
    500.  Likewise a database refusing writes (`_refuses_writes`).  Any other database error
    stays a 500 (the middleware)."""
    # A lost or refused connection first: a database shutting down answers 57P01 and drops the
    # connection, which is "unavailable" (it comes back), not "will not write".
    if getattr(exc, "connection_invalidated", False):
        return problem_response(ProblemError.core("database-unavailable", headers={"Retry-After": "1"}))
    if _refuses_writes(exc):
        return problem_response(ProblemError.core("database-unwritable", headers={"Retry-After": "5"}))
    raise exc


# The database is up but will not write now (read-only file or replica, locked, disk full, shut
# down): the transaction rolled back, so "try later" (503) is the truth — not a 500 (issue 14
# item 8).  SQLite primary result codes; PostgreSQL SQLSTATEs (read-only transaction, lock not
# available, insufficient resources, operator intervention).
_SQLITE_UNWRITABLE = {5, 6, 8, 10, 13}   # BUSY, LOCKED, READONLY, IOERR, FULL
_PG_UNWRITABLE = ("25006", "55P03", "53", "57P")


def _refuses_writes(exc) -> bool:
    orig = getattr(exc, "orig", None)
    code = getattr(orig, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in _SQLITE_UNWRITABLE
    state = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    return isinstance(state, str) and state.startswith(_PG_UNWRITABLE)


def install_problem_handlers(app: FastAPI) -> None:
    from sqlalchemy.exc import DBAPIError

    from formats.errors import ServiceError

    app.add_exception_handler(ProblemError, _problem_handler)
    app.add_exception_handler(StarletteHTTPException, _http_exception_handler)
    app.add_exception_handler(RequestValidationError, _validation_handler)
    app.add_exception_handler(ServiceError, _service_error_handler)
    app.add_exception_handler(DBAPIError, _database_error_handler)
    # Unhandled exceptions become a 500 problem in web.middleware.RequestMiddleware.

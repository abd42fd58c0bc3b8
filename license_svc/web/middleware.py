"""ASGI middleware: request id, access log, metrics (outermost) and the request-body limit.

Pure ASGI rather than BaseHTTPMiddleware so streaming bodies are counted as they arrive and the
context variable holding the request id is visible to the route and to the log lines it writes.
"""

from __future__ import annotations

import logging
import re
import time
import uuid

from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from formats.privacy import contains_id_number, mask_id_numbers
from license_svc.request_context import reset_request_id, set_request_id
from license_svc.web.metrics import HttpMetrics
from license_svc.web.problems import ProblemError, problem_response

access_log = logging.getLogger("license_svc.access")
_ACCEPTABLE_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")


def accept_or_make_request_id(incoming: str | None) -> str:
    """Keep a caller's X-Request-ID if it is a plain token (so it can be logged safely), else
    make one."""
    if incoming and _ACCEPTABLE_ID.fullmatch(incoming) and not contains_id_number(incoming):
        return incoming
    # The dashed form, not .hex: its longest run of digits is 12, so a generated id can never
    # look like a resident ID number to the log redactor or the audit log's check.
    return str(uuid.uuid4())


def _route_template(scope: Scope) -> str:
    route = scope.get("route")
    return getattr(route, "path", None) or "<unmatched>"


class RequestMiddleware:
    def __init__(self, app: ASGIApp, metrics: HttpMetrics):
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or ())
        request_id = accept_or_make_request_id(headers.get(b"x-request-id", b"").decode("latin-1"))
        token = set_request_id(request_id)
        scope.setdefault("state", {})["request_id"] = request_id
        status = 500
        started = time.perf_counter()

        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status, response_started = message["status"], True
                message.setdefault("headers", [])
                message["headers"] = list(message["headers"]) + [(b"x-request-id", request_id.encode())]
            await send(message)

        failed = False
        try:
            if "\x00" in scope.get("path", "") or b"%00" in scope.get("query_string", b""):
                # PostgreSQL text cannot hold NUL: refused here rather than as a database 500
                # wherever a path segment or query value reaches a lookup.
                await problem_response(ProblemError.core("bad-request", "NUL in the request target"))(
                    scope, receive, send_with_id)
                return
            await self.app(scope, receive, send_with_id)
        except RecursionError:
            # Only hostile input nests deep enough for this (JSON thousands of levels deep, parsed
            # or walked recursively by a route): the client's error, not a bug to page anyone for.
            access_log.warning("request nested too deeply")
            if not response_started:
                await problem_response(ProblemError.core(
                    "bad-request", "the request is nested too deeply"))(scope, receive, send_with_id)
        except Exception:
            # Handled here, inside the request id's scope, so the 500 carries the id and the
            # traceback is logged once, as JSON, redacted.  Not re-raised: nothing outside us
            # could add anything but a second, plain-text traceback.
            failed = True
            access_log.exception("unhandled error")
            if status == 500 and not response_started:
                await problem_response(ProblemError.core("internal-error"))(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = _route_template(scope)
            self.metrics.observe(scope["method"], route, status, elapsed)
            client = scope.get("state", {}).get("client")
            access_log.log(logging.ERROR if failed or status >= 500 else logging.INFO, "request",
                           extra={"method": scope["method"], "route": route,
                                  "path": mask_id_numbers(scope.get("path", "")),
                                  "status": status,
                                  "duration_ms": round(elapsed * 1000, 2),
                                  "client_id": getattr(client, "client_id", None)})
            reset_request_id(token)


class _BodyTooLarge(StarletteHTTPException):
    def __init__(self, limit: int):
        super().__init__(413, f"request body exceeds {limit} bytes")


class BodyLimitMiddleware:
    """Rejects bodies over `max_bytes` with 413 — by Content-Length up front, else while streaming."""

    def __init__(self, app: ASGIApp, max_bytes: int):
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.max_bytes
        declared = dict(scope.get("headers") or ()).get(b"content-length")
        if declared is not None:
            try:
                too_big = int(declared) > limit
            except ValueError:
                await problem_response(ProblemError.core("bad-request", "invalid Content-Length"))(
                    scope, receive, send)
                return
            if too_big:
                await self._reject(scope, receive, send)
                return

        received = 0
        response_started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _BodyTooLarge(limit)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal response_started
            response_started = response_started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except _BodyTooLarge:
            if response_started:
                raise
            await self._reject(scope, receive, send)

    async def _reject(self, scope: Scope, receive: Receive, send: Send) -> None:
        problem = ProblemError.core("body-too-large", f"request body exceeds {self.max_bytes} bytes",
                                    max_bytes=self.max_bytes)
        problem.headers["Connection"] = "close"
        await problem_response(problem)(scope, receive, send)

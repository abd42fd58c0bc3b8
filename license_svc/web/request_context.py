"""Per-request values reachable from anywhere in the request's call stack (logs, audit entries)."""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar

_request_id: ContextVar[str | None] = ContextVar("license_svc_request_id", default=None)
_ACCEPTABLE_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")


def current_request_id() -> str | None:
    """The X-Request-ID of the request being served (None outside a request)."""
    return _request_id.get()


def accept_or_make_request_id(incoming: str | None) -> str:
    """Keep a caller's id if it is a plain token (so it can be logged safely), else make one."""
    if incoming and _ACCEPTABLE_ID.match(incoming) and not _holds_resident_id(incoming):
        return incoming
    # The dashed form, not .hex: its longest run of digits is 12, so a generated id can never
    # look like a resident ID number to the log redactor or the audit log's check.
    return str(uuid.uuid4())


def _holds_resident_id(token: str) -> bool:
    """A resident ID number is a plain token too, but it would be echoed in headers and problem
    bodies, and the audit log refuses it (the caller's own action would then fail)."""
    from license_svc.identifiers import contains_resident_id  # imports signing: not at start-up

    return contains_resident_id(token)


def set_request_id(value: str | None):
    return _request_id.set(value)


def reset_request_id(token) -> None:
    _request_id.reset(token)

"""The id of the request being served, reachable from anywhere in its call stack.

Neutral ground: `web` sets it per request, logs and audit entries read it, and neither of those
has to import the HTTP layer for that.  Outside a request it is None.
"""

from __future__ import annotations

from contextvars import ContextVar, Token

_request_id: ContextVar[str | None] = ContextVar("license_svc_request_id", default=None)


def current_request_id() -> str | None:
    return _request_id.get()


def set_request_id(value: str | None) -> Token:
    return _request_id.set(value)


def reset_request_id(token: Token) -> None:
    _request_id.reset(token)

"""What the request being served carries, reachable from anywhere in its call stack.

Neutral ground: `web` sets it per request, logs and audit entries read it, and neither of those
has to import the HTTP layer for that.  Outside a request each value is None.

- the request id (set by the request middleware);
- the person acting through a page session (set by the auth dependency, license_svc/web/
  auth.py): the client the session acts as and the person's name, which the audit log records
  as `operator` of that client's entries when the code recording them names none — so every
  verification and retrieval a clerk makes from the pages says who made it, without each
  service function passing the name along.
"""

from __future__ import annotations

from contextvars import ContextVar, Token

_request_id: ContextVar[str | None] = ContextVar("license_svc_request_id", default=None)
_operator: ContextVar[tuple[str, str] | None] = ContextVar("license_svc_operator", default=None)


def current_request_id() -> str | None:
    return _request_id.get()


def set_request_id(value: str | None) -> Token:
    return _request_id.set(value)


def reset_request_id(token: Token) -> None:
    _request_id.reset(token)


def set_operator(client_id: str, operator: str | None) -> Token:
    """The person behind `client_id` for the rest of this request (None: nobody in particular)."""
    return _operator.set((client_id, operator) if operator else None)


def operator_for(client_id: str | None) -> str | None:
    """The signed-in person acting as `client_id` in this request, or None."""
    value = _operator.get()
    return value[1] if value is not None and client_id is not None and value[0] == client_id else None

"""Server-side sessions of the pages: a login under way, then a signed-in person.

The browser holds only a random token in an HttpOnly cookie; the table holds its SHA-256, what
the login needs to finish (state, nonce, PKCE verifier: `LOGIN`) or who signed in (`ACTIVE`),
and when the row stops counting.  Why on the server and not in a signed cookie: logout and
expiry must end a session everywhere at once, every worker process must see the same sessions,
and a citizen's ID number must never travel in a cookie.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import delete
from sqlalchemy.orm import Session

from license_svc.auth.models import WebSession

LOGIN, ACTIVE = "login", "active"


def _hash(token: str) -> str:
    return hashlib.sha256(b"license-svc/web-session/v1\0" + token.encode("utf-8")).hexdigest()


def create(session: Session, stage: str, data: dict[str, Any], *, now: datetime,
           expires_at: datetime) -> str:
    """Store a new session and return its token (the cookie value; shown nowhere else).
    Expired rows go at the same time, so the table holds what can still be used."""
    session.execute(delete(WebSession).where(WebSession.expires_at <= now))
    token = secrets.token_urlsafe(32)
    session.add(WebSession(id_hash=_hash(token), stage=stage, data=data, created_at=now,
                           expires_at=expires_at))
    session.flush()
    return token


def find(session: Session, token: str | None, stage: str) -> WebSession | None:
    """The row of `token` at `stage` (expired or not: the caller tells the two apart)."""
    if not token or len(token) > 128:
        return None
    row = session.get(WebSession, _hash(token))
    return row if row is not None and row.stage == stage else None


def take(session: Session, token: str | None, stage: str) -> WebSession | None:
    """`find`, then delete: a login's state and verifier are good for one callback only."""
    row = find(session, token, stage)
    if row is not None:
        session.delete(row)
        session.flush()
    return row


def end(session: Session, token: str | None) -> dict[str, Any] | None:
    """Delete the session of `token`; its data (for the provider's logout), or None."""
    row = find(session, token, ACTIVE)
    if row is None:
        return None
    data = dict(row.data)
    session.delete(row)
    return data

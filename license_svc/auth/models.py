"""API clients.  Only a hash of each bearer key is stored; the key itself is shown once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from license_svc.db.base import Base, utcnow


class ApiClient(Base):
    __tablename__ = "api_clients"

    client_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    region: Mapped[str] = mapped_column(String(8))
    org_code: Mapped[str] = mapped_column(String(32))
    roles: Mapped[list] = mapped_column(JSON)
    licence_types: Mapped[list] = mapped_column(JSON, default=list)
    holder_code: Mapped[str | None] = mapped_column(String(32))
    key_hash: Mapped[str] = mapped_column(String(80), unique=True)
    disabled: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class WebSession(Base):
    """A page's sign-in (license_svc/auth/sessions.py): a login under way (state, nonce, PKCE
    verifier) or a signed-in person.  Only a hash of the cookie is stored, so a copy of the table
    signs no one in; a row is useless after `expires_at` and purged."""

    __tablename__ = "web_sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    stage: Mapped[str] = mapped_column(String(16))  # "login" (under way) or "active"
    data: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)

"""Nonces of node-to-node requests already accepted (license_svc/federation/node_request.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from license_svc.db.base import Base


class SeenNodeRequest(Base):
    __tablename__ = "federation_seen_requests"

    nonce: Mapped[str] = mapped_column(String(32), primary_key=True)  # 16 bytes, hex
    region: Mapped[str] = mapped_column(String(8))                   # the calling node
    seen_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)

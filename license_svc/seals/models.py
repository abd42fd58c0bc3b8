"""The seal registry's table (license_svc/seals).

One row per seal made by this region's seal maker.  The signed seal (`der`) is written once and
never changed; only the registry status moves (active ⇄ suspended → revoked), and every move is
an audit-log entry in the same transaction, which is where its history lives.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from license_svc.db.base import Base


class SealRow(Base):
    __tablename__ = "seals"

    es_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    region: Mapped[str] = mapped_column(String(8))
    org_code: Mapped[str] = mapped_column(String(32), index=True)
    name: Mapped[str] = mapped_column(String(200))
    seal_type: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))  # active | suspended | revoked
    status_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    valid_start: Mapped[datetime]
    valid_end: Mapped[datetime]
    der: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime]

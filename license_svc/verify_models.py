"""The table behind online QR verification: presentation ids (EP1 `cti`) already scanned.

Why: an EP1 (亮证码) lives at most 60 s, but within that minute a screenshot could be shown
twice; the online verifier accepts each cti once.  A row is needed only while the presentation
could still pass its freshness check, so rows carry `expires_at` and are purged after it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from license_svc.db.base import Base


class SeenPresentation(Base):
    __tablename__ = "seen_presentations"

    cti: Mapped[str] = mapped_column(String(32), primary_key=True)  # 16 bytes, hex
    region: Mapped[str] = mapped_column(String(8))  # the node that signed the presentation
    seen_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)
    client_id: Mapped[str | None] = mapped_column(String(64), nullable=True)  # who scanned it first

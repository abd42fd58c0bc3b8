"""The disputes table.  Each node involved keeps its own row of one dispute under the same id
(a UUID made by the filing node), so both sides — and their audit logs — name one thing:

- the filing node's row (`filed_region` = this node) is what the filer reads;
- the issuing node's row (`issuing_region` = this node) is what the issuing organisation works on;
- a dispute about a licence of the filing node's own region is one row playing both parts.

The evidence is kept as bytes with its SHA-256 and checked content type on both nodes: the
issuing organisation decides on it, the filer may need to show what it sent.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from license_svc.db.base import Base


class Dispute(Base):
    __tablename__ = "disputes"
    __table_args__ = (
        Index("ix_disputes_issuer", "issuing_region", "issuer_code", "state", "due_at"),
        Index("ix_disputes_filer", "filed_region", "filer_org", "filed_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)        # UUID, made at filing
    filed_region: Mapped[str] = mapped_column(String(8))
    issuing_region: Mapped[str] = mapped_column(String(8))
    licence_id: Mapped[str] = mapped_column(String(200))
    issuer_code: Mapped[str] = mapped_column(String(32))
    filer_client: Mapped[str] = mapped_column(String(64))
    filer_org: Mapped[str] = mapped_column(String(32))
    category: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    evidence: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    evidence_type: Mapped[str | None] = mapped_column(String(64), nullable=True)
    evidence_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    filed_at: Mapped[datetime]
    due_at: Mapped[datetime]
    # pending-delivery | open | refused | resolved   (docs/api.md "Disputes")
    state: Mapped[str] = mapped_column(String(20))
    delivery_error: Mapped[str | None] = mapped_column(String(300), nullable=True)
    outcome: Mapped[str | None] = mapped_column(String(16), nullable=True)  # corrected | rejected
    new_identifier: Mapped[str | None] = mapped_column(String(200), nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(nullable=True)
    resolved_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # At the issuing node of another region's dispute: when the filing node took the outcome
    # (None while it still has to be sent; the retry step sends it).
    outcome_sent_at: Mapped[datetime | None] = mapped_column(nullable=True)

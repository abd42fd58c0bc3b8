"""The grants table: a holder's authorisation of a relying department (免证办 授权).

A grant names its holder only by the audit log's keyed holder reference, never by the holder
code: the department brings the code with each retrieval, the service recomputes the reference
and compares.  `uses_left` is the one column that changes in normal use, and only through a
single conditional UPDATE (`license_svc.grants.grants.consume_use`), which is what makes the
counter safe under concurrent retrievals; `revoked_at` is set once.  Expiry and "used up" are
not stored states: they follow from `valid_until`, `uses_left` and the time asked about.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from license_svc.db.base import Base


class Grant(Base):
    __tablename__ = "grants"
    __table_args__ = (
        Index("ix_grants_holder", "holder_ref", "created_at"),
        Index("ix_grants_grantee", "grantee_org", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    region: Mapped[str] = mapped_column(String(8))
    holder_ref: Mapped[str] = mapped_column(String(64))
    holder_code_type: Mapped[str] = mapped_column(String(8))  # 111 身份证 | 001 统一社会信用代码
    grantee_org: Mapped[str] = mapped_column(String(32))
    # The region whose node speaks for the grantee (a department of another region retrieves
    # through its own node, which the federation authenticates, not through an API key here).
    # NULL: the grant's own region (grants made before grants_0002).
    grantee_region: Mapped[str | None] = mapped_column(String(8), nullable=True)
    type_code: Mapped[str] = mapped_column(String(64))
    # Set for a grant covering one licence: its identifier as granted and its family (type,
    # issuer, serial), so an amendment's new version is still covered.
    licence_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    licence_family: Mapped[str | None] = mapped_column(String(160), nullable=True)
    matter_code: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    valid_until: Mapped[datetime]
    max_uses: Mapped[int | None] = mapped_column(Integer, nullable=True)  # None: until expiry
    uses_left: Mapped[int | None] = mapped_column(Integer, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(nullable=True)
    created_by: Mapped[str] = mapped_column(String(64))  # the holder's client id

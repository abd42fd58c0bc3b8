"""Federation tables: the lists this node has published, the last good list from each peer,
and the trust-list entries an operator withdrew.

Why keep published lists: a list's `sequence` must only grow (peers reject a lower one as a
rollback), and the same content must keep the same signed bytes between re-signings so ETags
stay stable; both need the previous publication.  Why keep synced lists in the database: after a
restart, or when a peer is down or serves something bad, the node keeps verifying with the last
list that verified (docs/federation.md), and a replayed older list can be refused by its sequence.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from license_svc.db.base import Base, utcnow

KIND_TRUST_LIST = "trust-list"
KIND_FEDERATION = "federation"


class PublishedList(Base):
    """A list this node signed (its region's trust list, or in development the federation list)."""

    __tablename__ = "federation_published"
    __table_args__ = (UniqueConstraint("kind", "region", "sequence",
                                       name="uq_federation_published_kind_region_sequence"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))
    region: Mapped[str] = mapped_column(String(16))   # "federation" for the list of lists
    sequence: Mapped[int] = mapped_column(BigInteger)
    content_sha256: Mapped[str] = mapped_column(String(64))  # payload without times/sequence
    envelope: Mapped[str] = mapped_column(Text)        # canonical JSON of the signed envelope
    etag: Mapped[str] = mapped_column(String(80))
    issued_at: Mapped[datetime]
    next_update: Mapped[datetime]


class SyncedList(Base):
    """The last good list fetched from a peer (or the federation list), with the state of the
    latest attempt.  One row per (kind, region); replaced only by a verified, not-older list."""

    __tablename__ = "federation_synced"

    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    region: Mapped[str] = mapped_column(String(16), primary_key=True)
    sequence: Mapped[int] = mapped_column(BigInteger)
    envelope: Mapped[str] = mapped_column(Text)
    etag: Mapped[str | None] = mapped_column(String(200), nullable=True)
    source_url: Mapped[str] = mapped_column(String(500))
    issued_at: Mapped[datetime]
    next_update: Mapped[datetime]
    fetched_at: Mapped[datetime]                       # when this envelope was accepted
    checked_at: Mapped[datetime]                       # latest attempt (also 304 answers)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)


class Withdrawal(Base):
    """An operator's decision to stop trusting one of this region's certificates from `since`
    (listed as status "withdrawn"; things it signed before `since` still verify)."""

    __tablename__ = "federation_withdrawals"

    cert_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    region: Mapped[str] = mapped_column(String(16))
    since: Mapped[datetime]
    reason: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

"""Licence tables.  Signed content is written once and never updated (DESIGN §4).

- `licence_versions`: one row per signed version (an amendment is a new row, new identifier);
  the record bytes, their signature, the EL1 text and the signed PDF live here, immutable.
- `licence_events`: the lifecycle, append-only; each event is itself a signed canonical JSON
  that names the hash of the previous event, so the current status is the last event and an
  edited or dropped event breaks the chain.  (identifier, seq) is unique: two concurrent
  changes to one licence cannot both land.
- `licence_idempotency_keys`: (client, key) → request hash and the identifiers produced, so a
  retried POST returns the licence it already made.
- Status-list slots are columns of the version row with a unique (list, index) pair.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from license_svc.db.base import Base


class LicenceVersion(Base):
    __tablename__ = "licence_versions"
    __table_args__ = (
        UniqueConstraint("family", "version", name="uq_licence_versions_family_version"),
        UniqueConstraint("status_list", "status_index", name="uq_licence_versions_status_slot"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    identifier: Mapped[str] = mapped_column(String(200), unique=True)
    # type.issuer.serial: what stays the same across versions of one licence
    family: Mapped[str] = mapped_column(String(160), index=True)
    version: Mapped[int] = mapped_column(Integer)
    region: Mapped[str] = mapped_column(String(8))
    type_code: Mapped[str] = mapped_column(String(64))
    issuer_code: Mapped[str] = mapped_column(String(32), index=True)
    holder_ref: Mapped[str] = mapped_column(String(80), index=True)
    algorithm: Mapped[str] = mapped_column(String(8))
    record: Mapped[str] = mapped_column(Text)  # exact canonical JSON that was signed
    data_hash: Mapped[str] = mapped_column(String(64))
    signature: Mapped[bytes] = mapped_column(LargeBinary)
    signer_cert: Mapped[bytes] = mapped_column(LargeBinary)
    el1: Mapped[str] = mapped_column(Text)
    pdf: Mapped[bytes] = mapped_column(LargeBinary)
    valid_until: Mapped[date | None] = mapped_column(Date, nullable=True)
    status_list: Mapped[str] = mapped_column(String(80))
    status_index: Mapped[int] = mapped_column(Integer)
    issued_at: Mapped[datetime]
    client_id: Mapped[str] = mapped_column(String(64))


class LicenceEvent(Base):
    __tablename__ = "licence_events"
    __table_args__ = (UniqueConstraint("identifier", "seq", name="uq_licence_events_identifier_seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    identifier: Mapped[str] = mapped_column(
        String(200), ForeignKey("licence_versions.identifier"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))  # status after this event
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(64))
    event: Mapped[str] = mapped_column(Text)  # exact canonical JSON that was signed
    signature: Mapped[bytes] = mapped_column(LargeBinary)
    signer_cert: Mapped[bytes] = mapped_column(LargeBinary)


class IdempotencyKey(Base):
    __tablename__ = "licence_idempotency_keys"

    client_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    result: Mapped[str] = mapped_column(Text)  # JSON list of identifiers produced
    created_at: Mapped[datetime]

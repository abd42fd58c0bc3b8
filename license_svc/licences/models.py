"""Licence tables.  Signed content is written once and never updated (docs/issuance.md).

- `licence_versions`: one row per signed version (an amendment is a new row, new identifier);
  the record bytes, their signature, the EL1 text and the signed PDF live here, immutable.
- `licence_events`: the lifecycle, append-only; each event is itself a signed canonical JSON
  that names the hash of the previous event, so the current status is the last event and an
  edited or dropped event breaks the chain.  (identifier, seq) is unique: two concurrent
  changes to one licence cannot both land.
- `licence_holders`: every holder of a version, by keyed reference and position (a marriage
  certificate has two); lookups "by holder" go through it (`license_svc.licences.holders`).
- `licence_idempotency_keys`: (client, key) → request hash and the identifiers produced, so a
  retried POST returns the licence it already made.
- `licence_ofd`: a version's sealed OFD file, made once and kept (docs/ofd.md).
- Status-list slots are columns of the version row with a unique (list, index) pair.
- `licence_versions.unique_key`: the only column ever updated — bookkeeping, not signed content.
  Set while the version is in force, NULL after (`license_svc.licences.uniqueness`); its unique
  index is what keeps a holder from having the same licence twice, even under concurrency.
"""

from __future__ import annotations

import functools
from datetime import date, datetime

from sqlalchemy import (Date, ForeignKey, Index, Integer, LargeBinary, String, Text,
                        UniqueConstraint, inspect, insert)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from license_svc.db.base import Base


class LicenceVersion(Base):
    __tablename__ = "licence_versions"
    __table_args__ = (
        UniqueConstraint("family", "version", name="uq_licence_versions_family_version"),
        UniqueConstraint("status_list", "status_index", name="uq_licence_versions_status_slot"),
        Index("ux_licence_versions_unique_key", "unique_key", unique=True),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    identifier: Mapped[str] = mapped_column(String(200), unique=True)
    # type.issuer.serial: what stays the same across versions of one licence
    family: Mapped[str] = mapped_column(String(160), index=True)
    version: Mapped[int] = mapped_column(Integer)
    region: Mapped[str] = mapped_column(String(8))
    type_code: Mapped[str] = mapped_column(String(64))
    issuer_code: Mapped[str] = mapped_column(String(32), index=True)
    # The FIRST holder's keyed reference only (named in licence-wide audit entries); finding a
    # licence by holder uses `licence_holders`, which lists every holder.
    holder_ref: Mapped[str] = mapped_column(String(80))
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
    # HMAC of what makes this licence "the same licence" (template `unique`) while in force
    unique_key: Mapped[str | None] = mapped_column(String(64), nullable=True)


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


class LicenceHolder(Base):
    """One holder of one version: (identifier, position) with position 0 the first holder as
    listed in the record.  Per version, not per family: an amendment may change the holders, and
    each version's holders are the ones its signed record names.  Only the keyed reference is
    stored (docs/formats.md "Holder reference"), never the code; the record has it in clear."""

    __tablename__ = "licence_holders"
    __table_args__ = (Index("ix_licence_holders_holder_ref", "holder_ref", "identifier"),)

    identifier: Mapped[str] = mapped_column(
        String(200), ForeignKey("licence_versions.identifier"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    holder_ref: Mapped[str] = mapped_column(String(64))


class LicenceOfd(Base):
    """A version's sealed OFD file (signing.ofd), made once — on first request, or at issuance
    when asked for — and kept, so every download of it is the same file (docs/ofd.md)."""

    __tablename__ = "licence_ofd"

    identifier: Mapped[str] = mapped_column(
        String(200), ForeignKey("licence_versions.identifier"), primary_key=True)
    ofd: Mapped[bytes] = mapped_column(LargeBinary)
    made_at: Mapped[datetime]


class IdempotencyKey(Base):
    __tablename__ = "licence_idempotency_keys"

    client_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    result: Mapped[str] = mapped_column(Text)  # JSON list of identifiers produced
    created_at: Mapped[datetime]


def insert_row(session: Session, row, *, unless_taken: tuple[str, ...] | None = None) -> bool:
    """INSERT a new `LicenceVersion`/`LicenceEvent` with one Core statement in `session`'s
    transaction; `row` stays a plain (transient) object holding what was written.  Returns
    whether it was written.

    Why not `session.add`: these rows are written once and never updated, so the ORM's unit of
    work (change tracking, flush ordering, identity map) buys nothing here, and its flush was
    about a millisecond of every issuance.  Reading them back in the same transaction works as
    for any row (same connection).  The generated `id` is not read back (`inline`: no
    RETURNING): nothing uses it, and result handling is a cost on every issuance.

    `unless_taken` names the columns of a unique constraint: a row clashing on it is not
    written (False) — `ON CONFLICT (...) DO NOTHING`, on PostgreSQL and SQLite alike — so the
    caller can try other values without a SELECT first, and without its transaction being
    aborted.  A clash on any other constraint still raises."""
    mapper = inspect(type(row))
    values = {prop.columns[0].key: getattr(row, prop.key) for prop in mapper.column_attrs
              if prop.key in row.__dict__}
    stmt = _insert_statement(mapper.local_table, session.get_bind().dialect.name, unless_taken)
    result = session.execute(stmt, values)
    return unless_taken is None or result.rowcount == 1  # a plain INSERT raises or writes


@functools.lru_cache(maxsize=32)
def _insert_statement(table, dialect: str, unless_taken: tuple[str, ...] | None):
    """One statement object per table and variant, values bound at execution: building and
    cache-keying a fresh INSERT … ON CONFLICT with its values on every call cost ~0.3 ms of an
    issuance (py-spy, 2026-12-05)."""
    if unless_taken is None:
        return insert(table).inline()
    module = {"postgresql": postgresql, "sqlite": sqlite}[dialect]
    # preserve_rowcount: the cursor of a statement without result rows is closed at once, and
    # its rowcount (1 written, 0 skipped) is what says whether the slot was free.
    return (module.insert(table).inline().on_conflict_do_nothing(index_elements=list(unless_taken))
            .execution_options(preserve_rowcount=True))

"""Audit log tables (docs/formats.md).  Everything except the queue is append-only.

- `audit_queue`: entries recorded but not yet sequenced.  `append` INSERTs here in the caller's
  transaction (no shared row: concurrent actions do not wait for each other's commits, so
  PostgreSQL can flush them in one WAL write); `id` comes from the database (an identity
  sequence on PostgreSQL, AUTOINCREMENT on SQLite: never reused).  Each row already holds the
  exact leaf bytes and their leaf hash.  The sequencer (`license_svc.audit.sequencer`) moves
  committed rows into `audit_entries` and deletes them here, in one transaction.
- `audit_entries`: one row per sequenced entry, `idx` consecutive from 0 with no gaps; `leaf`
  holds the exact canonical-JSON bytes that were hashed; `queue_id` the queue row it came from
  (unique: a queue row can never be sequenced twice); the other columns are copies for lookups.
- `audit_nodes`: the hash of every perfect subtree, (level, index) = 2**level leaves from
  index << level; level 0 holds the leaf hashes.  Proofs read O(log n) of these rows, and the
  tree size is the highest level-0 index + 1.
- `audit_checkpoints`: every signed checkpoint note, by tree size.

The database refuses UPDATE and DELETE on the append-only tables through triggers (created
with the tables here for tests and by the migration `audit_0001`).  Production should also
`REVOKE UPDATE, DELETE, TRUNCATE ON audit_entries, audit_nodes, audit_checkpoints FROM <app role>`
and `REVOKE UPDATE, TRUNCATE ON audit_queue` (docs/formats.md "Audit checkpoints").
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (BigInteger, Index, Integer, LargeBinary, SmallInteger, String, Text, event,
                        text)
from sqlalchemy.orm import Mapped, mapped_column

from license_svc.db.base import Base

APPEND_ONLY_TABLES = ("audit_entries", "audit_nodes", "audit_checkpoints")


class AuditEntryRow(Base):
    __tablename__ = "audit_entries"
    __table_args__ = (
        Index("ix_audit_entries_holder", "holder_ref", "idx"),
        Index("ix_audit_entries_licence", "licence_id", "idx"),
        Index("ux_audit_entries_queue_id", "queue_id", unique=True),
    )

    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    leaf: Mapped[bytes] = mapped_column(LargeBinary)
    time: Mapped[datetime]
    action: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(16))
    actor_org: Mapped[str] = mapped_column(String(256))
    licence_id: Mapped[str | None] = mapped_column(String(256), nullable=True)
    holder_ref: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # NULL only for entries appended before the queue existed (migration audit_0002).
    queue_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class AuditNode(Base):
    __tablename__ = "audit_nodes"

    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class AuditCheckpoint(Base):
    __tablename__ = "audit_checkpoints"

    size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    root: Mapped[bytes] = mapped_column(LargeBinary(32))
    note: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]


class AuditQueueRow(Base):
    __tablename__ = "audit_queue"
    __table_args__ = {"sqlite_autoincrement": True}  # ids never reused after the sequencer deletes

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
                                    autoincrement=True)
    leaf: Mapped[bytes] = mapped_column(LargeBinary)
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    time: Mapped[datetime]
    action: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(16))
    actor_org: Mapped[str] = mapped_column(String(256))
    licence_id: Mapped[str | None] = mapped_column(String(256), nullable=True)
    holder_ref: Mapped[str | None] = mapped_column(String(64), nullable=True)


class AuditCosignature(Base):
    """A witness's cosignature on one of this log's checkpoints (by size), as delivered by the
    witness; `GET /api/v1/audit/checkpoint` adds these lines to the note.  One per witness and
    size: a later delivery replaces nothing (the first valid one stays)."""

    __tablename__ = "audit_cosignatures"

    size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    witness: Mapped[str] = mapped_column(String(128), primary_key=True)
    line: Mapped[str] = mapped_column(Text)          # the signed-note signature line
    received_at: Mapped[datetime]


class WitnessState(Base):
    """What this node, as a witness, last cosigned for a peer log (by origin).  Only ever moves
    forward, and only along a verified consistency proof."""

    __tablename__ = "audit_witness_state"

    origin: Mapped[str] = mapped_column(String(128), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    root: Mapped[bytes] = mapped_column(LargeBinary(32))
    note: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime]


class WitnessIncident(Base):
    """Evidence that a peer log misbehaved (fork, rollback, truncation, bad proof, bad
    signature): the cosigned note, the offending note and the proof, as JSON.  `digest`
    (SHA-256 of the evidence) is unique, so a witness seeing the same bad checkpoint every
    round records it once."""

    __tablename__ = "audit_witness_incidents"
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
                                    autoincrement=True)
    origin: Mapped[str] = mapped_column(String(128), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime]
    detail: Mapped[str] = mapped_column(Text)
    evidence: Mapped[str] = mapped_column(Text)
    digest: Mapped[str] = mapped_column(String(64), unique=True)


def append_only_ddl(dialect: str, tables=APPEND_ONLY_TABLES) -> list[str]:
    """Trigger DDL that makes `tables` refuse UPDATE and DELETE.  TRUNCATE is left to the
    REVOKE above: the test fixtures empty every table between tests with it."""
    if dialect == "postgresql":
        stmts = ["""
CREATE OR REPLACE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit log is append-only: % on % refused', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'insufficient_privilege';
END $$"""]
        for t in tables:
            stmts.append(f"CREATE TRIGGER {t}_append_only BEFORE UPDATE OR DELETE ON {t} "
                         f"FOR EACH ROW EXECUTE FUNCTION audit_append_only()")
        return stmts
    if dialect == "sqlite":
        return [f"CREATE TRIGGER {t}_no_{op.lower()} BEFORE {op} ON {t} "
                f"BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END"
                for t in tables for op in ("UPDATE", "DELETE")]
    return []


def _install_triggers(table, connection, **_):
    for stmt in append_only_ddl(connection.dialect.name, (table.name,)):
        connection.execute(text(stmt))  # text(), not DDL(): DDL %-formats the PL/pgSQL body


# metadata.create_all (benchmarks, scratch databases) gets the same triggers as the migration.
for _model in (AuditEntryRow, AuditNode, AuditCheckpoint):
    event.listen(_model.__table__, "after_create", _install_triggers)

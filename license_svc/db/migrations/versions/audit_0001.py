"""Audit log: entries, stored subtree hashes, checkpoints, the size counter; append-only triggers
(license_svc/audit/models.py).

Revision ID: audit_0001
Revises: 0001_core
"""
from alembic import op
import sqlalchemy as sa

from license_svc.audit.models import append_only_ddl
from license_svc.db.base import UTCDateTime

revision = "audit_0001"
down_revision = "0001_core"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_entries",
        sa.Column("idx", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("leaf", sa.LargeBinary(), nullable=False),
        sa.Column("time", UTCDateTime(), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("actor_org", sa.String(256), nullable=False),
        sa.Column("licence_id", sa.String(256), nullable=True),
        sa.Column("holder_ref", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("idx", name=op.f("pk_audit_entries")),
    )
    op.create_index("ix_audit_entries_holder", "audit_entries", ["holder_ref", "idx"])
    op.create_index("ix_audit_entries_licence", "audit_entries", ["licence_id", "idx"])
    op.create_table(
        "audit_nodes",
        sa.Column("level", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("idx", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.LargeBinary(32), nullable=False),
        sa.PrimaryKeyConstraint("level", "idx", name=op.f("pk_audit_nodes")),
    )
    op.create_table(
        "audit_checkpoints",
        sa.Column("size", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("root", sa.LargeBinary(32), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("size", name=op.f("pk_audit_checkpoints")),
    )
    op.create_table(
        "audit_log_state",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log_state")),
    )
    for stmt in append_only_ddl(op.get_bind().dialect.name):
        op.execute(stmt)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS audit_append_only() CASCADE")
    for table in ("audit_log_state", "audit_checkpoints", "audit_nodes", "audit_entries"):
        op.drop_table(table)

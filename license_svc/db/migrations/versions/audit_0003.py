"""Witnessed audit logs (issue 13 part 4): cosignatures this log received, what this node as a
witness last cosigned for each peer log, and the incidents it recorded
(license_svc/audit/models.py, license_svc/audit/witness.py).

Revision ID: audit_0003
Revises: audit_0002
"""
from alembic import op
import sqlalchemy as sa

from license_svc.db.base import UTCDateTime

revision = "audit_0003"
down_revision = "audit_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_cosignatures",
        sa.Column("size", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("witness", sa.String(128), nullable=False),
        sa.Column("line", sa.Text(), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("size", "witness", name=op.f("pk_audit_cosignatures")),
    )
    op.create_table(
        "audit_witness_state",
        sa.Column("origin", sa.String(128), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("root", sa.LargeBinary(32), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("origin", name=op.f("pk_audit_witness_state")),
    )
    op.create_table(
        "audit_witness_incidents",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True,
                  nullable=False),
        sa.Column("origin", sa.String(128), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_witness_incidents")),
        sa.UniqueConstraint("digest", name=op.f("uq_audit_witness_incidents_digest")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_audit_witness_incidents_origin"), "audit_witness_incidents",
                    ["origin"])


def downgrade() -> None:
    for table in ("audit_witness_incidents", "audit_witness_state", "audit_cosignatures"):
        op.drop_table(table)

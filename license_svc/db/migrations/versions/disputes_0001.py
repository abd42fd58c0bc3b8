"""Disputes (license_svc/disputes/models.py).

Revision ID: disputes_0001
Revises: 0001_core
"""
from alembic import op
import sqlalchemy as sa

from license_svc.db.base import UTCDateTime

revision = "disputes_0001"
down_revision = "0001_core"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "disputes",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("filed_region", sa.String(8), nullable=False),
        sa.Column("issuing_region", sa.String(8), nullable=False),
        sa.Column("licence_id", sa.String(200), nullable=False),
        sa.Column("issuer_code", sa.String(32), nullable=False),
        sa.Column("filer_client", sa.String(64), nullable=False),
        sa.Column("filer_org", sa.String(32), nullable=False),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("evidence", sa.LargeBinary(), nullable=True),
        sa.Column("evidence_type", sa.String(64), nullable=True),
        sa.Column("evidence_sha256", sa.String(64), nullable=True),
        sa.Column("filed_at", UTCDateTime(), nullable=False),
        sa.Column("due_at", UTCDateTime(), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("delivery_error", sa.String(300), nullable=True),
        sa.Column("outcome", sa.String(16), nullable=True),
        sa.Column("new_identifier", sa.String(200), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("resolved_at", UTCDateTime(), nullable=True),
        sa.Column("resolved_by", sa.String(64), nullable=True),
        sa.Column("outcome_sent_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_disputes")),
    )
    op.create_index("ix_disputes_issuer", "disputes",
                    ["issuing_region", "issuer_code", "state", "due_at"])
    op.create_index("ix_disputes_filer", "disputes", ["filed_region", "filer_org", "filed_at"])


def downgrade() -> None:
    op.drop_index("ix_disputes_filer", table_name="disputes")
    op.drop_index("ix_disputes_issuer", table_name="disputes")
    op.drop_table("disputes")

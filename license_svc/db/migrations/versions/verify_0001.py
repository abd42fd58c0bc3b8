"""Online QR verification: EP1 presentation ids already seen (license_svc/verify_models.py).

Revision ID: verify_0001
Revises: 0001_core
"""
from alembic import op
import sqlalchemy as sa

from license_svc.db.base import UTCDateTime

revision = "verify_0001"
down_revision = "0001_core"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "seen_presentations",
        sa.Column("cti", sa.String(32), nullable=False),
        sa.Column("region", sa.String(8), nullable=False),
        sa.Column("seen_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("client_id", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("cti", name=op.f("pk_seen_presentations")),
    )
    op.create_index(op.f("ix_seen_presentations_expires_at"), "seen_presentations", ["expires_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_seen_presentations_expires_at"), table_name="seen_presentations")
    op.drop_table("seen_presentations")

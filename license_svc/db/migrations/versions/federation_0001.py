"""Federation: published lists, last good synced lists, withdrawals (license_svc/federation/models.py).

Revision ID: federation_0001
Revises: 0001_core
"""
from alembic import op
import sqlalchemy as sa

from license_svc.db.base import UTCDateTime

revision = "federation_0001"
down_revision = "0001_core"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "federation_published",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("region", sa.String(16), nullable=False),
        sa.Column("sequence", sa.BigInteger(), nullable=False),
        sa.Column("content_sha256", sa.String(64), nullable=False),
        sa.Column("envelope", sa.Text(), nullable=False),
        sa.Column("etag", sa.String(80), nullable=False),
        sa.Column("issued_at", UTCDateTime(), nullable=False),
        sa.Column("next_update", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_federation_published")),
        sa.UniqueConstraint("kind", "region", "sequence",
                            name="uq_federation_published_kind_region_sequence"),
    )
    op.create_table(
        "federation_synced",
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("region", sa.String(16), nullable=False),
        sa.Column("sequence", sa.BigInteger(), nullable=False),
        sa.Column("envelope", sa.Text(), nullable=False),
        sa.Column("etag", sa.String(200), nullable=True),
        sa.Column("source_url", sa.String(500), nullable=False),
        sa.Column("issued_at", UTCDateTime(), nullable=False),
        sa.Column("next_update", UTCDateTime(), nullable=False),
        sa.Column("fetched_at", UTCDateTime(), nullable=False),
        sa.Column("checked_at", UTCDateTime(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("kind", "region", name=op.f("pk_federation_synced")),
    )
    op.create_table(
        "federation_withdrawals",
        sa.Column("cert_sha256", sa.String(64), nullable=False),
        sa.Column("region", sa.String(16), nullable=False),
        sa.Column("since", UTCDateTime(), nullable=False),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("cert_sha256", name=op.f("pk_federation_withdrawals")),
    )


def downgrade() -> None:
    op.drop_table("federation_withdrawals")
    op.drop_table("federation_synced")
    op.drop_table("federation_published")

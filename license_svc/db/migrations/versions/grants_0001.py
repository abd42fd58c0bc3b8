"""Holder grants to relying departments (license_svc/grants/models.py).

Revision ID: grants_0001
Revises: 0001_core
"""
from alembic import op
import sqlalchemy as sa

from license_svc.db.base import UTCDateTime

revision = "grants_0001"
down_revision = "0001_core"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "grants",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("region", sa.String(8), nullable=False),
        sa.Column("holder_ref", sa.String(64), nullable=False),
        sa.Column("holder_code_type", sa.String(8), nullable=False),
        sa.Column("grantee_org", sa.String(32), nullable=False),
        sa.Column("type_code", sa.String(64), nullable=False),
        sa.Column("licence_id", sa.String(200), nullable=True),
        sa.Column("licence_family", sa.String(160), nullable=True),
        sa.Column("matter_code", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("valid_until", UTCDateTime(), nullable=False),
        sa.Column("max_uses", sa.Integer(), nullable=True),
        sa.Column("uses_left", sa.Integer(), nullable=True),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grants")),
    )
    op.create_index("ix_grants_holder", "grants", ["holder_ref", "created_at"])
    op.create_index("ix_grants_grantee", "grants", ["grantee_org", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_grants_grantee", table_name="grants")
    op.drop_index("ix_grants_holder", table_name="grants")
    op.drop_table("grants")

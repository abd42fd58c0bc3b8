"""Core tables: API clients (bearer keys hashed at rest).

Revision ID: 0001_core
Revises:
"""
from alembic import op
import sqlalchemy as sa

from license_svc.db.base import UTCDateTime

revision = "0001_core"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_clients",
        sa.Column("client_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("region", sa.String(8), nullable=False),
        sa.Column("org_code", sa.String(32), nullable=False),
        sa.Column("roles", sa.JSON(), nullable=False),
        sa.Column("licence_types", sa.JSON(), nullable=False),
        sa.Column("holder_code", sa.String(32), nullable=True),
        sa.Column("key_hash", sa.String(80), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("client_id", name=op.f("pk_api_clients")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_api_clients_key_hash")),
    )


def downgrade() -> None:
    op.drop_table("api_clients")

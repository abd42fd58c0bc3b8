"""Node-to-node requests: nonces already accepted (license_svc/federation/node_request_models.py).

Revision ID: federation_0002
Revises: federation_0001
"""
from alembic import op
import sqlalchemy as sa

from license_svc.db.base import UTCDateTime

revision = "federation_0002"
down_revision = "federation_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "federation_seen_requests",
        sa.Column("nonce", sa.String(32), nullable=False),
        sa.Column("region", sa.String(8), nullable=False),
        sa.Column("seen_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("nonce", name=op.f("pk_federation_seen_requests")),
    )
    op.create_index(op.f("ix_federation_seen_requests_expires_at"), "federation_seen_requests",
                    ["expires_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_federation_seen_requests_expires_at"),
                  table_name="federation_seen_requests")
    op.drop_table("federation_seen_requests")

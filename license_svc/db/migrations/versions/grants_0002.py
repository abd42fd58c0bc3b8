"""Grants may name a department of another region (cross-region retrieval, issue 13).

Revision ID: grants_0002
Revises: grants_0001

`grantee_region`: the region whose node speaks for the grantee department.  NULL on grants made
before this revision, which means the grant's own region (they could only name local
departments).
"""
from alembic import op
import sqlalchemy as sa

revision = "grants_0002"
down_revision = "grants_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("grants") as batch:
        batch.add_column(sa.Column("grantee_region", sa.String(8), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("grants") as batch:
        batch.drop_column("grantee_region")

"""Signed-in sessions from before the ID number was sealed end: their rows could hold a
citizen's ID number in clear (license_svc/auth/holder_seal.py).  People sign in again.

Revision ID: auth_0002
Revises: auth_0001
"""
from alembic import op
import sqlalchemy as sa

revision = "auth_0002"
down_revision = "auth_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(sa.text("DELETE FROM web_sessions WHERE stage = 'active'"))


def downgrade() -> None:
    """Nothing to restore: the sessions ended."""

"""Licence PDFs stored without PostgreSQL's TOAST compression.

Why: a licence PDF is already Flate-compressed (page, fonts, seal picture) and its signature is
hex that pglz does not shrink enough to keep, so PostgreSQL tried to compress every ~110 KB PDF
on INSERT, failed, and stored it as it was: 3–4 ms of server time per issued licence for
nothing (docs/performance.md "Issuance").  EXTERNAL keeps the value out of line, uncompressed.
SQLite has no such setting; there this revision does nothing.

Revision ID: licences_storage_0001
Revises: licences_0001
"""
from alembic import op

revision = "licences_storage_0001"
down_revision = "licences_0001"
branch_labels = None
depends_on = None


def _set_storage(storage: str) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE licence_versions ALTER COLUMN pdf SET STORAGE {storage}")


def upgrade() -> None:
    _set_storage("EXTERNAL")


def downgrade() -> None:
    _set_storage("EXTENDED")

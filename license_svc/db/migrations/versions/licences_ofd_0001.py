"""Licence OFD files (license_svc/licences/models.py `LicenceOfd`): one sealed OFD per licence
version, made the first time it is asked for (or at issuance with `issue --format ofd|both`)
and kept, so every download is the same file.

Revision ID: licences_ofd_0001
Revises: licences_0002
"""
from alembic import op
import sqlalchemy as sa

from license_svc.db.base import UTCDateTime

revision = "licences_ofd_0001"
down_revision = "licences_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "licence_ofd",
        sa.Column("identifier", sa.String(200), nullable=False),
        sa.Column("ofd", sa.LargeBinary(), nullable=False),
        sa.Column("made_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["identifier"], ["licence_versions.identifier"],
                                name=op.f("fk_licence_ofd_identifier_licence_versions")),
        sa.PrimaryKeyConstraint("identifier", name=op.f("pk_licence_ofd")),
    )
    if op.get_bind().dialect.name == "postgresql":  # already compressed: see licences_storage_0001
        op.execute("ALTER TABLE licence_ofd ALTER COLUMN ofd SET STORAGE EXTERNAL")


def downgrade() -> None:
    op.drop_table("licence_ofd")

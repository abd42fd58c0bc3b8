"""Licence versions, lifecycle events, idempotency keys (license_svc/licences/models.py).

Revision ID: licences_0001
Revises: 0001_core
"""
from alembic import op
import sqlalchemy as sa

from license_svc.db.base import UTCDateTime

revision = "licences_0001"
down_revision = "0001_core"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "licence_versions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("identifier", sa.String(200), nullable=False),
        sa.Column("family", sa.String(160), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("region", sa.String(8), nullable=False),
        sa.Column("type_code", sa.String(64), nullable=False),
        sa.Column("issuer_code", sa.String(32), nullable=False),
        sa.Column("holder_ref", sa.String(80), nullable=False),
        sa.Column("algorithm", sa.String(8), nullable=False),
        sa.Column("record", sa.Text(), nullable=False),
        sa.Column("data_hash", sa.String(64), nullable=False),
        sa.Column("signature", sa.LargeBinary(), nullable=False),
        sa.Column("signer_cert", sa.LargeBinary(), nullable=False),
        sa.Column("el1", sa.Text(), nullable=False),
        sa.Column("pdf", sa.LargeBinary(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("status_list", sa.String(80), nullable=False),
        sa.Column("status_index", sa.Integer(), nullable=False),
        sa.Column("issued_at", UTCDateTime(), nullable=False),
        sa.Column("client_id", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_licence_versions")),
        sa.UniqueConstraint("identifier", name=op.f("uq_licence_versions_identifier")),
        sa.UniqueConstraint("family", "version", name="uq_licence_versions_family_version"),
        sa.UniqueConstraint("status_list", "status_index", name="uq_licence_versions_status_slot"),
    )
    op.create_index(op.f("ix_licence_versions_family"), "licence_versions", ["family"])
    op.create_index(op.f("ix_licence_versions_issuer_code"), "licence_versions", ["issuer_code"])
    op.create_index(op.f("ix_licence_versions_holder_ref"), "licence_versions", ["holder_ref"])

    op.create_table(
        "licence_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("identifier", sa.String(200), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("event", sa.Text(), nullable=False),
        sa.Column("signature", sa.LargeBinary(), nullable=False),
        sa.Column("signer_cert", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["identifier"], ["licence_versions.identifier"],
                                name=op.f("fk_licence_events_identifier_licence_versions")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_licence_events")),
        sa.UniqueConstraint("identifier", "seq", name="uq_licence_events_identifier_seq"),
    )
    op.create_index(op.f("ix_licence_events_identifier"), "licence_events", ["identifier"])

    op.create_table(
        "licence_idempotency_keys",
        sa.Column("client_id", sa.String(64), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("result", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("client_id", "key", name=op.f("pk_licence_idempotency_keys")),
    )


def downgrade() -> None:
    op.drop_table("licence_idempotency_keys")
    op.drop_index(op.f("ix_licence_events_identifier"), table_name="licence_events")
    op.drop_table("licence_events")
    op.drop_index(op.f("ix_licence_versions_holder_ref"), table_name="licence_versions")
    op.drop_index(op.f("ix_licence_versions_issuer_code"), table_name="licence_versions")
    op.drop_index(op.f("ix_licence_versions_family"), table_name="licence_versions")
    op.drop_table("licence_versions")

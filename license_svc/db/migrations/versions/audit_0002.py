"""Audit log: the unsequenced queue (appends no longer share a counter row), queue_id on
entries, tree size read from the leaf hashes instead of the counter
(license_svc/audit/models.py, license_svc/audit/sequencer.py).

Revision ID: audit_0002
Revises: audit_0001
"""
from alembic import op
import sqlalchemy as sa

from license_svc.db.base import UTCDateTime

revision = "audit_0002"
down_revision = "audit_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_queue",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True,
                  nullable=False),
        sa.Column("leaf", sa.LargeBinary(), nullable=False),
        sa.Column("leaf_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("time", UTCDateTime(), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("actor_org", sa.String(256), nullable=False),
        sa.Column("licence_id", sa.String(256), nullable=True),
        sa.Column("holder_ref", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_queue")),
        sqlite_autoincrement=True,
    )
    # A nullable column and an index: no rewrite of audit_entries, and the append-only triggers
    # (row-level UPDATE/DELETE) are untouched.
    op.add_column("audit_entries", sa.Column("queue_id", sa.BigInteger(), nullable=True))
    op.create_index("ux_audit_entries_queue_id", "audit_entries", ["queue_id"], unique=True)
    op.drop_table("audit_log_state")


def downgrade() -> None:
    bind = op.get_bind()
    if bind.execute(sa.text("SELECT 1 FROM audit_queue LIMIT 1")).first() is not None:
        raise RuntimeError("audit_queue holds unsequenced entries; run the service (or "
                           "`license-svc audit checkpoint`) to sequence them before downgrading")
    op.create_table(
        "audit_log_state",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log_state")),
    )
    op.execute("INSERT INTO audit_log_state (id, size) SELECT 1, max(idx) + 1 FROM audit_nodes "
               "WHERE level = 0 HAVING max(idx) IS NOT NULL")
    op.drop_index("ux_audit_entries_queue_id", table_name="audit_entries")
    # Plain ALTER (SQLite >= 3.35 has DROP COLUMN): a batch table copy would drop the triggers.
    op.execute("ALTER TABLE audit_entries DROP COLUMN queue_id")
    op.drop_table("audit_queue")

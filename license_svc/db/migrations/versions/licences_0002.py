"""Every holder of a licence, not only the first: the `licence_holders` table
(license_svc/licences/models.py, license_svc/licences/holders.py).

Until now a licence was found "by holder" through `licence_versions.holder_ref`, the keyed
reference of its FIRST holder only, so a marriage certificate's second spouse could not grant,
be retrieved for, list or see the accesses to it.  This revision adds one row per holder and
version, and fills it for the licences already stored:

- position 0 from `licence_versions.holder_ref` (no secret needed);
- positions 1, 2, … from the holder codes in the stored record, which needs the region's
  holder-reference secret.  It is used only when the upgrade was given the settings
  (`license_svc.db.upgrade(settings)`: `serve`, the CLI) and only for rows whose stored first
  reference it reproduces (the right secret for that row); it is read, never created here.
  Without it those rows keep their first holder only, and a warning gives their number.

The old single-column index goes: nothing looks licences up by `holder_ref` any more.

Revision ID: licences_0002
Revises: licences_0001
"""
import json
import logging
from pathlib import Path

from alembic import op
import sqlalchemy as sa

revision = "licences_0002"
down_revision = "licences_0001"
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")
BATCH = 500

_versions = sa.table("licence_versions", sa.column("id", sa.Integer()),
                     sa.column("identifier", sa.String()), sa.column("holder_ref", sa.String()),
                     sa.column("record", sa.Text()))
_holders = sa.table("licence_holders", sa.column("identifier", sa.String()),
                    sa.column("position", sa.Integer()), sa.column("holder_ref", sa.String()))


def upgrade() -> None:
    op.create_table(
        "licence_holders",
        sa.Column("identifier", sa.String(200), nullable=False),
        sa.Column("position", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("holder_ref", sa.String(64), nullable=False),
        sa.ForeignKeyConstraint(["identifier"], ["licence_versions.identifier"],
                                name=op.f("fk_licence_holders_identifier_licence_versions")),
        sa.PrimaryKeyConstraint("identifier", "position", name=op.f("pk_licence_holders")),
    )
    op.create_index("ix_licence_holders_holder_ref", "licence_holders", ["holder_ref", "identifier"])
    op.execute(_holders.insert().from_select(
        ["identifier", "position", "holder_ref"],
        sa.select(_versions.c.identifier, sa.literal(0, sa.Integer()), _versions.c.holder_ref)))
    _backfill_other_holders(op.get_bind())
    op.drop_index(op.f("ix_licence_versions_holder_ref"), table_name="licence_versions")


def downgrade() -> None:
    op.create_index(op.f("ix_licence_versions_holder_ref"), "licence_versions", ["holder_ref"])
    op.drop_index("ix_licence_holders_holder_ref", table_name="licence_holders")
    op.drop_table("licence_holders")


def _holder_key():
    """The region's holder-reference key if the upgrade was given settings and the secret
    exists; None otherwise (never creates one: a new secret would match no stored reference)."""
    from license_svc.audit.holder import HolderKey, secret_path

    settings = op.get_context().config.attributes.get("settings")
    if settings is None:
        return None
    path = Path(secret_path(settings))
    if not path.exists():
        return None
    return HolderKey(bytes.fromhex(path.read_text(encoding="ascii").strip()))


def _backfill_other_holders(conn) -> None:
    """Positions ≥ 1 for stored licences with several holders, in batches by row id.  The
    LIKE is only a cheap pre-filter on the canonical JSON (a second holder object must follow
    the first); the parsed record decides."""
    key = _holder_key()
    last_id, filled, skipped = 0, 0, 0
    while True:
        rows = conn.execute(
            sa.select(_versions.c.id, _versions.c.identifier, _versions.c.holder_ref,
                      _versions.c.record)
            .where(_versions.c.id > last_id,
                   _versions.c.record.like('%"holders":[{%},{"code":%'))
            .order_by(_versions.c.id).limit(BATCH)).all()
        if not rows:
            break
        last_id = rows[-1].id
        values = []
        for row in rows:
            holders = json.loads(row.record).get("holders") or []
            if len(holders) < 2:
                continue
            if key is None or key.reference(holders[0]["code"]) != row.holder_ref:
                skipped += 1
                continue
            values += [{"identifier": row.identifier, "position": i,
                        "holder_ref": key.reference(h["code"])}
                       for i, h in enumerate(holders) if i > 0]
            filled += 1
        if values:
            conn.execute(_holders.insert(), values)
    if skipped:
        log.warning("licences_0002: %d stored licence(s) with several holders keep their first "
                    "holder only (no holder-reference secret for them was available); "
                    "see docs/authorisation.md \"Several holders\"", skipped)
    elif filled:
        log.info("licences_0002: holders beyond the first filled for %d licence(s)", filled)

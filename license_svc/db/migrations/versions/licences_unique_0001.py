"""No duplicate licences: `licence_versions.unique_key` and its unique index
(license_svc/licences/uniqueness.py, docs/issuance.md "No duplicates").

The key of a version in force (latest event active or suspended, not past its validity) is
filled for the licences already stored, newest first.  Where the register already holds
duplicates (the demo seeded every licence twice, and retries without an Idempotency-Key issued
again), the newest keeps the key and the older ones stay in force without one: ending a licence
is a signed decision of its issuer, not a migration's.  A warning gives their number; the issuer
revokes or amends them.

Deriving a key needs the region's holder-reference secret (the parts include ID numbers), as in
licences_0002: it is used only when the upgrade was given the settings (`serve`, the CLI) and only
for rows whose stored holder reference it reproduces; it is read, never created here.  Without it
stored licences get no key (a warning gives their number) and do not block a new issuance.

Revision ID: licences_unique_0001
Revises: licences_ofd_0001
"""
import json
import logging
from datetime import datetime, timedelta, timezone
from pathlib import Path

from alembic import op
import sqlalchemy as sa

revision = "licences_unique_0001"
down_revision = "licences_ofd_0001"
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")
BATCH = 500
IN_FORCE = ("active", "suspended")

_versions = sa.table("licence_versions", sa.column("id", sa.Integer()),
                     sa.column("identifier", sa.String()), sa.column("region", sa.String()),
                     sa.column("type_code", sa.String()), sa.column("holder_ref", sa.String()),
                     sa.column("record", sa.Text()), sa.column("valid_until", sa.Date()),
                     sa.column("unique_key", sa.String()))
_events = sa.table("licence_events", sa.column("identifier", sa.String()),
                   sa.column("seq", sa.Integer()), sa.column("status", sa.String()))


def upgrade() -> None:
    op.add_column("licence_versions", sa.Column("unique_key", sa.String(64), nullable=True))
    op.create_index("ux_licence_versions_unique_key", "licence_versions", ["unique_key"], unique=True)
    _fill_keys(op.get_bind())


def downgrade() -> None:
    op.drop_index("ux_licence_versions_unique_key", table_name="licence_versions")
    # ALTER TABLE … DROP COLUMN (SQLite ≥ 3.35): a batch rebuild would drop a table that
    # licence_events, licence_holders and licence_ofd refer to
    op.drop_column("licence_versions", "unique_key")


def _settings():
    return op.get_context().config.attributes.get("settings")


def _holder_key(settings):
    """The region's holder-reference key, or None (never created here: see licences_0002)."""
    from license_svc.audit.holder import HolderKey, secret_path

    if settings is None:
        return None
    path = Path(secret_path(settings))
    if not path.exists():
        return None
    return HolderKey(bytes.fromhex(path.read_text(encoding="ascii").strip()))


def _templates_by_code(settings) -> dict:
    from license_svc import templates

    found = {}
    for folder in (templates.TEMPLATES_DIR, *getattr(settings, "templates_dirs", ())):
        for t in templates.load_templates(folder).values():
            found[t.type_code] = t
    return found


def _in_force(conn, identifiers: list[str]) -> set[str]:
    last = (sa.select(_events.c.identifier, sa.func.max(_events.c.seq).label("seq"))
            .where(_events.c.identifier.in_(identifiers)).group_by(_events.c.identifier).subquery())
    rows = conn.execute(sa.select(_events.c.identifier, _events.c.status).join(
        last, (last.c.identifier == _events.c.identifier) & (last.c.seq == _events.c.seq)))
    return {r.identifier for r in rows if r.status in IN_FORCE}


def _fill_keys(conn) -> None:
    from license_svc.licences.uniqueness import key_for

    settings = _settings()
    key = _holder_key(settings)
    today = (datetime.now(timezone.utc) + timedelta(hours=8)).date()  # Beijing date
    by_code = _templates_by_code(settings) if key is not None else {}
    last_id, taken, filled, older, skipped = None, set(), 0, 0, 0
    while True:  # newest first: the newest of duplicates keeps the key
        stmt = sa.select(_versions).order_by(_versions.c.id.desc()).limit(BATCH)
        if last_id is not None:
            stmt = stmt.where(_versions.c.id < last_id)
        rows = conn.execute(stmt).all()
        if not rows:
            break
        last_id = rows[-1].id
        live = _in_force(conn, [r.identifier for r in rows])
        values = []
        for row in rows:
            if row.identifier not in live or (row.valid_until is not None and row.valid_until < today):
                continue
            record = json.loads(row.record)
            template = by_code.get(row.type_code)
            if key is None or template is None or row.region != settings.region \
                    or key.reference(record["holders"][0]["code"]) != row.holder_ref:
                skipped += 1
                continue
            unique = key_for(key.secret, row.region, template, record)
            if unique in taken:
                older += 1
                continue
            taken.add(unique)
            values.append({"row_id": row.id, "key": unique})
        if values:
            conn.execute(sa.update(_versions).where(_versions.c.id == sa.bindparam("row_id"))
                         .values(unique_key=sa.bindparam("key")), values)
            filled += len(values)
    if skipped:
        log.warning("licences_unique_0001: %d licence(s) in force got no uniqueness key (no "
                    "holder-reference secret or template for them); they do not block a new "
                    "issuance — see docs/issuance.md \"No duplicates\"", skipped)
    if older:
        log.warning("licences_unique_0001: %d licence(s) in force duplicate a newer one; the "
                    "newer keeps the key — revoke or amend the older ones "
                    "(docs/issuance.md \"No duplicates\")", older)
    if filled:
        log.info("licences_unique_0001: uniqueness keys set for %d licence(s) in force", filled)

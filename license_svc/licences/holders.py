"""Who holds a licence: every holder named in its record, not only the first.

A licence can have several holders (a marriage certificate has both spouses), and each of them
is a holder in every respect: they read and present it, grant departments access to it, find it
in their wallet, are the "holder" a department names when retrieving it, and see who looked at
it.  So "the licences of holder X" is answered by `licence_holders` — one row per holder and
version, written with the version (`add`) — never by the first holder's reference that
`licence_versions.holder_ref` still carries for licence-wide audit entries.

Only keyed references (`license_svc.audit.holder_reference`) are stored or queried: a lookup
by holder never puts an ID number in a query or a table.
"""

from __future__ import annotations

import json

from sqlalchemy import Select, insert, select
from sqlalchemy.orm import Session

from license_svc import audit
from license_svc.audit.holder import normalise_holder_code
from license_svc.licences.models import LicenceHolder, LicenceVersion


def codes(version: LicenceVersion) -> list[str]:
    """The holder codes of `version`, normalised, in the record's order."""
    return [normalise_holder_code(h["code"]) for h in json.loads(version.record).get("holders") or []]


_INSERT = insert(LicenceHolder.__table__)  # built once: it runs on every issuance


def add(ctx, session: Session, identifier: str, record: dict) -> None:
    """Insert one `licence_holders` row per holder of a new version (caller's transaction; the
    version row must exist already: foreign key).  One holder, the usual case, is a single-row
    execute, not the executemany machinery."""
    rows = [{"identifier": identifier, "position": i,
             "holder_ref": audit.holder_reference(ctx, h["code"])}
            for i, h in enumerate(record["holders"])]
    session.execute(_INSERT, rows[0] if len(rows) == 1 else rows)


def held_by(ref: str) -> Select:
    """SELECT of the identifiers (every version) listing holder reference `ref` as a holder."""
    return select(LicenceHolder.identifier).where(LicenceHolder.holder_ref == ref)


def held_by_code(ctx, holder_code: str) -> Select:
    return held_by(audit.holder_reference(ctx, holder_code))


def holds(session: Session, ref: str, identifier: str) -> bool:
    """Whether holder reference `ref` is one of the holders of version `identifier`."""
    return session.scalar(held_by(ref).where(LicenceHolder.identifier == identifier).limit(1)) is not None


def _own_code(client) -> str | None:
    return normalise_holder_code(client.holder_code) if getattr(client, "holder_code", None) else None


def is_holder(client, version: LicenceVersion) -> bool:
    """Whether `client` is a citizen client whose own holder code is one of `version`'s holders."""
    own = _own_code(client)
    return client.has_role("citizen") and own is not None and own in codes(version)


def audit_holder_code(client, version: LicenceVersion) -> str | None:
    """The holder code an entry about `client`'s action on `version` names: the client's own
    code when it is one of the holders (a spouse reading or presenting their certificate sees
    it as their own act), otherwise the first holder's.  Every holder sees the entry anyway
    (their access log includes entries about the licences they hold)."""
    all_codes = codes(version)
    own = _own_code(client)
    if own is not None and own in all_codes:
        return own
    return all_codes[0] if all_codes else None

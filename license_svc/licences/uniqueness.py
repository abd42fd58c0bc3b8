"""No duplicate licences (docs/issuance.md "No duplicates"): one licence in force per holder
and type, as the type's template defines "the same licence" (`template.json` `unique`: a
营业执照 per USCC, a 驾驶证 per person, a 结婚证 per couple, a 食品经营许可证 per company and
premises).

Why a stored key and a unique index rather than a look-up before issuing: two requests for the
same licence that arrive together both find nothing and both issue.  Each version in force
(active or suspended: a suspended licence comes back when reinstated, so it still counts) holds
its key in `licence_versions.unique_key`, under a unique index; the second of two concurrent
INSERTs fails on it, its transaction is retried (`issue.run_idempotent`) and the retry's
look-up finds the winner — on SQLite and PostgreSQL alike.  The look-up here is what gives the
caller the existing identifier, and it runs before anything is signed.

The key leaves a version with its force: released (NULL) when it is revoked or superseded —
events, in the same transaction — and, for expiry, which is no event (`lifecycle`: computed from
the date, never stored), when the next issuance meets an expired holder of the key.

The parts include holder ID numbers, so the key is an HMAC like the holder references
(`license_svc.audit.holder`), with the region's holder-reference secret: a plain hash of an ID
number is reversed by enumeration.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from formats.canonical_json import canonical_json
from license_svc.audit.holder import HolderKey, hmac_sm3, load_holder_key, normalise_holder_code
from license_svc.licences.errors import DuplicateLicence
from license_svc.licences.models import LicenceVersion
from license_svc.templates import Template

_DOMAIN = b"licence-unique/v1\x00"


def key_for(secret: bytes, region: str, template: Template, record: dict) -> str:
    """The uniqueness key of `record` (a licence record of `template`'s type in `region`):
    hex HMAC-SM3 over the canonical JSON of the rule's parts.  Also used by the migration that
    fills the keys of stored licences (licences_unique_0001), so both derive it the same way."""
    parts: dict = {}
    for part in template.unique_parts:
        if part == "holders":  # a couple is the same couple in either order
            parts[part] = sorted(normalise_holder_code(h["code"]) for h in record["holders"])
        elif part == "number":
            parts[part] = record["number"]
        else:
            parts[part] = record["fields"].get(part.removeprefix("fields."))
    message = canonical_json({"region": region, "type_code": template.type_code, "parts": parts})
    return hmac_sm3(secret, _DOMAIN + message).hex()


def licence_key(ctx, template: Template, record: dict) -> str:
    key = ctx.caches.get(HolderKey, lambda: load_holder_key(ctx.settings))
    return key_for(key.secret, ctx.region, template, record)


def claim(session: Session, key: str, template: Template, today: date, *,
          replacing: str | None = None) -> None:
    """Check that no licence other than `replacing` is in force under `key` (as of `today`, a
    Beijing date); raise DuplicateLicence naming it if one is.  An expired holder of the key is
    released here.  The new version's INSERT, carrying `key`, is what settles a race."""
    row = session.execute(select(LicenceVersion.identifier, LicenceVersion.valid_until)
                          .where(LicenceVersion.unique_key == key)).first()
    if row is None or row.identifier == replacing:
        return
    if row.valid_until is not None and row.valid_until < today:
        release(session, row.identifier)
        return
    raise DuplicateLicence(row.identifier, template.name)


def release(session: Session, identifier: str) -> None:
    """The version is no longer in force (revoked, superseded or expired): its key is free."""
    session.execute(update(LicenceVersion).where(LicenceVersion.identifier == identifier)
                    .values(unique_key=None).execution_options(synchronize_session=False))

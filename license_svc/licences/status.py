"""Licence status for relying parties (docs/federation.md): a signed response per licence, and signed
bitstring status lists per issuer for offline and bulk checks.

Both are signed by the region's `status_signer` (published in the region trust list with that
role), in the same `{"payload", "signature": {"alg", "cert", "value"}}` envelope as the trust
lists, so a verifier in another region checks them with the trust material it already has.
`next_update` tells a cache how long the answer may be used; past it, ask again.
"""

from __future__ import annotations

import secrets
import threading
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from formats.privacy import mask_id_numbers
from formats.qr_claims import register_facts
from license_svc.licences import bitstring
from license_svc.licences.errors import LicenceDataInvalid, LicenceNotFound, StatusSlotUnavailable
from license_svc.licences.lifecycle import EXPIRED, latest_event, load_version, status_at
from license_svc.licences.models import LicenceEvent, LicenceVersion, insert_row
from license_svc.licences.record import iso_time
from formats.envelope import sign_envelope
from license_svc.licences.resources import status_credential

RESPONSE_SCHEMA = "yrd-licence-status/1"
LIST_SCHEMA = "yrd-status-list/1"
RESPONSE_VALIDITY = timedelta(hours=1)
LIST_VALIDITY = timedelta(hours=6)
LIST_ENTRIES = bitstring.MIN_ENTRIES
# Start a new list part when this full, so random picks rarely collide and herd privacy holds.
LIST_FILL_LIMIT = LIST_ENTRIES // 2
MAX_PICKS = 32
MAX_PARTS = 9999  # list parts per issuer: ids end in -0001 … -9999
SLOT = ("status_list", "status_index")  # the unique pair a version's slot is


def list_id(region: str, issuer_code: str, part: int) -> str:
    return f"{region}-{issuer_code}-{part:04d}"


# How many issuances a process makes from its remembered list part before counting again.
RECOUNT_EVERY = 32


class _PartCache:
    """The list part this process issues into, per (region, issuer), recounted now and then.

    Why: counting the current list on every issuance is O(list size) — up to LIST_FILL_LIMIT
    index entries — and the first version of this read `max(status_list)` through the table rows,
    which on SQLite walks each row's overflow pages (the PDF column sits before `status_list`),
    so issuance slowed linearly with the number of licences.  Now every lookup is an equality on
    the (status_list, status_index) unique index, and the count runs once per RECOUNT_EVERY
    issuances per process.  With W processes a list can pass the fill limit by at most
    W x RECOUNT_EVERY entries before everyone moves on — the limit is half the list, so slots
    stay plentiful and random picks rarely collide."""

    def __init__(self):
        self.lock = threading.Lock()
        self.parts: dict[tuple[str, str], list[int]] = {}  # key -> [part, issuances until recount]


def _list_exists(session: Session, lid: str) -> bool:
    return session.scalar(select(LicenceVersion.status_index).where(
        LicenceVersion.status_list == lid).limit(1)) is not None


def _newest_part(session: Session, region: str, issuer_code: str, start: int) -> int:
    """The highest part in use at or above `start` (parts are used in order 1, 2, ...)."""
    part = start
    while part < MAX_PARTS and _list_exists(session, list_id(region, issuer_code, part + 1)):
        part += 1
    return part


def _counted_part(session: Session, region: str, issuer_code: str, start: int) -> int:
    part = _newest_part(session, region, issuer_code, start)
    used = session.scalar(select(func.count()).select_from(LicenceVersion).where(
        LicenceVersion.status_list == list_id(region, issuer_code, part)))
    return part + 1 if used >= LIST_FILL_LIMIT else part


def _current_part(session: Session, region: str, issuer_code: str, owner: Any = None) -> int:
    """The part new licences of `issuer_code` go into; `owner` (the app context) keeps the
    remembered part in its caches, one per database."""
    if owner is None:
        return _counted_part(session, region, issuer_code, 1)
    cache = owner.caches.get(_PartCache, _PartCache)
    key = (region, issuer_code)
    with cache.lock:
        entry = cache.parts.get(key)
        if entry is not None and entry[1] > 0:
            entry[1] -= 1
            return entry[0]
    part = _counted_part(session, region, issuer_code, entry[0] if entry else 1)
    with cache.lock:
        cache.parts[key] = [part, RECOUNT_EVERY - 1]
    return part


def add_with_status_slot(session: Session, version: LicenceVersion, owner: Any = None) -> None:
    """Give `version` a random free index in its issuer's current list and add it.

    The INSERT itself claims the slot (`insert_row(unless_taken=...)`): a slot already taken,
    or taken meanwhile by a concurrent issuance (PostgreSQL waits for that transaction to end),
    leaves nothing written, and we draw again.  No SELECT first: one statement per issuance,
    not two, and no window between check and insert in which a concurrent issuance could take
    the slot and fail this whole transaction."""
    part = _current_part(session, version.region, version.issuer_code, owner)
    version.status_list = list_id(version.region, version.issuer_code, part)
    for _ in range(MAX_PICKS):
        version.status_index = secrets.randbelow(LIST_ENTRIES)
        if insert_row(session, version, unless_taken=SLOT):  # before its events (foreign key)
            return
    raise StatusSlotUnavailable()


def response_payload(version: LicenceVersion, event: LicenceEvent, at: datetime,
                     superseded_by: str | None = None) -> dict:
    status = status_at(version, event, at)
    payload = {
        "schema": RESPONSE_SCHEMA,
        "identifier": version.identifier,
        "version": version.version,
        "status": status,
        # Masked again here for events signed before reasons were masked at input.
        "reason": mask_id_numbers(event.reason) if event.reason and status in (
            "suspended", "revoked", "superseded") else None,
        "since": iso_time(event.at),
        "produced_at": iso_time(at),
        "next_update": iso_time(at + RESPONSE_VALIDITY),
        "status_list": {"list": version.status_list, "index": version.status_index},
        "register": register_facts(issued_at=version.issued_at, data_hash=version.data_hash,
                                   el1=version.el1),
    }
    if status == EXPIRED:
        payload["reason"] = "validity period ended / 有效期已届满"
    if superseded_by:
        payload["superseded_by"] = superseded_by
    return payload


def signed_status(ctx, session: Session, identifier: str) -> dict:
    """The signed status response of one licence version, as of now."""
    version = load_version(session, identifier)
    event = latest_event(session, identifier)
    at = ctx.now()
    newer = None
    if event.status == "superseded":
        newer = session.scalar(select(LicenceVersion.identifier).where(
            LicenceVersion.family == version.family, LicenceVersion.version == version.version + 1))
    cred = status_credential(ctx)
    return sign_envelope(response_payload(version, event, at, newer), cred.key, cred.cert)


def _latest_statuses(session: Session, status_list: str):
    """(index, status) of every version in one list, from each version's last event."""
    last = (select(LicenceEvent.identifier, func.max(LicenceEvent.seq).label("seq"))
            .group_by(LicenceEvent.identifier).subquery())
    stmt = (select(LicenceVersion.status_index, LicenceEvent.status)
            .join(LicenceEvent, LicenceEvent.identifier == LicenceVersion.identifier)
            .join(last, (last.c.identifier == LicenceEvent.identifier) & (last.c.seq == LicenceEvent.seq))
            .where(LicenceVersion.status_list == status_list))
    return session.execute(stmt).all()


def signed_status_list(ctx, session: Session, issuer_code: str, part: int = 1) -> dict:
    """The signed bitstring list `part` of `issuer_code` in this region.  Expiry is not in the
    list: it follows from the validity date the verifier already holds."""
    if not isinstance(part, int) or not 1 <= part <= MAX_PARTS:
        raise LicenceDataInvalid("list part must be 1..9999", "列表序号必须在 1 到 9999 之间")
    lid = list_id(ctx.region, issuer_code, part)
    rows = _latest_statuses(session, lid)
    if not rows and not session.scalar(select(LicenceVersion.id).where(
            LicenceVersion.region == ctx.region, LicenceVersion.issuer_code == issuer_code).limit(1)):
        raise LicenceNotFound(f"status list of {issuer_code}")
    bits = bitstring.Bitstring(LIST_ENTRIES)
    for index, status in rows:
        if status != "active":
            bits.set(index, status)
    at = ctx.now()
    payload = {
        "schema": LIST_SCHEMA, "region": ctx.region, "issuer": issuer_code, "list": lid,
        "entries": LIST_ENTRIES, "status_size": bitstring.STATUS_SIZE,
        "statuses": {str(k): v for k, v in bitstring.CODES.items()},
        "encoding": "gzip+base64", "encoded_list": bits.encode(),
        "produced_at": iso_time(at), "next_update": iso_time(at + LIST_VALIDITY),
    }
    cred = status_credential(ctx)
    return sign_envelope(payload, cred.key, cred.cert)


"""Licence lifecycle (docs/issuance.md): issued → (amended: superseded by a new version) →
suspended ⇄ active → revoked; expiry by date.

Nothing signed is ever updated.  A change appends a `LicenceEvent` whose canonical JSON is signed
with the issuing organisation's key and names the hash of the event before it (the first event
names the record's data hash), so the history of a licence is a signed hash chain: dropping or
editing an event breaks it.  "Expired" is never stored: it follows from the signed validity
date and the time asked about, so a licence expires without anyone writing anything.
"""

from __future__ import annotations

import base64
import json
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from license_svc.auth import policy
from license_svc.identifiers import parse_identifier
from license_svc.licences.auditing import audit_licence
from license_svc.licences.errors import (IssuerAuthorityError, LicenceDataInvalid, LicenceNotFound,
                                         LicenceStateError)
from license_svc.licences.models import LicenceEvent, LicenceVersion, insert_row
from license_svc.licences.signer_check import usable_signer
from license_svc.licences.uniqueness import release
from formats.canonical_json import canonical_json
from formats.privacy import mask_id_numbers
from license_svc.licences.record import iso_time
from formats import algorithms as alg

EVENT_SCHEMA = "yrd-licence-event/1"
# China Standard Time: validity dates on a licence are Beijing dates.
CST = timezone(timedelta(hours=8), "CST")
MAX_REASON = 500

ACTIVE, SUSPENDED, REVOKED, SUPERSEDED, EXPIRED = (
    "active", "suspended", "revoked", "superseded", "expired")
FINAL = {REVOKED, SUPERSEDED}

# action: (statuses it may start from, status after).  "issued" starts every chain.
TRANSITIONS = {
    "suspended": ({ACTIVE}, SUSPENDED),
    "reinstated": ({SUSPENDED}, ACTIVE),
    "revoked": ({ACTIVE, SUSPENDED, EXPIRED}, REVOKED),
    "superseded": ({ACTIVE, SUSPENDED, EXPIRED}, SUPERSEDED),
}
ACTION_ZH = {"suspended": "暂停", "reinstated": "恢复", "revoked": "撤销", "superseded": "变更（被新版本取代）"}
STATUS_ZH = {ACTIVE: "有效", SUSPENDED: "已暂停", REVOKED: "已撤销", SUPERSEDED: "已被新版本取代",
             EXPIRED: "已过期"}


def load_version(session: Session, identifier: str, *, for_update: bool = False) -> LicenceVersion:
    """The stored version named by `identifier`; a malformed identifier is a 422, an unknown 404."""
    parse_identifier(identifier)  # IdentifierError (422) says which character is off
    stmt = select(LicenceVersion).where(LicenceVersion.identifier == identifier)
    if for_update:
        stmt = stmt.with_for_update()
    row = session.scalars(stmt).first()
    if row is None:
        raise LicenceNotFound(identifier)
    return row


def latest_event(session: Session, identifier: str) -> LicenceEvent:
    return session.scalars(select(LicenceEvent).where(LicenceEvent.identifier == identifier)
                           .order_by(LicenceEvent.seq.desc()).limit(1)).one()


def is_expired(valid_until: date | None, at: datetime) -> bool:
    return valid_until is not None and at.astimezone(CST).date() > valid_until


def status_at(version: LicenceVersion, event: LicenceEvent, at: datetime) -> str:
    """Status as of `at`: final states win, then expiry by date, then the last event."""
    if event.status in FINAL:
        return event.status
    if is_expired(version.valid_until, at):
        return EXPIRED
    return event.status


def signer_credential(ctx, version: LicenceVersion):
    """The issuing organisation's licence-signing credential of the version's algorithm."""
    return ctx.keystore.credential(version.region, "licence_signer", version.algorithm,
                                   org_code=version.issuer_code)


def append_event(ctx, session: Session, version: LicenceVersion, action: str, status: str,
                 actor_id: str, at: datetime, reason: str | None = None,
                 previous: LicenceEvent | None = None, credential=None) -> LicenceEvent:
    """Sign and add the next event of `version`'s chain (seq and prev hash from `previous`)."""
    credential = credential or signer_credential(ctx, version)
    seq = previous.seq + 1 if previous is not None else 1
    prev = alg.sm3(previous.event.encode("utf-8")).hex() if previous is not None else version.data_hash
    payload = {"schema": EVENT_SCHEMA, "identifier": version.identifier, "seq": seq,
               "action": action, "status": status, "reason": reason, "at": iso_time(at),
               "actor": actor_id, "prev": prev}
    body = canonical_json(payload)
    event = LicenceEvent(identifier=version.identifier, seq=seq, action=action, status=status,
                         reason=reason, at=at, actor=actor_id, event=body.decode("utf-8"),
                         signature=credential.key.sign(body), signer_cert=credential.cert.dump())
    insert_row(session, event)
    return event


def check_change_authority(ctx, actor, version: LicenceVersion) -> None:
    """Only the issuing organisation (an issuer client of this region whose licence types, if
    narrowed, include the licence's) changes its licences (`auth.policy.may_change_licence`)."""
    if not policy.may_change_licence(ctx, actor, version):
        if actor.has_role("issuer") and actor.org_code == version.issuer_code \
                and actor.region == version.region == ctx.region:
            raise IssuerAuthorityError("this client may not change licences of this type",
                                       "该客户端无权变更此类证照")
        raise IssuerAuthorityError(
            "only the issuing organisation may change this licence",
            "只有颁发该证照的机构才能变更其状态")


def clean_reason(reason: str | None, required: bool) -> str | None:
    if reason is not None and (not isinstance(reason, str) or len(reason) > MAX_REASON):
        raise LicenceDataInvalid(f"reason must be text of at most {MAX_REASON} characters",
                                 f"原因必须是不超过 {MAX_REASON} 个字符的文本")
    reason = (reason or "").strip() or None
    if required and reason is None:
        raise LicenceDataInvalid("a reason is required", "必须填写原因")
    # Signed into the licence's event chain and served by the unauthenticated status route: an
    # ID number in it is masked before anything is signed (issue 14 item 5).
    return mask_id_numbers(reason) if reason is not None else None


def version_for_change(ctx, session: Session, identifier: str, actor) -> LicenceVersion:
    """The version a change (lifecycle event, amendment, replacing issuance) is about, locked
    for the rest of the transaction; refused unless `actor` may change it and its organisation's
    key of the version's algorithm may sign now (the change's event is signed with it)."""
    version = load_version(session, identifier, for_update=True)
    check_change_authority(ctx, actor, version)
    usable_signer(ctx, session, version.issuer_code, version.algorithm)
    return version


def change_status(ctx, session: Session, identifier: str, action: str, actor,
                  reason: str | None = None) -> LicenceEvent:
    """Suspend, reinstate or revoke one version; signed, appended, audited, in the caller's
    transaction.  Raises LicenceStateError when the transition is not allowed now."""
    if action not in ("suspended", "reinstated", "revoked"):
        raise LicenceDataInvalid(f"unknown lifecycle action {action!r}", f"未知的状态变更 {action!r}")
    reason = clean_reason(reason, required=action == "revoked")
    version = version_for_change(ctx, session, identifier, actor)
    at = ctx.now()
    previous = latest_event(session, identifier)
    current = status_at(version, previous, at)
    allowed, after = TRANSITIONS[action]
    if current not in allowed:
        raise LicenceStateError(
            f"cannot mark a {current} licence as {action}",
            f"证照当前状态为“{STATUS_ZH[current]}”，不能{ACTION_ZH[action]}")
    event = append_event(ctx, session, version, action, after, actor.client_id, at, reason, previous)
    if after == REVOKED:  # out of force for good: the holder may be issued this licence again
        release(session, identifier)
    audit_licence(ctx, session, action=f"licence.{action}", actor=actor, identifier=identifier,
                  holder_code=holder_code_of(version), detail={"reason": reason})
    session.flush()
    return event


def suspend(ctx, session, identifier, actor, reason=None):
    return change_status(ctx, session, identifier, "suspended", actor, reason)


def reinstate(ctx, session, identifier, actor, reason=None):
    return change_status(ctx, session, identifier, "reinstated", actor, reason)


def revoke(ctx, session, identifier, actor, reason):
    return change_status(ctx, session, identifier, "revoked", actor, reason)


def supersedable(session: Session, old: LicenceVersion, at: datetime) -> LicenceEvent:
    """The latest event of `old` if it may be superseded now (amendment), else LicenceStateError
    — asked before the new version is built, so amending an old version says so rather than
    meeting the newer version as a duplicate."""
    previous = latest_event(session, old.identifier)
    current = status_at(old, previous, at)
    if current not in TRANSITIONS["superseded"][0]:
        raise LicenceStateError(f"cannot amend a {current} licence",
                                f"证照当前状态为“{STATUS_ZH[current]}”，不能变更")
    return previous


def supersede(ctx, session: Session, old: LicenceVersion, new_identifier: str, actor,
              at: datetime, reason: str | None, previous: LicenceEvent) -> LicenceEvent:
    """Mark `old` superseded by `new_identifier` (called by amendment, same transaction, after
    `supersedable` returned `previous`)."""
    release(session, old.identifier)  # before the new version's INSERT takes the key over
    return append_event(ctx, session, old, "superseded", SUPERSEDED, actor.client_id, at,
                        reason or f"superseded by {new_identifier}", previous)


def events_of(session: Session, identifier: str) -> list[LicenceEvent]:
    """The event rows of one version, oldest first (the last is `latest_event`)."""
    return list(session.scalars(select(LicenceEvent).where(LicenceEvent.identifier == identifier)
                                .order_by(LicenceEvent.seq)))


def published(rows: list[LicenceEvent]) -> list[dict]:
    """Event rows as published to relying parties: each signed event with its signature."""
    return [{"event": canonical_event(r), "signature": base64.b64encode(r.signature).decode(),
             "cert": base64.b64encode(r.signer_cert).decode()} for r in rows]


def history(session: Session, identifier: str) -> list[dict]:
    """The signed events of one version, oldest first, as published to relying parties."""
    return published(events_of(session, identifier))


def canonical_event(row: LicenceEvent) -> dict:
    return json.loads(row.event)


def holder_code_of(version: LicenceVersion) -> str | None:
    """The first holder's code: the one the licence row's holder reference is keyed on, and the
    one licence-wide entries (issuance, lifecycle, verification) name.  The other holders find
    those entries by licence identifier (`license_svc.licences.holders`)."""
    holders = json.loads(version.record).get("holders") or [{}]
    return holders[0].get("code")

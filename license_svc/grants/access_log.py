""""Who looked at my licences" (用证留痕 for the holder) and the auditor's search.

The holder's view lists the audit entries carrying the holder's keyed reference — retrievals
by departments, refusals, grants given and revoked — and every entry about a licence the holder
holds, whatever its position among the licence's holders (issuance, lifecycle, reads and
retrievals of a marriage certificate show in both spouses' logs, though an entry names one
holder reference: the audit entry format stays as it is).  Each comes with its exact leaf
bytes and an inclusion proof against the latest signed checkpoint, so the holder (or an app
on their behalf) can check with any RFC 9162 verifier, without trusting this service, that
what it is shown is in the log everyone else sees.
Entries appended after the latest checkpoint have no proof yet (`inclusion_proof: null`);
checkpoints are signed every few seconds.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Any

from sqlalchemy import LargeBinary, bindparam, or_, select, text
from sqlalchemy.orm import Session

from license_svc import audit
from license_svc.audit.models import AuditEntryRow
from license_svc.auth import policy
from license_svc.auth.models import ApiClient
from license_svc.grants.grants import holder_identity
from license_svc.licences import holders
from verification.tlog import parse_checkpoint

MAX_PAGE = 200


def _b64(b: bytes) -> str:
    return base64.b64encode(b).decode("ascii")


def _names(session: Session, entries: list[dict]) -> dict[str, str]:
    ids = {e["actor"]["client_id"] for e in entries if e["actor"].get("client_id")}
    if not ids:
        return {}
    return dict(session.execute(select(ApiClient.client_id, ApiClient.name)
                                .where(ApiClient.client_id.in_(ids))).all())


def _latest_checkpoint(session: Session):
    try:
        note = audit.latest_checkpoint_note(session)
    except audit.AuditNotFound:
        return None, None
    return note, parse_checkpoint(note)


def access_log(ctx, session: Session, client, *, limit: int = 50, before: int | None = None) -> dict[str, Any]:
    """The calling holder's entries, newest first, `limit` per page (`before` = the last page's
    `next_before`)."""
    holder_code, _ = holder_identity(client)
    ref = audit.holder_reference(ctx, holder_code)
    stored = audit.entries_for_holder(session, ref, licences=holders.held_by(ref),
                                      limit=max(1, min(limit, MAX_PAGE)), before=before)
    note, checkpoint = _latest_checkpoint(session)
    entries = [s.entry for s in stored]
    names = _names(session, entries)
    items = []
    for s, entry in zip(stored, entries):
        proof = None
        if checkpoint is not None and s.index < checkpoint.size:
            proof = {"size": checkpoint.size,
                     "hashes": [_b64(h) for h in audit.inclusion_proof(session, s.index, checkpoint.size)]}
        actor = entry["actor"]
        items.append({
            "index": s.index, "time": entry["time"], "action": entry["action"],
            "outcome": entry["outcome"],
            "department": {"org_code": actor["org_code"], "client_id": actor["client_id"],
                           # another region's department has no client row here: the name
                           # its node vouched for (cross-region retrieval) is in the entry
                           "name": names.get(actor["client_id"]) or entry["detail"].get("department_name"),
                           "operator": actor["operator"]},
            "licence_id": entry["licence_id"], "matter_code": entry["purpose"],
            "grant_id": entry["grant_id"], "legal_basis": entry["legal_basis"],
            "source_region": entry["source_region"],
            "entry": entry, "leaf": _b64(s.leaf), "inclusion_proof": proof,
        })
    return {
        "holder_ref": ref,
        "checkpoint": None if checkpoint is None else {
            "note": note.decode("utf-8"), "origin": checkpoint.origin, "size": checkpoint.size,
            "root": _b64(checkpoint.root)},
        "entries": items,
        "next_before": stored[-1].index if len(stored) == max(1, min(limit, MAX_PAGE)) else None,
    }


def concerns_holder(ctx, session: Session, client, entry: dict) -> bool:
    """Whether `entry` is one the calling holder's access log shows: it carries the caller's
    holder reference, or it is about a licence the caller holds (any holder position)."""
    if not client.holder_code:
        return False
    ref = audit.holder_reference(ctx, client.holder_code)
    if entry.get("holder_ref") == ref:
        return True
    licence_id = entry.get("licence_id")
    return isinstance(licence_id, str) and holders.holds(session, ref, licence_id)


def _leaf_contains(session: Session, needle: bytes):
    """A byte-substring test on the stored leaf.  The leaf is canonical JSON, so a key/value pair
    has exactly one spelling (`"purpose":"…"`) and a substring finds it; a sequential scan, but
    auditors' searches are rare and bounded by the other filters."""
    if session.get_bind().dialect.name == "postgresql":
        clause = text("position(:needle IN audit_entries.leaf) > 0")
    else:
        clause = text("instr(audit_entries.leaf, :needle) > 0")
    return clause.bindparams(bindparam("needle", needle, type_=LargeBinary))


def _pair(key: str, value: str) -> bytes:
    return f'"{key}":'.encode() + json.dumps(value, ensure_ascii=False).encode("utf-8")


def search(session: Session, *, org: str | None = None, department: str | None = None,
           licence: str | None = None,
           matter: str | None = None, grant: str | None = None, action: str | None = None,
           outcome: str | None = None, ex_officio: bool = False, start: datetime | None = None,
           end: datetime | None = None, limit: int = 100, before: int | None = None) -> dict[str, Any]:
    """The auditor's view (电子监察): entries by department (actor org code), licence, matter,
    grant, action, outcome, time range [start, end), or only those made under a legal basis;
    newest first.  `org` limits it to one organisation (an organisation's own auditor,
    `auth.policy.audit_org`): entries its clients made and entries about its licences."""
    limit = max(1, min(limit, MAX_PAGE))
    audit.sequence_pending(session)  # "sequence, then read": see everything committed so far
    query = select(AuditEntryRow.idx, AuditEntryRow.leaf)
    if org is not None:
        query = query.where(or_(AuditEntryRow.actor_org == org,
                                AuditEntryRow.licence_id.like(policy.licence_id_pattern(org))))
    if department:
        query = query.where(AuditEntryRow.actor_org == department)
    if licence:
        query = query.where(AuditEntryRow.licence_id == licence)
    if action:
        query = query.where(AuditEntryRow.action == action)
    if outcome:
        query = query.where(AuditEntryRow.outcome == outcome)
    if start:
        query = query.where(AuditEntryRow.time >= start)
    if end:
        query = query.where(AuditEntryRow.time < end)
    if before is not None:
        query = query.where(AuditEntryRow.idx < before)
    wanted = {}
    if matter:
        wanted["purpose"] = matter
        query = query.where(_leaf_contains(session, _pair("purpose", matter)))
    if grant:
        wanted["grant_id"] = grant
        query = query.where(_leaf_contains(session, _pair("grant_id", grant)))
    if ex_officio:
        query = query.where(_leaf_contains(session, b'"legal_basis":"'))
    rows = session.execute(query.order_by(AuditEntryRow.idx.desc()).limit(limit)).all()
    items = []
    for idx, leaf in rows:
        entry = json.loads(bytes(leaf))
        # The substring could in principle sit inside `detail`; the top-level field decides.
        if any(entry.get(k) != v for k, v in wanted.items()) or \
                (ex_officio and entry.get("legal_basis") is None):
            continue
        items.append({"index": idx, "entry": entry, "leaf": _b64(bytes(leaf))})
    return {"entries": items, "next_before": rows[-1][0] if len(rows) == limit else None}

"""Reading a licence: its signed record, PDF and QR, for those entitled to see them.

Who may read (every read is audited in the same transaction, docs/formats.md):
- issuer clients and admins within their scope (docs/authorisation.md "Who may do what": the
  issuing organisation's, of the client's licence types if it is narrowed; an organisation's own
  admin its organisation's, the region's operator every licence of the region);
- the holder (a citizen client whose holder code is one of the licence's holders);
Relying departments do not read here: 免证办 retrieval needs the holder's grant or a stated
legal basis and goes through `license_svc.grants` (POST /api/v1/retrievals).  A refused read
is audited too, in its own transaction, so the refusal survives the error response.
"""

from __future__ import annotations

import base64
import json
import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from license_svc.auth import policy
from formats.privacy import contains_id_number
from license_svc.licences import holders
from license_svc.licences.auditing import audit_licence
from license_svc.licences.errors import IssuerAuthorityError, LicenceDataInvalid
from license_svc.licences.lifecycle import (SUPERSEDED, events_of, load_version, published,
                                            status_at)
from license_svc.licences.models import LicenceVersion
from formats.algorithms import registry

_PURPOSE = re.compile(r"[0-9A-Za-z\-_.]{1,64}")  # fullmatch: no trailing newline


def check_read_access(ctx, actor, version: LicenceVersion, purpose: str | None) -> None:
    """Issuers and admins within their scope (`auth.policy.may_read_licence`: this region, their
    organisation if bound to one, their licence types if narrowed), and the licence's holders."""
    if policy.may_read_licence(ctx, actor, version):
        return
    if policy.of_this_node(ctx, actor) and holders.is_holder(actor, version):
        return
    if actor.has_role("relying"):
        raise IssuerAuthorityError(
            "relying departments retrieve licences under a grant or legal basis: POST /api/v1/retrievals",
            "用证部门须凭持证人授权或法定依据调取证照（POST /api/v1/retrievals）")
    raise IssuerAuthorityError("this client may not read this licence", "该客户端无权调取此证照")


def open_licence(ctx, session: Session, identifier: str, actor, what: str,
                 purpose: str | None = None) -> LicenceVersion:
    """Load, check access and audit one read of `what` (record | pdf | qr)."""
    version = load_version(session, identifier)
    usable = purpose if purpose and _PURPOSE.fullmatch(purpose) and not contains_id_number(purpose) \
        else None  # what the audit log can record (it refuses an ID number)
    try:
        check_read_access(ctx, actor, version, purpose)
    except IssuerAuthorityError:
        with ctx.unit_of_work() as own:
            audit_licence(ctx, own, action=f"licence.read.{what}", actor=actor,
                          identifier=identifier, holder_code=holders.audit_holder_code(actor, version),
                          purpose=usable, outcome="denied")
        raise
    if purpose is not None and usable is None:
        raise LicenceDataInvalid("purpose must be a matter code: 1-64 characters of 0-9 A-Z a-z - _ .",
                                 "purpose 应为办理事项编码（1-64 位字母、数字、- _ .）")
    audit_licence(ctx, session, action=f"licence.read.{what}", actor=actor, identifier=identifier,
                  holder_code=holders.audit_holder_code(actor, version), purpose=purpose)
    return version


def licence_view(ctx, session: Session, version: LicenceVersion) -> dict:
    """The API view: signed record envelope, current status, EL1, history, newer version.

    One query for the events (the last is the current one); the newer version is looked up
    only when that event says superseded, as an amendment always records it."""
    events = events_of(session, version.identifier)
    event = events[-1]
    newer = session.scalar(select(LicenceVersion.identifier).where(
        LicenceVersion.family == version.family, LicenceVersion.version == version.version + 1)) \
        if event.status == SUPERSEDED else None
    return {
        "identifier": version.identifier,
        "version": version.version,
        "status": status_at(version, event, ctx.now()),
        "superseded_by": newer,
        "algorithm": version.algorithm,
        "data_hash": version.data_hash,
        "signed_record": {
            "payload": json.loads(version.record),
            "signature": {"alg": registry.by_name(version.algorithm).envelope_alg,
                          "cert": base64.b64encode(version.signer_cert).decode(),
                          "value": base64.b64encode(version.signature).decode()},
        },
        "el1": version.el1,
        "status_list": {"list": version.status_list, "index": version.status_index},
        "events": published(events),
    }

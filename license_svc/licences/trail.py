"""A licence's audit trail for the officers of the organisation that issued it: every audit entry
about any version of the licence (issuance, amendments, lifecycle changes, reads, retrievals,
verifications, 亮证), newest first.

Before this, only an auditor or admin could read audit entries (`web/routes/audit.py`), so the
console could show a licence's signed events but not who had looked at it.  The issuing
organisation answers for its licences — a holder's complaint, a dispute — so its officers may
see what was done with them: an issuer or admin who may read the licence
(`auth.policy.may_read_licence`), and an auditor whose view of the log covers the issuing
organisation (`auth.policy.audit_org`).  Entries carry keyed holder references, never ID
numbers (the audit log refuses them), and this view leaves the reference out as well.  Reading
a trail is itself audited (`licence.read.audit`), refusals included, like any read of licence data.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from license_svc import audit
from license_svc.audit.models import AuditEntryRow
from license_svc.auth import policy
from license_svc.auth.models import ApiClient
from license_svc.licences.auditing import audit_licence
from license_svc.licences.errors import IssuerAuthorityError
from license_svc.licences.lifecycle import holder_code_of, load_version
from license_svc.licences.models import LicenceVersion

ACTION = "licence.read.audit"
MAX_TRAIL = 200


def may_read_trail(ctx, client, version: LicenceVersion) -> bool:
    if policy.may_read_licence(ctx, client, version):
        return True
    org = policy.audit_org(ctx, client)
    return (client.has_role("auditor") and policy.of_this_node(ctx, client)
            and version.region == ctx.region and (org is None or org == version.issuer_code))


def licence_trail(ctx, session: Session, identifier: str, client, *, limit: int = 100) -> dict[str, Any]:
    """The entries about every version of `identifier`'s licence, newest first, at most `limit`."""
    version = load_version(session, identifier)
    if not may_read_trail(ctx, client, version):
        with ctx.unit_of_work() as own:
            audit_licence(ctx, own, action=ACTION, actor=client, identifier=identifier,
                          holder_code=holder_code_of(version), outcome="denied")
        raise IssuerAuthorityError("this client may not read this licence's audit trail",
                                   "该客户端无权查看此证照的审计记录")
    versions = session.scalars(select(LicenceVersion.identifier)
                               .where(LicenceVersion.family == version.family)
                               .order_by(LicenceVersion.version)).all()
    audit.sequence_pending(session)  # what was committed a moment ago is in the trail
    rows = session.execute(select(AuditEntryRow.idx, AuditEntryRow.leaf)
                           .where(AuditEntryRow.licence_id.in_(versions))
                           .order_by(AuditEntryRow.idx.desc())
                           .limit(max(1, min(limit, MAX_TRAIL)))).all()
    entries = [(idx, json.loads(bytes(leaf))) for idx, leaf in rows]
    ids = {e["actor"]["client_id"] for _, e in entries if e["actor"].get("client_id")}
    names = dict(session.execute(select(ApiClient.client_id, ApiClient.name)
                                 .where(ApiClient.client_id.in_(ids))).all()) if ids else {}
    # after the read, so sequencing above never meets this transaction's own queued entry
    audit_licence(ctx, session, action=ACTION, actor=client, identifier=identifier,
                  holder_code=holder_code_of(version))
    return {
        "identifier": identifier,
        "versions": list(versions),
        "entries": [{
            "index": idx, "time": e["time"], "action": e["action"], "outcome": e["outcome"],
            "licence_id": e["licence_id"], "version": versions.index(e["licence_id"]) + 1,
            "actor": {**e["actor"], "name": names.get(e["actor"].get("client_id"))
                      or e["detail"].get("department_name")},
            "purpose": e["purpose"], "legal_basis": e["legal_basis"],
            "source_region": e["source_region"], "reason": e["detail"].get("reason"),
        } for idx, e in entries],
    }

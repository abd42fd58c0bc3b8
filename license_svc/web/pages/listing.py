"""Lists of licences for the pages: a holder's own licences (the wallet) and an issuing
organisation's recent ones (the console), and the licence types an issuer client may issue.

A list shows what a person needs to pick a licence — type, number, holder name, issuer,
validity, status — but not the holders' codes (ID numbers, USCCs), which the full record (GET
/api/v1/licences/{id}) gives to those entitled to it.  (A driving licence's number is by law
its holder's ID number; it is shown as the number it is, to the holder and the issuer only.)  Reading a list is reading licence
data, so each list is audited like a single read (docs/formats.md); a holder's list is entered under
the holder's keyed reference, so it shows in their own access log as their own action.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from license_svc import audit
from license_svc.auth import policy
from license_svc.grants.grants import holder_identity
from license_svc.licences import holders
from license_svc.licences.lifecycle import STATUS_ZH, latest_event, status_at
from license_svc.licences.models import LicenceVersion
from license_svc.licences.record import iso_time
from license_svc.templates import load_templates
from license_svc.web.pages import forms

LIST_ACTION = "licence.read.list"
MAX_LIST = 100


def licence_summary(ctx, session: Session, version: LicenceVersion) -> dict[str, Any]:
    record = json.loads(version.record)
    names = [h.get("name") for h in record.get("holders") or [] if h.get("name")]
    status = status_at(version, latest_event(session, version.identifier), ctx.now())
    return {
        "identifier": version.identifier, "version": version.version,
        "type_code": version.type_code, "type_name": record.get("type_name"),
        "number": record.get("number"),
        "holder_name": "、".join(names) or None,  # every holder: both spouses of a marriage
        "issuer": record.get("issuer"), "region": version.region,
        "valid_from": record.get("valid_from"), "valid_until": record.get("valid_until"),
        "issued_at": iso_time(version.issued_at), "algorithm": version.algorithm,
        "status": status, "status_zh": STATUS_ZH[status],
    }


def _audit_list(ctx, session: Session, client, count: int, holder_code: str | None) -> None:
    audit.record(ctx, session, action=LIST_ACTION, client=client,
                 org_code=client.org_code or "citizen", holder_code=holder_code,
                 detail={"count": count})


def holder_licences(ctx, session: Session, client, *, limit: int = MAX_LIST) -> list[dict]:
    """The calling holder's licences in this region, newest first, whatever the caller's
    position among each licence's holders (found by keyed holder reference in
    `licence_holders`, so no query ever names the ID number)."""
    holder_code, _ = holder_identity(client)
    rows = session.scalars(select(LicenceVersion).where(
        LicenceVersion.identifier.in_(holders.held_by_code(ctx, holder_code)),
        LicenceVersion.region == ctx.region)
        .order_by(LicenceVersion.id.desc()).limit(max(1, min(limit, MAX_LIST)))).all()
    items = [licence_summary(ctx, session, v) for v in rows]
    _audit_list(ctx, session, client, len(items), holder_code)
    return items


def issuer_licences(ctx, session: Session, client, *, limit: int = 20) -> list[dict]:
    """The most recent licences the caller may read (`auth.policy.scope_of`): its organisation's,
    of its licence types if narrowed; every licence of the region for the region's operator.
    Newest first."""
    scope = policy.scope_of(ctx, client)
    query = select(LicenceVersion).where(LicenceVersion.region == ctx.region)
    if scope.org_code is not None or not client.has_role("admin"):
        query = query.where(LicenceVersion.issuer_code == (scope.org_code or client.org_code))
    codes = scope.type_codes()
    if codes is not None:
        query = query.where(LicenceVersion.type_code.in_(sorted(codes)))
    rows = session.scalars(query.order_by(LicenceVersion.id.desc())
                           .limit(max(1, min(limit, MAX_LIST)))).all()
    items = [licence_summary(ctx, session, v) for v in rows]
    _audit_list(ctx, session, client, len(items), None)
    return items


def issuable_templates(ctx, client) -> list[dict]:
    """The licence types `client` may issue (its organisation's types, narrowed by the client's
    own list, as issuance checks them), each with its template's example request in the
    organisation's name and the form drawn from its schema (`forms.describe`): the console's
    starting point for a new licence."""
    org = next((o for o in ctx.keystore.organisations(ctx.region) if o.code == client.org_code), None)
    if org is None or not client.has_role("issuer") or client.region != ctx.region:
        return []
    allowed = set(org.licence_types)
    if client.licence_types:
        allowed &= set(client.licence_types)
    items = []
    for folder, template in sorted(load_templates().items()):
        if folder not in allowed or org.kind not in template.issuer_kinds:
            continue
        example = copy.deepcopy(template.example)
        example["issuer_code"] = client.org_code
        items.append({"type": folder, "name": template.name, "type_code": template.type_code,
                      "example": example, "form": forms.describe(template)})
    return items


def whoami(client) -> dict[str, Any]:
    """What a page shows about the signed-in client.  The holder code is masked: a page needs
    to say "this is your wallet", not to display an ID number on screen."""
    code = client.holder_code or ""
    masked = (code[:4] + "*" * (len(code) - 8) + code[-4:]) if len(code) > 8 else ("*" * len(code))
    return {"client_id": client.client_id, "name": client.name, "region": client.region,
            "org_code": client.org_code or None, "roles": sorted(client.roles),
            "licence_types": list(client.licence_types), "holder_code_masked": masked or None}

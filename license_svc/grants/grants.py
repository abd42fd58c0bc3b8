"""Grants (授权): a holder lets one relying department use a licence type, or one licence, for
one matter (事项编码), until a time, for a number of uses; revocable at any time.

Who: the holder is an authenticated `citizen` client carrying its own holder code — a person
(resident ID, code type 111) or a company (USCC, 001).  A grant can only be made by the holder
itself, so a grant never needs the holder code from a request, and the table stores only the
audit log's keyed reference of it.

Every create and revoke is audited in the same transaction (actions `grant.create`,
`grant.revoke`); the holder sees those entries in its access log next to the retrievals made
under the grant.  Functions take the session of the caller's transaction
(`license_svc.grants.auditing.audited_transaction`).
"""

from __future__ import annotations

import json
import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from license_svc import audit
from license_svc.config import REGIONS
from license_svc.grants import auditing
from license_svc.grants.errors import GrantError, GrantForbidden, GrantNotFound
from license_svc.grants.fields import (check_matter, check_org, holder_code_type_of, invalid, iso,
                                       licence_template, normalise_code, parse_time)
from license_svc.grants.models import Grant
from license_svc.identifiers import IdentifierError, parse_identifier
from license_svc.licences.models import LicenceVersion
from license_svc.templates import by_type_code

MAX_VALIDITY = timedelta(days=366)   # a grant is for a matter in hand, not a standing permission
MAX_USES = 10_000
ACTIVE, REVOKED, EXPIRED, USED_UP = "active", "revoked", "expired", "used_up"
STATUS_ZH = {ACTIVE: "有效", REVOKED: "已撤回", EXPIRED: "已过期", USED_UP: "次数已用完"}
CREATE_KEYS = {"grantee_org", "grantee_region", "licence_type", "licence_id", "matter_code", "valid_until", "max_uses"}


def new_grant_id() -> str:
    """128 random bits: a grant id travels to the department and into audit entries, so it
    must not be guessable nor say anything about the holder."""
    return "grt_" + secrets.token_urlsafe(16)


def holder_identity(client) -> tuple[str, str]:
    """(holder code, code type) of the calling holder; only citizen clients with a code qualify."""
    code = normalise_code(client.holder_code or "")
    code_type = holder_code_type_of(code) if code else None
    if not client.has_role("citizen") or code_type is None:
        raise GrantForbidden("only a holder (a citizen client with its own holder code) may manage "
                             "its grants", "只有持证主体本人（带持证主体代码的 citizen 客户端）可以管理授权")
    return code, code_type


def grantee_region_of(grant: Grant) -> str:
    """The region of the grantee department (NULL in rows older than grants_0002: local)."""
    return grant.grantee_region or grant.region


def status_of(grant: Grant, now: datetime) -> str:
    if grant.revoked_at is not None:
        return REVOKED
    if now >= grant.valid_until:
        return EXPIRED
    if grant.uses_left is not None and grant.uses_left <= 0:
        return USED_UP
    return ACTIVE


def grant_view(grant: Grant, now: datetime) -> dict[str, Any]:
    template = by_type_code(grant.type_code)
    status = status_of(grant, now)
    return {
        "id": grant.id, "status": status, "status_zh": STATUS_ZH[status],
        "grantee_org": grant.grantee_org, "grantee_region": grantee_region_of(grant),
        "licence_type": template.folder if template else None, "type_code": grant.type_code,
        "licence_id": grant.licence_id, "matter_code": grant.matter_code,
        "holder_code_type": grant.holder_code_type,
        "created_at": iso(grant.created_at), "valid_until": iso(grant.valid_until),
        "max_uses": grant.max_uses, "uses_left": grant.uses_left, "revoked_at": iso(grant.revoked_at),
    }


def _licence_scope(session: Session, ctx, identifier: Any, holder_code: str):
    """The licence a one-licence grant covers; it must be this region's and the caller's."""
    if not isinstance(identifier, str):
        raise invalid(GrantError, "licence_id", "must be a licence identifier", "应为证照标识")
    try:
        parsed = parse_identifier(identifier)
    except IdentifierError as exc:
        raise GrantError(f"licence_id: {exc.message_en}", f"licence_id：{exc.message_zh}") from None
    version = session.scalars(select(LicenceVersion).where(
        LicenceVersion.identifier == identifier, LicenceVersion.region == ctx.region)).first()
    holders = {normalise_code(h["code"]) for h in json.loads(version.record)["holders"]} if version else set()
    if holder_code not in holders:
        # One answer for "no such licence" and "not yours": a grant request must not probe.
        raise invalid(GrantError, "licence_id", "no licence of yours with this identifier in this region",
                      "本区域没有您持有的该证照")
    return version, f"{parsed.type_code}.{parsed.issuer_code}.{parsed.serial}"


def create_grant(ctx, session: Session, client, body: Any) -> Grant:
    """Record the holder's grant and audit it (`grant.create`)."""
    holder_code, holder_type = holder_identity(client)
    if not isinstance(body, dict):
        raise GrantError("the body must be a JSON object", "请求体应为 JSON 对象")
    unknown = sorted(set(body) - CREATE_KEYS)
    if unknown:
        raise GrantError(f"unknown keys {unknown}", f"未知字段 {unknown}")
    now = ctx.now()
    grantee = check_org(GrantError, "grantee_org", body.get("grantee_org"))
    grantee_region = body.get("grantee_region", ctx.region)
    if grantee_region not in REGIONS:
        raise invalid(GrantError, "grantee_region", f"must be one of {sorted(REGIONS)}",
                      f"应为 {sorted(REGIONS)} 之一")
    matter = check_matter(GrantError, body.get("matter_code"))
    valid_until = parse_time(GrantError, "valid_until", body.get("valid_until"))
    if not now < valid_until <= now + MAX_VALIDITY:
        raise invalid(GrantError, "valid_until", "must be in the future and at most 366 days ahead",
                      "应晚于当前时间且不超过 366 天")
    max_uses = body.get("max_uses", 1)
    if max_uses is not None and (isinstance(max_uses, bool) or not isinstance(max_uses, int)
                                 or not 1 <= max_uses <= MAX_USES):
        raise invalid(GrantError, "max_uses", f"must be 1..{MAX_USES}, or null for any number "
                      "until valid_until", f"应为 1..{MAX_USES}，或 null 表示有效期内不限次数")
    licence, family = None, None
    if body.get("licence_id") is not None:
        licence, family = _licence_scope(session, ctx, body["licence_id"], holder_code)
    type_name = body.get("licence_type")
    if type_name is None:
        if licence is None:
            raise invalid(GrantError, "licence_type", "name the licence type (or one licence with "
                          "licence_id)", "须指定证照类型（或以 licence_id 指定一本证照）")
        type_name = licence.type_code
    template = licence_template(GrantError, type_name)
    if licence is not None and licence.type_code != template.type_code:
        raise invalid(GrantError, "licence_type", "does not match the licence named by licence_id",
                      "与 licence_id 所指证照的类型不一致")
    if template.holder_code_type != holder_type:
        raise invalid(GrantError, "licence_type", "this type of licence is not held by a holder of "
                      "your kind (persons vs organisations)", "此类证照的持证主体类型与您不符（个人/单位）")

    grant = Grant(id=new_grant_id(), region=ctx.region,
                  holder_ref=audit.holder_reference(ctx, holder_code), holder_code_type=holder_type,
                  grantee_org=grantee, grantee_region=grantee_region, type_code=template.type_code,
                  licence_id=licence.identifier if licence else None, licence_family=family,
                  matter_code=matter, created_at=now, valid_until=valid_until,
                  max_uses=max_uses, uses_left=max_uses, created_by=client.client_id)
    session.add(grant)
    session.flush()
    auditing.record(ctx, session, action="grant.create", client=client, holder_code=holder_code,
                    licence_id=grant.licence_id, matter_code=matter, grant_id=grant.id,
                    detail={"grantee_org": grantee, "grantee_region": grantee_region,
                            "type_code": template.type_code,
                            "valid_until": iso(valid_until), "max_uses": max_uses})
    return grant


def own_grant(ctx, session: Session, client, grant_id: str, *, holder_only: bool = False) -> Grant:
    """The caller's grant: the holder's own, or (unless `holder_only`) one addressed to the
    caller's department.  Anything else is 'not found', never 'not yours'."""
    grant = session.get(Grant, grant_id) if isinstance(grant_id, str) else None
    if grant is not None and grant.region == ctx.region:
        if client.holder_code and grant.holder_ref == audit.holder_reference(ctx, client.holder_code):
            return grant
        if not holder_only and client.has_role("relying") and grant.grantee_org == client.org_code \
                and grantee_region_of(grant) == ctx.region:
            return grant
    raise GrantNotFound()


def revoke_grant(ctx, session: Session, client, grant_id: str) -> Grant:
    """Revoke at once; later retrievals under it are refused.  Revoking twice changes nothing
    and writes no second entry."""
    holder_code, _ = holder_identity(client)
    grant = own_grant(ctx, session, client, grant_id, holder_only=True)
    now = ctx.now()
    # Conditional, so of two concurrent revocations exactly one writes the entry.
    done = session.execute(update(Grant).where(Grant.id == grant.id, Grant.revoked_at.is_(None))
                           .values(revoked_at=now).execution_options(synchronize_session=False))
    if done.rowcount != 1:
        session.refresh(grant)
        return grant
    set_committed_value(grant, "revoked_at", now)
    auditing.record(ctx, session, action="grant.revoke", client=client, holder_code=holder_code,
                    licence_id=grant.licence_id, matter_code=grant.matter_code, grant_id=grant.id,
                    detail={"grantee_org": grant.grantee_org, "type_code": grant.type_code,
                            "uses_left": grant.uses_left})
    return grant


def list_grants(ctx, session: Session, client, *, status: str | None = None,
                limit: int = 100) -> list[Grant]:
    """A holder's grants, or for a relying department the grants addressed to it; newest first."""
    query = select(Grant).where(Grant.region == ctx.region)
    if client.has_role("citizen") and client.holder_code:
        query = query.where(Grant.holder_ref == audit.holder_reference(ctx, client.holder_code))
    elif client.has_role("relying"):
        query = query.where(Grant.grantee_org == client.org_code,
                            or_(Grant.grantee_region.is_(None), Grant.grantee_region == ctx.region))
    else:
        raise GrantForbidden("grants are listed by their holder or their relying department",
                             "仅持证主体或被授权的用证部门可以查看授权")
    now = ctx.now()
    if status == ACTIVE:
        query = query.where(Grant.revoked_at.is_(None), Grant.valid_until > now,
                            or_(Grant.uses_left.is_(None), Grant.uses_left > 0))
    elif status is not None:
        raise invalid(GrantError, "status", "the only filter is 'active'", "仅支持筛选 active")
    rows = session.scalars(query.order_by(Grant.created_at.desc(), Grant.id).limit(max(1, min(limit, 500))))
    return list(rows)


def consume_use(session: Session, grant_id: str, now: datetime) -> bool:
    """Take one use of the grant if it is still usable, atomically: one conditional UPDATE, so
    two concurrent retrievals cannot both take the last use (PostgreSQL re-checks the condition
    on the row it waited for; SQLite serialises writers).  False if nothing was taken."""
    result = session.execute(
        update(Grant).where(Grant.id == grant_id, Grant.revoked_at.is_(None), Grant.valid_until > now,
                            or_(Grant.uses_left.is_(None), Grant.uses_left > 0))
        .values(uses_left=Grant.uses_left - 1).execution_options(synchronize_session=False))
    return result.rowcount == 1

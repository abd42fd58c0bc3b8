"""Who a verified ID token signs in as, and the `Client` a page session acts as.

- A **citizen**: the token carries an ID number (settings.oidc_claim("id_number")) and no
  organisation.  The session acts as a citizen client of this region whose holder code is that
  number; its client id is derived from the holder reference (the region's keyed hash), so the
  number itself is in no id, log line, audit entry or cookie, and the session row keeps it
  encrypted only (license_svc/auth/holder_seal.py).
- A **clerk or officer**: the token carries an organisation code and roles.  The session acts as
  the *registered* client of that department in this region (an API client an administrator
  created: `license-svc clients`), with only the roles both the client and the person hold; the
  person's name is the `operator` of everything done from the pages.  No registered client for
  the department and role: no sign-in — the identity provider vouches for people, this node's
  register decides what a department may do.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from formats.errors import Kind, ServiceError
from formats.privacy import mask_id_numbers
from license_svc.auth import holder_seal
from license_svc.auth.clients import ROLES, Client
from license_svc.auth.models import ApiClient
from license_svc.grants.fields import holder_code_type_of, normalise_code

CITIZEN, CLERK = "citizen", "clerk"


class NotMapped(ServiceError):
    """The person is who the provider says, but this node has nothing for them to act as."""

    code = "sign-in-not-mapped"
    kind = Kind.FORBIDDEN
    title_zh, title_en = "该账号不能登录本平台", "This account cannot sign in here"


@dataclass(frozen=True)
class Principal:
    """A signed-in person as stored in the session (license_svc/auth/sessions.py)."""

    kind: str
    client_id: str
    name: str
    roles: tuple[str, ...]
    operator: str | None = None
    holder_code: str | None = None


def _text(claims: dict[str, Any], name: str) -> str:
    value = claims.get(name)
    return value.strip() if isinstance(value, str) else ""


def _roles(settings, claims: dict[str, Any]) -> set[str]:
    value = claims.get(settings.oidc_claim("roles"))
    names = [value] if isinstance(value, str) else value if isinstance(value, list) else []
    return {settings.oidc_roles.get(n, n) for n in names if isinstance(n, str)} & set(ROLES)


def principal_of(ctx, session: Session, claims: dict[str, Any]) -> Principal:
    """Map a verified ID token's claims (OIDC sub, name, ID number or org code and roles)."""
    from license_svc import audit

    settings = ctx.settings
    sub = _text(claims, "sub")
    name = _text(claims, settings.oidc_claim("name")) or sub
    org_code = normalise_code(_text(claims, settings.oidc_claim("org_code")))
    id_number = normalise_code(_text(claims, settings.oidc_claim("id_number")))
    if not org_code:
        if not id_number or holder_code_type_of(id_number) is None:
            raise NotMapped("the ID token has neither an organisation code nor a valid ID number",
                            "身份令牌中既没有机构代码，也没有有效的证件号码")
        ref = audit.holder_reference(ctx, id_number)
        return Principal(kind=CITIZEN, client_id=f"oidc-citizen-{ref[:24]}",
                         name=mask_id_numbers(name), roles=("citizen",), holder_code=id_number)
    wanted = _roles(settings, claims) - {"citizen"}
    rows = session.scalars(select(ApiClient).where(
        ApiClient.org_code == org_code, ApiClient.region == ctx.region,
        ApiClient.disabled.is_(False)).order_by(ApiClient.client_id)).all()
    for row in rows:
        roles = wanted & set(row.roles)
        if roles:
            return Principal(kind=CLERK, client_id=row.client_id, name=mask_id_numbers(name),
                             roles=tuple(sorted(roles)), operator=mask_id_numbers(name))
    raise NotMapped(
        f"no registered client of organisation {org_code} in region {ctx.region} with one of the "
        f"roles {sorted(wanted) or '(none in the token)'}",
        f"本节点没有机构 {org_code} 的已登记客户端具有角色 {sorted(wanted) or '（令牌中没有角色）'}，"
        "请联系管理员登记")


def client_of(ctx, session: Session, principal: Principal) -> Client | None:
    """The client a session acts as now, or None (the department's client was disabled or lost
    the roles since sign-in: the session ends)."""
    if principal.kind == CITIZEN:
        return Client(client_id=principal.client_id, name=principal.name, org_code="",
                      region=ctx.region, roles=frozenset({"citizen"}),
                      holder_code=principal.holder_code)
    row = session.get(ApiClient, principal.client_id)
    if row is None or row.disabled or row.region != ctx.region:
        return None
    roles = set(principal.roles) & set(row.roles)
    if not roles:
        return None
    return Client(client_id=row.client_id, name=row.name, org_code=row.org_code, region=row.region,
                  roles=frozenset(roles), licence_types=tuple(row.licence_types or ()))


def as_data(ctx, principal: Principal) -> dict[str, Any]:
    """What the session row keeps: the ID number sealed, never in clear."""
    sealed = (holder_seal.seal(ctx, principal.holder_code, principal.client_id)
              if principal.holder_code else None)
    return {"kind": principal.kind, "client_id": principal.client_id, "name": principal.name,
            "roles": list(principal.roles), "operator": principal.operator,
            "holder_code_sealed": sealed}


def from_data(ctx, data: dict[str, Any]) -> Principal | None:
    """The principal of a session row, or None when a citizen's sealed number does not open
    (the node's secret changed, or the row was altered): the session ends."""
    sealed = data.get("holder_code_sealed")
    holder_code = holder_seal.unseal(ctx, sealed, data["client_id"]) if sealed else None
    if data["kind"] == CITIZEN and holder_code is None:
        return None
    return Principal(kind=data["kind"], client_id=data["client_id"], name=data["name"],
                     roles=tuple(data["roles"]), operator=data.get("operator"),
                     holder_code=holder_code)

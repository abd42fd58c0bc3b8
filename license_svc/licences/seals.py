"""Which electronic seal (电子印章) a licence is stamped with: its issuing office's own.

The office is the issuing organisation unless the licence type's template names another by a
field of the licence (`"seal"` in template.json, docs/seals.md): a marriage certificate is
registered, and sealed, by the district civil-affairs bureau of its `area_code` (the district in
its 字号 J310101-…), with that bureau's 婚姻登记专用章, while the city bureau runs the system and
signs.  The organisation lists its offices by area code (`Organisation.offices`, from the key
store manifest); a licence whose area has no office of the organisation is the organisation's
own (a provincial bureau registers marriages with foreigners itself) and carries its seal.

The seal comes from the region's seal registry (`license_svc.seals`), so a verifier asking the
registry finds it, and suspending or revoking it there stops issuance with it at once: each
issuance looks the seal up in its own transaction.  An office that has never had a licence
seal gets one made by the registry on its first issuance (an audited `seal.create`); one whose
licence seals are all suspended or revoked gets none — issuing then fails until an
administrator acts, rather than silently minting a replacement.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from license_svc.auth.clients import Client
from license_svc.licences.errors import LicenceStateError
from license_svc.seals.models import SealRow
from license_svc.seals.registry import SHAPES, SealRequest, create_seal
from license_svc.templates import TemplateError
from signing.seal import SEAL_TYPE_ORGANISATION, SEAL_TYPES

SEAL_NAME = "电子证照专用章"
SYSTEM_CLIENT = "licence-issuance"


@dataclass(frozen=True)
class LicenceSeal:
    """The seal a licence is stamped with, as the registry makes and finds it."""

    name: str
    seal_type: int
    office: str | None = None  # drawn along the ring, when not the organisation's own name
    shape: str | None = None
    number: str = ""


def seal_name(org) -> str:
    return (org.seal or {}).get("name") or f"{org.name}{SEAL_NAME}"


def issuing_office(org, template, record: dict) -> str | None:
    """The office of `org` that registers `record` (上海市黄浦区民政局 for a marriage in 310101),
    or None when the organisation registers it itself.  Issuance writes it into the record as
    `issuer.office`, so the page's 登记机关 names the office whose seal it bears."""
    setting = seal_setting(template)
    return org.offices.get(record["fields"].get(setting["office_field"])) if setting else None


def seal_for(org, template, record: dict) -> LicenceSeal:
    """The seal of the office that issues `record`: the template's office seal when the
    organisation has an office for the licence's office field, else the organisation's own."""
    setting = seal_setting(template)
    office = issuing_office(org, template, record)
    if setting and office:
        return LicenceSeal(f"{office}{setting['name']}", setting["type"], office,
                           setting.get("shape"))
    return LicenceSeal(seal_name(org), SEAL_TYPE_ORGANISATION,
                       number=str((org.seal or {}).get("esid") or ""))


def seal_setting(template) -> dict | None:
    """template.json's `seal`, checked: {"office_field": a field of schema.json, "name": the
    seal's name after the office's (婚姻登记专用章), "type": GB/T 38540 seal type, "shape"
    (optional): round, oval or square}."""
    setting = template.meta.get("seal")
    if setting is None:
        return None
    fields = template.schema.get("properties", {})
    if not (isinstance(setting, dict) and setting.get("office_field") in fields
            and isinstance(setting.get("name"), str) and 1 <= len(setting["name"]) <= 12
            and setting.get("type") in SEAL_TYPES and setting.get("shape", "round") in SHAPES
            and set(setting) <= {"office_field", "name", "type", "shape"}):
        raise TemplateError(
            f"template {template.folder}: seal must be {{office_field: a field of schema.json, "
            f"name: 1–12 characters, type: one of {sorted(SEAL_TYPES)}, shape: one of {SHAPES}}}",
            f"模板 {template.folder} 的 seal 设置须含 office_field（schema.json 中的字段）、name（1–12 字）、"
            f"type（{sorted(SEAL_TYPES)} 之一），可选 shape（{'、'.join(SHAPES)}）")
    return setting


# Built once: composing the ORM expression anew cost more than running it (every issuance).
_SEALS_OF = (select(SealRow.es_id, SealRow.status)
             .where(SealRow.org_code == bindparam("org"), SealRow.region == bindparam("region"),
                    SealRow.name == bindparam("name"))
             .order_by(SealRow.created_at.desc()))


def licence_seal(ctx, session: Session, org, template, record: dict) -> str:
    """The es_id of the active seal of `record`'s issuing office (`seal_for`), made on first
    use.  Only ids and statuses are read: the stamper built from a seal's DER is cached per
    seal (`resources.org_signing`), which reads the DER (`seal_der`) only when it builds one."""
    seal = seal_for(org, template, record)
    rows = session.execute(_SEALS_OF, {"org": org.code, "region": ctx.region,
                                       "name": seal.name}).all()
    active = [es_id for es_id, status in rows if status == "active"]
    if active:
        return active[0]
    if rows:
        raise LicenceStateError(
            f"the seal {seal.name} is {rows[0].status}; no licences can be stamped with it",
            f"印章“{seal.name}”状态为“{rows[0].status}”，暂不能签发证照")
    system = Client(client_id=SYSTEM_CLIENT, name="证照签发服务", org_code=org.code,
                    region=ctx.region, roles=frozenset({"admin"}))
    return create_seal(ctx, session, system, SealRequest(
        org_code=org.code, name=seal.name, seal_type=seal.seal_type, shape=seal.shape,
        number=seal.number, office=seal.office)).es_id


def seal_der(session: Session, es_id: str) -> bytes:
    return session.scalar(select(SealRow.der).where(SealRow.es_id == es_id))

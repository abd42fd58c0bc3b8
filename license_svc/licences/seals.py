"""Which electronic seal (电子印章) an organisation stamps its licences with.

The seal comes from the region's seal registry (`license_svc.seals`), so a verifier asking the
registry finds it, and suspending or revoking it there stops issuance with it at once: each
issuance looks the seal up in its own transaction.  An organisation that has never had a
licence seal gets one made by the registry on its first issuance (an audited `seal.create`);
one whose licence seals are all suspended or revoked gets none — issuing then fails until
an administrator acts, rather than silently minting a replacement.
"""

from __future__ import annotations

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from license_svc.auth.clients import Client
from license_svc.licences.errors import LicenceStateError
from license_svc.seals.models import SealRow
from license_svc.seals.registry import SealRequest, create_seal
from signing.seal import SEAL_TYPE_ORGANISATION

SEAL_NAME = "电子证照专用章"
SYSTEM_CLIENT = "licence-issuance"


def seal_name(org) -> str:
    return (org.seal or {}).get("name") or f"{org.name}{SEAL_NAME}"


# Built once: composing the ORM expression anew cost more than running it (every issuance).
_SEALS_OF = (select(SealRow.es_id, SealRow.status)
             .where(SealRow.org_code == bindparam("org"), SealRow.region == bindparam("region"),
                    SealRow.name == bindparam("name"))
             .order_by(SealRow.created_at.desc()))


def licence_seal(ctx, session: Session, org) -> str:
    """The es_id of the organisation's active licence seal, made on first use.  Only ids and
    statuses are read: the stamper built from a seal's DER is cached per seal
    (`resources.org_signing`), which reads the DER (`seal_der`) only when it builds one."""
    rows = session.execute(_SEALS_OF, {"org": org.code, "region": ctx.region,
                                       "name": seal_name(org)}).all()
    active = [es_id for es_id, status in rows if status == "active"]
    if active:
        return active[0]
    if rows:
        raise LicenceStateError(
            f"the licence seal of {org.name} is {rows[0].status}; no licences can be stamped",
            f"{org.name}的电子证照专用章状态为“{rows[0].status}”，暂不能签发证照")
    system = Client(client_id=SYSTEM_CLIENT, name="证照签发服务", org_code=org.code,
                    region=ctx.region, roles=frozenset({"admin"}))
    return create_seal(ctx, session, system, SealRequest(
        org_code=org.code, name=seal_name(org), seal_type=SEAL_TYPE_ORGANISATION,
        number=str((org.seal or {}).get("esid") or ""))).es_id


def seal_der(session: Session, es_id: str) -> bytes:
    return session.scalar(select(SealRow.der).where(SealRow.es_id == es_id))

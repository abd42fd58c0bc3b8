"""The seal registry (印章管理): this region's seal maker makes seals for its organisations,
keeps them, changes their status, signs documents with them and verifies seals of any region.

Every function takes the context and the caller's open session, so the audit entry (`audit_hook`)
lands in the same transaction as the act it records: no seal use without its trace.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime, timedelta

from asn1crypto import x509
from sqlalchemy import select
from sqlalchemy.orm import Session

from license_svc import audit
from license_svc.auth import policy
from license_svc.licences.signer_check import usable_signer
from formats.errors import Kind, ServiceError, SigningError
from formats.privacy import contains_id_number
from signing.seal import SEAL_TYPES, make_seal, new_seal_id, sign_document
from signing.seal.build import tsa_timestamper
from signing.seal.picture import render_oval_seal, render_round_seal, render_square_seal
from signing.tsa import TimeStampAuthority
from verification.listing import check_against_lists
from verification.report import Report
from verification.seal import SealTrust, detect, verify_seal, verify_signature
from formats.seal.parse import SealFormatError

from license_svc.seals.models import SealRow
from license_svc.seals.status import seal_status

STATUSES = ("active", "suspended", "revoked")
SHAPES = ("round", "oval", "square")
DEFAULT_VALIDITY = timedelta(days=730)
# Status moves the registry allows; revocation is final.
TRANSITIONS = {"suspend": ("active", "suspended"), "reinstate": ("suspended", "active"),
               "revoke": (None, "revoked")}


class SealRegistryError(ServiceError):
    code = "seal-registry"
    kind = Kind.INVALID


class SealNotFound(SealRegistryError):
    code = "seal-not-found"
    kind = Kind.NOT_FOUND


class SealForbidden(SealRegistryError):
    code = "seal-forbidden"
    kind = Kind.FORBIDDEN


class SealConflict(SealRegistryError):
    code = "seal-conflict"
    kind = Kind.CONFLICT


@dataclass(frozen=True)
class SealRequest:
    org_code: str
    name: str
    seal_type: int = 1
    shape: str | None = None      # default: round for 1, square for 2, oval for 3
    number: str = ""
    valid_start: datetime | None = None
    valid_end: datetime | None = None
    # The office whose seal this is, drawn along the ring instead of the organisation's name
    # (a district marriage registry of a city bureau: license_svc.licences.seals).
    office: str | None = None


def audit_hook(ctx, session: Session, *, action: str, client, seal_id: str,
               outcome: str = "success", **detail) -> None:
    """The one place a seal act is written to the audit log (seal.create, seal.suspend,
    seal.reinstate, seal.revoke, seal.sign, seal.stamp, seal.verify)."""
    audit.record(ctx, session, action=action, client=client, outcome=outcome,
                 detail={"seal_id": seal_id, **detail})


def create_seal(ctx, session: Session, client, request: SealRequest) -> SealRow:
    """Make a seal for an organisation of this region, listing its licence-signing certificates
    (SM2 and RSA) as the certificates allowed to use it."""
    ks = ctx.keystore
    try:
        org = ks.organisation(request.org_code)
    except SigningError:
        raise SealNotFound(f"no organisation {request.org_code}",
                           f"没有机构 {request.org_code}") from None
    if org.region != ctx.region:
        raise SealForbidden(f"{request.org_code} belongs to region {org.region}; its seals are "
                            f"made there", f"机构 {request.org_code} 属于 {org.region}，须由该区域制章")
    _check_manage(ctx, client, org.code)
    if contains_id_number(request.name) or contains_id_number(request.number):
        # Drawn on the seal, signed into it and listed to every relying party (issue 14 item 5).
        raise SealRegistryError("a seal's name and number must not contain an identity number",
                                "印章名称和编号不得包含身份证号码")
    if request.seal_type not in SEAL_TYPES:
        raise SealRegistryError(f"seal type must be one of {sorted(SEAL_TYPES)}",
                                f"印章类型须为 {sorted(SEAL_TYPES)} 之一")
    maker = ks.credential(ctx.region, "seal_maker", "sm2")
    signers = [ks.credential(ctx.region, "licence_signer", a, org_code=org.code).cert
               for a in ("sm2", "rsa")]
    now = ctx.now()
    start = request.valid_start or now
    end = request.valid_end or start + DEFAULT_VALIDITY
    picture = _picture(request, org.name)
    es_id = new_seal_id()
    der = make_seal(maker_key=maker.key, maker_cert=maker.cert, es_id=es_id, name=request.name,
                    seal_type=request.seal_type, picture=picture, signer_certs=signers,
                    valid_start=start, valid_end=end, created=now)
    row = SealRow(es_id=es_id, region=ctx.region, org_code=org.code, name=request.name,
                  seal_type=request.seal_type, status="active", valid_start=start,
                  valid_end=end, der=der, created_at=now, created_by=client.client_id,
                  updated_at=now)
    session.add(row)
    session.flush()
    audit_hook(ctx, session, action="seal.create", client=client, seal_id=es_id,
               org_code=org.code, name=request.name)
    return row


def _picture(request: SealRequest, org_name: str):
    """The ring carries the holder's name (organisation or office), the centre what the seal
    is for: a special seal's name less the holder's (上海市黄浦区民政局婚姻登记专用章 → 婚姻登记专用章)."""
    shape = request.shape or {1: "round", 2: "square", 3: "oval"}[request.seal_type]
    if shape not in SHAPES:
        raise SealRegistryError(f"shape must be one of {SHAPES}", f"印章形状须为 {SHAPES} 之一")
    ring = request.office or org_name
    label = request.name.removeprefix(ring) or request.name
    if shape == "round":
        return render_round_seal(ring, label if request.seal_type != 1 else "", request.number)
    if shape == "oval":
        return render_oval_seal(ring, label, request.number)
    return render_square_seal(request.name)


def _check_manage(ctx, client, org_code: str) -> None:
    if not policy.may_manage_seals(ctx, client, org_code):
        raise SealForbidden(
            f"this client may not manage the seals of organisation {org_code}: the region's "
            "administrator manages every organisation's, an organisation's own administrator its own",
            f"该客户端无权管理机构 {org_code} 的印章：区域管理员可管理本区域各机构的印章，机构管理员只能管理本机构的印章")


def visible_seals(ctx, session: Session, client, *, org_code: str | None = None,
                  status: str | None = None) -> list[SealRow]:
    """The seals of this region a client may list (`auth.policy.seal_list_org`): the region's
    administrators and auditors every organisation's (or the one asked for), anyone else their
    own organisation's only."""
    org = policy.seal_list_org(ctx, client, org_code)
    if org is False or org == "":
        return []
    return [r for r in list_seals(session, org_code=org, status=status) if r.region == ctx.region]


def list_seals(session: Session, *, org_code: str | None = None,
               status: str | None = None) -> list[SealRow]:
    query = select(SealRow).order_by(SealRow.created_at, SealRow.es_id)
    if org_code:
        query = query.where(SealRow.org_code == org_code)
    if status:
        query = query.where(SealRow.status == status)
    return list(session.scalars(query))


def get_seal(session: Session, es_id: str) -> SealRow:
    row = session.get(SealRow, es_id)
    if row is None:
        raise SealNotFound(f"no seal {es_id}", f"没有印章 {es_id}")
    return row


def change_status(ctx, session: Session, client, es_id: str, action: str,
                  reason: str | None = None) -> SealRow:
    """suspend / reinstate / revoke."""
    if action not in TRANSITIONS:
        raise SealRegistryError(f"unknown action {action}", f"未知操作 {action}")
    row = get_seal(session, es_id)
    if row.region != ctx.region:
        raise SealForbidden(f"seal {es_id} is not of region {ctx.region}", f"印章 {es_id} 不属于本区域")
    _check_manage(ctx, client, row.org_code)
    before, after = TRANSITIONS[action]
    if row.status == "revoked" or (before is not None and row.status != before):
        raise SealConflict(f"cannot {action} a seal that is {row.status}",
                           f"印章当前为 {row.status}，不能执行 {action}")
    row.status, row.status_reason, row.updated_at = after, reason, ctx.now()
    session.flush()
    audit_hook(ctx, session, action=f"seal.{action}", client=client, seal_id=es_id,
               reason=(reason or "")[:200])
    return row


def sign_with_seal(ctx, session: Session, client, es_id: str, *, data: bytes | None = None,
                   data_hash: bytes | None = None, property_info: str = "document",
                   algorithm: str = "sm2") -> bytes:
    """DER SES_Signature by the seal's organisation over `data` (or its SM3/SHA-256 hash), with
    a timestamp from this region's TSA.  Only that organisation's own clients, not narrowed to
    licence types, may (`auth.policy.may_stamp_with`): a bare document names no licence type,
    and the region's operator manages seals without stamping in an organisation's name."""
    row = usable_seal(ctx, session, client, es_id, action="seal.sign")
    ks = ctx.keystore
    cred = usable_signer(ctx, session, row.org_code, algorithm)  # withdrawn or missing: 503
    tsa_cred = ks.credential(ctx.region, "tsa", algorithm)
    tsa = TimeStampAuthority(tsa_cred.key, tsa_cred.cert, tsa_cred.chain, clock=ctx.now)
    der = sign_document(seal_der=row.der, signer_key=cred.key, signer_cert=cred.cert,
                        property_info=property_info, time=ctx.now(), data=data,
                        data_hash=data_hash, timestamper=tsa_timestamper(tsa))
    audit_hook(ctx, session, action="seal.sign", client=client, seal_id=es_id,
               property_info=property_info[:200], algorithm=algorithm)
    return der


def usable_seal(ctx, session: Session, client, es_id: str, *, action: str) -> SealRow:
    """The seal, if this client may use it now (`auth.policy.may_stamp_with`, status active);
    a refusal is audited as `action` with outcome denied."""
    row = get_seal(session, es_id)
    if row.region != ctx.region or not policy.may_stamp_with(ctx, client, row.org_code):
        _denied(ctx, client, es_id, action=action, reason="other-organisation"
                if client.org_code != row.org_code else "not-allowed")
        raise SealForbidden("only the seal's organisation's own clients, not narrowed to licence "
                            "types, may use it", "只有印章所属机构的客户端（未限定证照类型）可以用章")
    if row.status != "active":
        _denied(ctx, client, es_id, action=action, status=row.status)
        raise SealConflict(f"the seal is {row.status}", f"印章状态为 {row.status}，不能用章")
    return row


def _denied(ctx, client, es_id: str, *, action: str, **detail) -> None:
    """Audit a refused use in a transaction of its own: the caller's rolls back with the
    refusal, and an attempt to stamp with a seal one may not use must stay on record."""
    with ctx.unit_of_work() as own:
        audit_hook(ctx, own, action=action, client=client, seal_id=es_id, outcome="denied",
                   **detail)


def trust(ctx, session: Session) -> SealTrust:
    """Every region's seal makers, signers and TSAs as their synced trust lists name them
    (mutual recognition: a node holds no other region's CA), with this registry as the status
    source for the seals its own maker made."""
    from license_svc.verify_service import service_trust

    return dataclasses.replace(service_trust(ctx).seal, seal_status=seal_status(ctx, session))


def verify(ctx, session: Session, client, blob: bytes, *, at: datetime | None = None,
           data: bytes | None = None, data_hash: bytes | None = None) -> Report:
    """Verify a SESeal or SES_Signature of any region as of `at` (default now), and audit it."""
    moment = at or ctx.now()
    try:
        kind = detect(blob)
    except SealFormatError:
        kind = "signature"  # the report then says why it is neither
    t = trust(ctx, session)
    if kind == "seal":
        report = verify_seal(blob, at=moment, trust=t)
    else:
        report = verify_signature(blob, at=moment, trust=t, data=data, data_hash=data_hash)
    from license_svc.verify_service import service_trust

    listing = service_trust(ctx).listing  # the signer and maker as their lists name them
    if listing is not None:
        check_against_lists(report, listing, moment)
    audit_hook(ctx, session, action="seal.verify", client=client,
               seal_id=str(report.seal.get("es_id") or "-"), indication=report.indication,
               outcome="success" if report.indication == "TOTAL_PASSED" else "invalid")
    return report


def summary(row: SealRow) -> dict:
    maker = x509.Certificate.load(_maker_cert(row.der)).subject.human_friendly
    return {"id": row.es_id, "region": row.region, "org_code": row.org_code, "name": row.name,
            "type": row.seal_type, "status": row.status, "status_reason": row.status_reason,
            "valid_start": row.valid_start.isoformat(), "valid_end": row.valid_end.isoformat(),
            "created_at": row.created_at.isoformat(), "maker": maker}


def _maker_cert(der: bytes) -> bytes:
    from verification.seal import parse_seal

    return parse_seal(der).maker_cert

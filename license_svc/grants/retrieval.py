"""免证办 retrieval: a relying department fetches a holder's licence by holder code and type,
under the holder's grant or a stated legal basis (依职权), as data, PDF, or a verification-only
answer.

Order of decisions, and why:
1. the request is checked (a malformed one is audited as `invalid`), and its matter against the
   federation's scenario list (`federation.scenarios.check_matter`: listed, offered by this
   region, accepting the type — a refusal like any other);
2. the authority — a grant addressed to this department, for this holder, matter and type,
   not revoked, expired or used up; or a legal basis — is checked *before* any licence is
   looked up, so a refusal says nothing about what the holder holds;
3. the matching licences are found (none, or for a PDF several, ends here without using the
   grant up);
4. one use of the grant is taken by a conditional UPDATE (`grants.consume_use`), which is the
   only thing that decides a race for the last use;
5. one audit entry per licence disclosed (`licence.retrieve`, `licence.file`,
   `licence.verify`) with purpose = matter code, the grant id or legal basis and the holder's
   keyed reference — in the same transaction, so if it cannot be written nothing is returned.

Refusals are audited too (outcome `denied`, `detail.reason`): the refusal's entry is committed
and only then is the refusal raised, which is why `retrieve` owns its transaction and `attempt`
returns the refusal instead of raising it.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from license_svc import audit
from license_svc.federation import scenarios
from license_svc.grants import auditing
from license_svc.grants.errors import (GrantError, LicenceAmbiguous, LicenceNotHeld,
                                       RetrievalInvalid, RetrievalRefused)
from license_svc.grants.fields import (GRANT_ID, check_holder, check_matter, check_text, invalid,
                                       licence_template)
from license_svc.grants.grants import (EXPIRED, REVOKED, USED_UP, consume_use, grant_view,
                                       grantee_region_of, status_of)
from license_svc.grants.models import Grant
from license_svc.identifiers import IdentifierError, parse_identifier
from license_svc.licences import holders
from license_svc.licences.lifecycle import ACTIVE, REVOKED as LICENCE_REVOKED, SUPERSEDED
from license_svc.licences.lifecycle import latest_event, status_at
from license_svc.licences.models import LicenceVersion
from formats.algorithms import registry
from formats.envelope import verify_envelope
from license_svc.licences.retrieve import licence_view
from formats.errors import InvalidSignature

ACTIONS = {"data": "licence.retrieve", "pdf": "licence.file", "verify": "licence.verify"}
REQUEST_KEYS = {"holder_code", "holder_code_type", "licence_type", "matter_code", "grant_id",
                "legal_basis", "want", "licence_id", "operator",
                "region"}  # the issuing region: routed by grants/federated.py before parsing

# reason: (English, 中文) told to the department and recorded in the entry's detail.reason
REFUSALS = {
    "no-grant-or-legal-basis": ("a retrieval needs the holder's grant (grant_id) or the legal basis "
                                "the department acts on (legal_basis)",
                                "调取证照须提供持证主体的授权（grant_id）或依职权调取的法定依据（legal_basis）"),
    "grant-not-found": ("no such grant addressed to your department", "没有授予贵部门的该项授权"),
    "grant-revoked": ("the holder has revoked this grant", "持证主体已撤回该授权"),
    "grant-expired": ("this grant has expired", "该授权已过期"),
    "grant-used-up": ("this grant has no uses left", "该授权的可用次数已用完"),
    "grant-other-holder": ("this grant was given by another holder", "该授权并非此持证主体所授"),
    "grant-other-matter": ("this grant is for another matter", "该授权用于其他办理事项"),
    "grant-other-type": ("this grant is for another licence type", "该授权针对其他证照类型"),
    "grant-other-licence": ("this grant covers another licence", "该授权针对另一本证照"),
}
_GRANT_STATUS_REASON = {REVOKED: "grant-revoked", EXPIRED: "grant-expired", USED_UP: "grant-used-up"}


def refusal(reason: str) -> RetrievalRefused:
    en, zh = REFUSALS[reason]
    return RetrievalRefused(reason, en, zh)


@dataclass
class Retrieval:
    """What the department receives; built inside the audited transaction."""

    want: str
    matter_code: str
    grant: dict | None
    legal_basis: str | None
    licences: list[dict] = field(default_factory=list)   # data: licence views; verify: results
    pdf: bytes | None = None
    identifier: str | None = None                        # the licence of a PDF

    def body(self) -> dict[str, Any]:
        return {"want": self.want, "matter_code": self.matter_code, "grant": self.grant,
                "legal_basis": self.legal_basis, "licences": self.licences,
                "valid": any(item.get("valid") for item in self.licences) if self.want == "verify" else None}


@dataclass
class _Request:
    """What is known of the request so far: enough to audit even a malformed one."""

    want: str = "data"
    holder_code: str | None = None
    matter_code: str | None = None
    template: Any = None
    grant_id: str | None = None
    legal_basis: str | None = None
    licence_family: str | None = None
    operator: str | None = None

    def parse(self, body: Any) -> None:
        if not isinstance(body, dict):
            raise RetrievalInvalid("the body must be a JSON object", "请求体应为 JSON 对象")
        unknown = sorted(set(body) - REQUEST_KEYS)
        if unknown:
            raise RetrievalInvalid(f"unknown keys {unknown}", f"未知字段 {unknown}")
        want = body.get("want", "data")
        if not isinstance(want, str) or want not in ACTIONS:
            raise invalid(RetrievalInvalid, "want", "must be data, pdf or verify", "应为 data、pdf 或 verify")
        self.want = want
        self.operator = check_text(RetrievalInvalid, "operator", body.get("operator"))
        self.holder_code = check_holder(RetrievalInvalid, body.get("holder_code"), body.get("holder_code_type"))
        self.matter_code = check_matter(RetrievalInvalid, body.get("matter_code"))
        self.template = licence_template(RetrievalInvalid, body.get("licence_type"))
        grant_id, basis = body.get("grant_id"), body.get("legal_basis")
        if grant_id is not None and basis is not None:
            raise RetrievalInvalid("give either grant_id or legal_basis, not both",
                                   "grant_id 与 legal_basis 只能提供其一")
        if grant_id is not None:
            if not isinstance(grant_id, str) or not GRANT_ID.match(grant_id):
                raise invalid(RetrievalInvalid, "grant_id", "is not a grant id (grt_…)", "不是授权编号（grt_…）")
            self.grant_id = grant_id
        self.legal_basis = check_text(RetrievalInvalid, "legal_basis", basis, min_length=4)
        if body.get("licence_id") is not None:
            try:
                parsed = parse_identifier(body["licence_id"])
            except (IdentifierError, TypeError, AttributeError):
                raise invalid(RetrievalInvalid, "licence_id", "is not a licence identifier",
                              "不是有效的证照标识") from None
            if parsed.type_code != self.template.type_code:
                raise invalid(RetrievalInvalid, "licence_id", "is not of the given licence_type",
                              "与 licence_type 不一致")
            self.licence_family = f"{parsed.type_code}.{parsed.issuer_code}.{parsed.serial}"


def _authorise(ctx, session: Session, client, req: _Request) -> Grant | None:
    """The grant the retrieval runs under (None under a legal basis); raises RetrievalRefused."""
    if req.legal_basis is not None:
        return None
    if req.grant_id is None:
        raise refusal("no-grant-or-legal-basis")
    grant = session.get(Grant, req.grant_id)
    if grant is None or grant.region != ctx.region or grant.grantee_org != client.org_code \
            or grantee_region_of(grant) != client.region:
        # Also for another department's grant, or one for a same-coded department of another
        # region (the caller's region is its node's, which the federation authenticated): no probing.
        raise refusal("grant-not-found")
    status = status_of(grant, ctx.now())
    if status in _GRANT_STATUS_REASON:
        raise refusal(_GRANT_STATUS_REASON[status])
    if grant.holder_ref != audit.holder_reference(ctx, req.holder_code):
        raise refusal("grant-other-holder")
    if grant.matter_code != req.matter_code:
        raise refusal("grant-other-matter")
    if grant.type_code != req.template.type_code:
        raise refusal("grant-other-type")
    if grant.licence_family and req.licence_family and grant.licence_family != req.licence_family:
        raise refusal("grant-other-licence")
    return grant


def _licences(ctx, session: Session, req: _Request, grant: Grant | None) -> list[tuple[LicenceVersion, str]]:
    """The holder's current licences of the type in this region (superseded and revoked
    versions are history, not something to rely on), with their status now.  The holder may
    be any of a licence's holders (either spouse of a marriage certificate)."""
    query = select(LicenceVersion).where(
        LicenceVersion.identifier.in_(holders.held_by_code(ctx, req.holder_code)),
        LicenceVersion.type_code == req.template.type_code, LicenceVersion.region == ctx.region)
    family = (grant.licence_family if grant is not None else None) or req.licence_family
    if family:
        query = query.where(LicenceVersion.family == family)
    found = []
    now = ctx.now()
    for version in session.scalars(query.order_by(LicenceVersion.issued_at.desc(), LicenceVersion.id)):
        status = status_at(version, latest_event(session, version.identifier), now)
        if status not in (SUPERSEDED, LICENCE_REVOKED):
            found.append((version, status))
    return found


def _verification(version: LicenceVersion, status: str) -> dict[str, Any]:
    """The verification-only answer: is there a valid licence, and nothing about its content."""
    envelope = {"payload": json.loads(version.record), "signature": {
        "alg": registry.by_name(version.algorithm).envelope_alg, "cert": base64.b64encode(version.signer_cert).decode(),
        "value": base64.b64encode(version.signature).decode()}}
    try:
        verify_envelope(envelope)
        signature_valid = True
    except InvalidSignature:
        signature_valid = False
    return {"identifier": version.identifier, "type_code": version.type_code,
            "issuer_code": version.issuer_code, "status": status,
            "valid_until": version.valid_until.isoformat() if version.valid_until else None,
            "data_hash": version.data_hash, "signature_valid": signature_valid,
            "valid": signature_valid and status == ACTIVE}


def _audit(ctx, session, client, req: _Request, *, outcome: str, licence_id: str | None = None,
           reason: str | None = None) -> None:
    detail: dict[str, Any] = {"want": req.want}
    if req.template is not None:
        detail["type_code"] = req.template.type_code
    if reason:
        detail["reason"] = reason
    if client.region != ctx.region:  # a department of another region: no client row here
        detail["department_name"] = client.name
    auditing.record(ctx, session, action=ACTIONS[req.want], client=client, outcome=outcome,
                           holder_code=req.holder_code, licence_id=licence_id,
                           matter_code=req.matter_code, grant_id=req.grant_id,
                           legal_basis=req.legal_basis, operator=req.operator, detail=detail)


def attempt(ctx, session: Session, client, body: Any) -> Retrieval | GrantError:
    """Decide and audit one retrieval in `session`; returns the result, or the refusal/error
    for the caller to raise once the entry recording it is committed."""
    req = _Request()
    try:
        req.parse(body)
        # The matter must be on the federation's scenario list, offered by this region, and
        # accept the type (403 matter-not-listed / type-not-for-matter; 503 without a list).
        # The requesting region is the department's: another region's when the call came
        # through the federation route (license_svc.grants.federated).
        scenarios.check_matter(ctx, req.matter_code, req.template.type_code,
                               getattr(client, "region", None) or ctx.region, session=session)
        grant = _authorise(ctx, session, client, req)
        found = _licences(ctx, session, req, grant)
        if not found and req.want != "verify":
            raise LicenceNotHeld("the holder has no current licence of this type in this region",
                                 "该持证主体在本区域没有此类现行有效的证照")
        if len(found) > 1 and req.want == "pdf":
            raise LicenceAmbiguous(f"{len(found)} licences match; name one with licence_id "
                                   "(want=verify lists them)",
                                   f"匹配到 {len(found)} 本证照，请以 licence_id 指定（want=verify 可列出）")
        if grant is not None and not consume_use(session, grant.id, ctx.now()):
            session.refresh(grant)  # lost a race: revoked, expired or used up meanwhile
            raise refusal(_GRANT_STATUS_REASON.get(status_of(grant, ctx.now()), "grant-used-up"))
    except RetrievalRefused as exc:
        _audit(ctx, session, client, req, outcome="denied", reason=exc.reason)
        return exc
    except LicenceNotHeld as exc:
        _audit(ctx, session, client, req, outcome="not_found", reason=exc.code)
        return exc
    except GrantError as exc:  # invalid or ambiguous request
        _audit(ctx, session, client, req, outcome="invalid", reason=exc.code)
        return exc

    if grant is not None:
        session.refresh(grant)
    result = Retrieval(want=req.want, matter_code=req.matter_code,
                       grant=grant_view(grant, ctx.now()) if grant is not None else None,
                       legal_basis=req.legal_basis)
    if not found:  # verify-only: "no current licence" is the answer
        _audit(ctx, session, client, req, outcome="not_found")
    for version, status in found:
        _audit(ctx, session, client, req, outcome="success", licence_id=version.identifier)
        if req.want == "data":
            result.licences.append(licence_view(ctx, session, version))
        elif req.want == "verify":
            result.licences.append(_verification(version, status))
        else:
            result.pdf, result.identifier = version.pdf, version.identifier
    return result


def retrieve(ctx, client, body: Any) -> Retrieval:
    """One audited retrieval in its own transaction: the result, or the refusal raised after
    its audit entry is committed; `AuditUnavailable` (503) if the entry cannot be written."""
    with auditing.audited_transaction(ctx) as session:
        outcome = attempt(ctx, session, client, body)
    if isinstance(outcome, Exception):
        raise outcome
    return outcome

"""Disputes (异议处理) as plain domain functions; the routes (license_svc/web/routes/disputes.py)
only pass the client, the body and, for node requests, the verified caller.

The flow (docs/api.md "Disputes", docs/federation.md "Disputes between nodes"):

1. `file_dispute` at the filing node A stores the dispute (`pending-delivery`; `open` at once
   for a licence of A's own region) and audits `dispute.file`.
2. `deliver` (after A's commit) sends it with a signed node request to the issuing node B,
   whose `receive` stores B's copy under the same id (`dispute.receive`) and answers with the
   due date by B's rule.  A marks its copy `open` (`dispute.deliver`).  B unreachable: A keeps
   it `pending-delivery` and `retry_deliveries` (the background task, every sync round) tries
   again; B refusing it (unknown licence, malformed): `refused`, with B's answer.
3. `resolve` at B by the issuing organisation: `corrected` (naming, or making by amendment, a
   later version of the same licence) or `rejected` with a reason (`dispute.resolve`).
4. `send_outcome` (after B's commit) tells A (`dispute.outcome_send` at B); A's
   `receive_outcome` updates the filer's copy (`dispute.outcome`).  A unreachable: retried too.

Why the filing node stores first and delivers after its commit: the filer's dispute must not
be lost because another region's node is down, and a network call inside a transaction would
hold locks for up to the peer timeout.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import uuid
from datetime import timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from formats.canonical_json import parse_time
from license_svc import audit
from license_svc.auth import policy
from license_svc.disputes.due import due_at, is_overdue
from license_svc.disputes.errors import (
    DisputeConflict,
    DisputeError,
    DisputeForbidden,
    DisputeNotFound,
)
from license_svc.disputes.models import Dispute
from formats.privacy import contains_id_number
from license_svc.identifiers import (
    IdentifierError,
    parse_identifier,
)
from license_svc.licences.models import LicenceVersion

log = logging.getLogger(__name__)

CATEGORIES = {
    "data-wrong": "数据错误", "suspected-forgery": "疑似伪造", "status-wrong": "状态错误",
    "other": "其他",
}
OUTCOMES = ("corrected", "rejected")
STATES = ("pending-delivery", "open", "refused", "resolved")
LIST_STATES = ("open", "resolved", "overdue", "refused")
# Evidence: a document or a photo of one; the bytes must start like the type they claim.
EVIDENCE_TYPES = {"application/pdf": (b"%PDF-",), "image/png": (b"\x89PNG\r\n\x1a\n",),
                  "image/jpeg": (b"\xff\xd8\xff",)}
MAX_EVIDENCE = 2 * 1024 * 1024
MAX_TEXT = 2000
MAX_REASON = 500
MAX_LIST = 200
FEDERATION_PATH = "/api/v1/federation/disputes"


def outcome_path(dispute_id: str) -> str:
    return f"{FEDERATION_PATH}/{dispute_id}/outcome"


# -- checks --------------------------------------------------------------------------------------

def _text(value, name: str, name_zh: str, limit: int, *, required: bool = True) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise DisputeError(f"{name}: text of 1..{limit} characters", f"{name_zh}：应为 1 至 {limit} 个字符")
    if contains_id_number(value):  # the text travels to another region and into its logs
        raise DisputeError(f"{name} must not contain an ID number (name the licence instead)",
                           f"{name_zh}中不得包含身份证号码（请写证照标识）")
    return value.strip()


def _licence_id(value) -> str:
    try:
        return str(parse_identifier(value))
    except (IdentifierError, TypeError) as exc:
        raise DisputeError(f"licence_id: {getattr(exc, 'message_en', exc)}",
                           f"证照标识：{getattr(exc, 'message_zh', exc)}") from None


def _evidence(value) -> tuple[bytes, str, str] | None:
    """{"content_type", "data_base64"[, "sha256"]} → (bytes, type, sha256), checked."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise DisputeError("evidence: an object with content_type and data_base64",
                           "证据：应为含 content_type 和 data_base64 的对象")
    ctype = value.get("content_type")
    if ctype not in EVIDENCE_TYPES:
        raise DisputeError(f"evidence content_type must be one of {sorted(EVIDENCE_TYPES)}",
                           f"证据类型应为 {sorted(EVIDENCE_TYPES)} 之一")
    data_b64 = value.get("data_base64")
    if not isinstance(data_b64, str) or len(data_b64) > (MAX_EVIDENCE * 4) // 3 + 8:
        raise DisputeError(f"evidence larger than {MAX_EVIDENCE} bytes", f"证据超过 {MAX_EVIDENCE} 字节")
    try:
        data = base64.b64decode(data_b64, validate=True)
    except (binascii.Error, ValueError):
        raise DisputeError("evidence data_base64 is not base64", "证据 data_base64 不是 base64") from None
    if not data or len(data) > MAX_EVIDENCE:
        raise DisputeError(f"evidence must be 1..{MAX_EVIDENCE} bytes", f"证据应为 1 至 {MAX_EVIDENCE} 字节")
    if not data.startswith(EVIDENCE_TYPES[ctype]):
        raise DisputeError(f"evidence bytes are not {ctype}", f"证据内容与类型 {ctype} 不符")
    digest = hashlib.sha256(data).hexdigest()
    if value.get("sha256") not in (None, digest):
        raise DisputeError("evidence sha256 does not match its bytes", "证据 SHA-256 与内容不符")
    return data, ctype, digest


def _common(body) -> dict:
    """The fields a filer gives and a receiving node checks again (same rules on both sides)."""
    if not isinstance(body, dict):
        raise DisputeError("the body must be a JSON object", "请求体应为 JSON 对象")
    category = body.get("category")
    if category not in CATEGORIES:
        raise DisputeError(f"category must be one of {sorted(CATEGORIES)}",
                           f"异议类别应为 {sorted(CATEGORIES)} 之一")
    return {"licence_id": _licence_id(body.get("licence_id")), "category": category,
            "text": _text(body.get("text"), "text", "异议说明", MAX_TEXT),
            "evidence": _evidence(body.get("evidence"))}


def issuing_region_of(ctx, identifier: str) -> str:
    from license_svc.verify_service import issuing_region

    region = issuing_region(ctx.keystore, identifier)
    if region is None:
        raise DisputeError("no region issues licences of this issuer code",
                           "无法确定该证照的颁发地区")
    return region


def _local_licence(ctx, session: Session, identifier: str) -> LicenceVersion:
    row = session.scalar(select(LicenceVersion).where(LicenceVersion.identifier == identifier))
    if row is None or row.region != ctx.region:
        raise DisputeNotFound(f"no licence {identifier} in region {ctx.region}",
                              f"本地区（{ctx.region}）没有证照 {identifier}")
    return row


# -- who may do what -----------------------------------------------------------------------------

def may_resolve(ctx, client, d: Dispute) -> bool:
    """The issuing organisation answers: its issuer clients (of the licence's type if narrowed)
    or its own (org-bound) admin — not the region's operator, who does not speak for it."""
    if not (policy.of_this_node(ctx, client) and client.has_role("issuer", "admin")
            and d.issuing_region == ctx.region):
        return False
    scope = policy.scope_of(ctx, client)
    return (scope.org_code == d.issuer_code
            and scope.covers_type_code(parse_identifier(d.licence_id).type_code))


def _scope_filter(ctx, client):
    """SQL condition for the disputes `client` may see at this node (None: none)."""
    conds = []
    if client.has_role("relying") and client.org_code:
        conds.append(and_(Dispute.filed_region == ctx.region, Dispute.filer_org == client.org_code))
    if client.has_role("issuer", "admin", "auditor"):
        scope = policy.scope_of(ctx, client)
        if scope.regional and client.has_role("admin", "auditor"):
            conds.append(or_(Dispute.issuing_region == ctx.region, Dispute.filed_region == ctx.region))
        elif scope.org_code:
            conds.append(and_(Dispute.issuing_region == ctx.region,
                              Dispute.issuer_code == scope.org_code))
    return or_(*conds) if conds else None


def _visible(ctx, session: Session, client, dispute_id: str) -> Dispute:
    cond = _scope_filter(ctx, client)
    d = None if cond is None else session.scalar(
        select(Dispute).where(Dispute.id == dispute_id, cond))
    if d is None:
        raise DisputeNotFound()
    return d


# -- filing and delivery (the filing node) -------------------------------------------------------

def file_dispute(ctx, session: Session, client, body) -> Dispute:
    """Store a relying department's dispute; `deliver` it after the commit when it is about
    another region's licence."""
    if not (client.has_role("relying") and client.org_code and policy.of_this_node(ctx, client)):
        raise DisputeForbidden("disputes are filed by relying departments of this region",
                               "异议由本地区的用证部门提出")
    fields = _common(body)
    region = issuing_region_of(ctx, fields["licence_id"])
    local = region == ctx.region
    if local:
        _local_licence(ctx, session, fields["licence_id"])
    now = ctx.now()
    evidence = fields["evidence"]
    d = Dispute(id=str(uuid.uuid4()), filed_region=ctx.region, issuing_region=region,
                licence_id=fields["licence_id"],
                issuer_code=parse_identifier(fields["licence_id"]).issuer_code,
                filer_client=client.client_id, filer_org=client.org_code,
                category=fields["category"], text=fields["text"],
                evidence=evidence[0] if evidence else None,
                evidence_type=evidence[1] if evidence else None,
                evidence_sha256=evidence[2] if evidence else None, filed_at=now,
                due_at=due_at(now, ctx.settings.dispute_due_working_days),
                state="open" if local else "pending-delivery")
    session.add(d)
    audit.record(ctx, session, action="dispute.file", client=client, licence_id=d.licence_id,
                 detail=_audit_detail(d))
    return d


def _audit_detail(d: Dispute, **more) -> dict:
    detail = {"dispute_id": d.id, "category": d.category, "filed_region": d.filed_region,
              "issuing_region": d.issuing_region}
    if d.evidence_sha256:
        detail["evidence_sha256"] = d.evidence_sha256
    detail.update({k: v for k, v in more.items() if v is not None})
    return detail


def wire(d: Dispute) -> dict:
    """What the filing node sends the issuing node."""
    body = {"id": d.id, "filed_region": d.filed_region, "licence_id": d.licence_id,
            "filer_client": d.filer_client, "filer_org": d.filer_org, "category": d.category,
            "text": d.text, "filed_at": d.filed_at.isoformat(), "evidence": None}
    if d.evidence is not None:
        body["evidence"] = {"content_type": d.evidence_type, "sha256": d.evidence_sha256,
                            "data_base64": base64.b64encode(d.evidence).decode("ascii")}
    return body


def deliver(ctx, dispute_id: str, *, audit_failure: bool = True) -> Dispute | None:
    """Send a `pending-delivery` dispute to its issuing node (own transactions; the call is
    made outside any).  Unreachable: stays pending (retried); refused by the node: `refused`."""
    from license_svc.federation.node_request import PeerUnavailable, call

    with ctx.unit_of_work() as session:
        d = session.get(Dispute, dispute_id)
        if d is None or d.state != "pending-delivery":
            return d
        payload, region = wire(d), d.issuing_region
    try:
        status, answer = call(ctx, region, FEDERATION_PATH, payload)
        error = None
    except PeerUnavailable as exc:
        status, answer, error = None, None, exc.message_en
    with ctx.unit_of_work() as session:
        d = session.get(Dispute, dispute_id, with_for_update=True)
        if d is None or d.state != "pending-delivery":
            return d
        if status in (200, 201) and isinstance(answer, dict):
            d.state, d.delivery_error = "open", None
            d.due_at = parse_time(answer.get("due_at")) or d.due_at
            outcome = "success"
        elif status is None or status >= 500:
            d.delivery_error = (error or f"HTTP {status}")[:300]
            outcome = "error" if audit_failure else None
        else:
            d.state = "refused"
            d.delivery_error = _problem_text(status, answer)
            outcome = "denied"
        if outcome:
            audit.record(ctx, session, action="dispute.deliver", org_code=d.filer_org,
                         outcome=outcome, licence_id=d.licence_id,
                         detail=_audit_detail(d, status=status, error=d.delivery_error))
        return d


def _problem_text(status, answer) -> str:
    if isinstance(answer, dict):
        return f"HTTP {status} {answer.get('type', '')}: {answer.get('detail', '')}"[:300]
    return f"HTTP {status}"


# -- the issuing node ----------------------------------------------------------------------------

def receive(ctx, session: Session, caller, body) -> Dispute:
    """Store this node's copy of a dispute another node filed (caller: the verified NodeCaller).
    The same dispute delivered again (an answer lost on the way) returns the stored copy."""
    fields = _common(body)
    if not isinstance(body.get("id"), str):
        raise DisputeError("id: the dispute's UUID", "id：异议编号（UUID）")
    try:
        dispute_id = str(uuid.UUID(body["id"]))
    except ValueError:
        raise DisputeError("id: the dispute's UUID", "id：异议编号（UUID）") from None
    if body.get("filed_region") != caller.region:
        raise DisputeForbidden("a node files disputes in its own name only",
                               "节点只能以本地区名义提出异议")
    filer_org = _text(body.get("filer_org"), "filer_org", "提出机构", 32)
    filer_client = _text(body.get("filer_client"), "filer_client", "提出客户端", 64)
    filed_at = parse_time(body.get("filed_at"))
    now = ctx.now()
    if filed_at is None or filed_at > now + timedelta(minutes=5):
        raise DisputeError("filed_at: an RFC 3339 time with zone, not in the future",
                           "filed_at：带时区的时间，且不晚于当前时间")
    if issuing_region_of(ctx, fields["licence_id"]) != ctx.region:
        raise DisputeNotFound("this node does not issue that licence", "该证照不由本节点颁发")
    _local_licence(ctx, session, fields["licence_id"])
    existing = session.get(Dispute, dispute_id)
    if existing is not None:
        if existing.filed_region == caller.region and existing.licence_id == fields["licence_id"]:
            return existing
        raise DisputeConflict("another dispute has this id", "已有相同编号的其他异议")
    evidence = fields["evidence"]
    d = Dispute(id=dispute_id, filed_region=caller.region, issuing_region=ctx.region,
                licence_id=fields["licence_id"],
                issuer_code=parse_identifier(fields["licence_id"]).issuer_code,
                filer_client=filer_client, filer_org=filer_org, category=fields["category"],
                text=fields["text"], evidence=evidence[0] if evidence else None,
                evidence_type=evidence[1] if evidence else None,
                evidence_sha256=evidence[2] if evidence else None, filed_at=filed_at,
                # The issuing organisation's obligation, so the issuing node's rule.
                due_at=due_at(filed_at, ctx.settings.dispute_due_working_days), state="open")
    session.add(d)
    audit.record(ctx, session, action="dispute.receive", org_code=filer_org,
                 source_region=caller.region, licence_id=d.licence_id,
                 detail=_audit_detail(d, filer_client=filer_client))
    return d


def later_version(disputed: str, new_identifier) -> str:
    """`new_identifier`, checked to name a later version of the disputed licence (same type,
    issuer and serial): a correction is an amendment, never another licence."""
    new = _licence_id(new_identifier)
    old_id, new_id = parse_identifier(disputed), parse_identifier(new)
    if ((new_id.type_code, new_id.issuer_code, new_id.serial)
            != (old_id.type_code, old_id.issuer_code, old_id.serial)
            or new_id.version <= old_id.version):
        raise DisputeError("new_identifier must be a later version of the disputed licence",
                           "new_identifier 必须是被异议证照的后续版本")
    return new


def _stored_later_version(session: Session, disputed: str, new_identifier) -> str:
    new = later_version(disputed, new_identifier)
    if session.scalar(select(LicenceVersion.id).where(LicenceVersion.identifier == new)) is None:
        raise DisputeError(f"no licence {new} here: amend first, or give `amend`",
                           f"本节点没有证照 {new}：请先变更，或在请求中给出 amend")
    return new


def _outcome_reason(body) -> str | None:
    """Check the outcome of an answer (either side); the reason, required for a rejection."""
    if not isinstance(body, dict) or body.get("outcome") not in OUTCOMES:
        raise DisputeError("outcome must be corrected or rejected", "处理结果应为 corrected 或 rejected")
    return _text(body.get("reason"), "reason", "处理说明", MAX_REASON,
                 required=body["outcome"] == "rejected")


def resolve(ctx, session: Session, client, dispute_id: str, body) -> Dispute:
    """The issuing organisation's answer.  `corrected` names the corrected version
    (`new_identifier`) or makes it here (`amend`: {"changes", "reason"}, through
    `licences.amend.amend` on the family's newest version, in this transaction);
    `rejected` needs a `reason`."""
    d = session.get(Dispute, dispute_id, with_for_update=True)
    if d is None or d.issuing_region != ctx.region or not may_resolve(ctx, client, d):
        if d is not None and d.issuing_region == ctx.region and _scope_filter(ctx, client) is not None \
                and session.scalar(select(Dispute.id).where(Dispute.id == dispute_id,
                                                            _scope_filter(ctx, client))):
            raise DisputeForbidden("only the issuing organisation resolves a dispute",
                                   "只有颁发该证照的机构可以处理异议")
        raise DisputeNotFound()
    if d.state != "open":
        raise DisputeConflict(f"the dispute is {d.state}", f"该异议当前状态为 {d.state}，不能处理")
    reason = _outcome_reason(body)
    new_identifier = None
    if body["outcome"] == "corrected":
        if body.get("amend") is not None:
            new_identifier = _amend(ctx, session, client, d, body["amend"])
        else:
            new_identifier = _stored_later_version(session, d.licence_id, body.get("new_identifier"))
    d.state, d.outcome, d.new_identifier, d.reason = "resolved", body["outcome"], new_identifier, reason
    d.resolved_at, d.resolved_by = ctx.now(), client.client_id
    d.outcome_sent_at = d.resolved_at if d.filed_region == ctx.region else None
    audit.record(ctx, session, action="dispute.resolve", client=client, licence_id=d.licence_id,
                 detail=_audit_detail(d, outcome=d.outcome, new_identifier=new_identifier))
    return d


def _amend(ctx, session: Session, client, d: Dispute, spec) -> str:
    from license_svc.licences.amend import amend

    if not isinstance(spec, dict) or not isinstance(spec.get("changes"), dict):
        raise DisputeError("amend: {\"changes\": {...}, \"reason\": \"...\"}",
                           "amend：应为 {\"changes\": {...}, \"reason\": \"...\"}")
    family = session.scalar(select(LicenceVersion.family)
                            .where(LicenceVersion.identifier == d.licence_id))
    newest = session.scalar(select(LicenceVersion.identifier).where(LicenceVersion.family == family)
                            .order_by(LicenceVersion.version.desc()).limit(1))
    return amend(ctx, session, newest, client, spec["changes"], spec.get("reason")).identifier


def outcome_body(d: Dispute) -> dict:
    return {"outcome": d.outcome, "new_identifier": d.new_identifier, "reason": d.reason,
            "resolved_at": d.resolved_at.isoformat()}


def send_outcome(ctx, dispute_id: str, *, audit_failure: bool = True) -> bool:
    """Tell the filing node the outcome (after the commit of `resolve`); True when it took it.
    Unreachable: left for `retry_deliveries`; refused: recorded and not retried."""
    from license_svc.federation.node_request import PeerUnavailable, call

    with ctx.unit_of_work() as session:
        d = session.get(Dispute, dispute_id)
        if d is None or d.state != "resolved" or d.outcome_sent_at is not None:
            return d is not None and d.outcome_sent_at is not None
        payload, region = outcome_body(d), d.filed_region
    try:
        status, answer = call(ctx, region, outcome_path(dispute_id), payload)
        error = None
    except PeerUnavailable as exc:
        status, answer, error = None, None, exc.message_en
    with ctx.unit_of_work() as session:
        d = session.get(Dispute, dispute_id, with_for_update=True)
        if d.outcome_sent_at is not None:
            return True
        if status in (200, 201):
            d.outcome_sent_at, d.delivery_error, outcome = ctx.now(), None, "success"
        elif status is None or status >= 500:
            d.delivery_error, outcome = (error or f"HTTP {status}")[:300], "error" if audit_failure else None
        else:  # the filing node refuses it: retrying would not change that
            d.outcome_sent_at, d.delivery_error, outcome = ctx.now(), _problem_text(status, answer), "denied"
        if outcome:
            audit.record(ctx, session, action="dispute.outcome_send", org_code=d.issuer_code,
                         outcome=outcome, licence_id=d.licence_id,
                         detail=_audit_detail(d, outcome=d.outcome, status=status,
                                              error=d.delivery_error))
        return outcome == "success"


def receive_outcome(ctx, session: Session, caller, dispute_id: str, body) -> Dispute:
    """The filing node takes the issuing node's outcome into the filer's copy."""
    d = session.get(Dispute, dispute_id, with_for_update=True)
    if d is None or d.filed_region != ctx.region:
        raise DisputeNotFound()
    if caller.region != d.issuing_region:
        raise DisputeForbidden("only the issuing node answers a dispute", "只有颁发地区节点可以答复异议")
    reason = _outcome_reason(body)
    new_identifier = None
    if body["outcome"] == "corrected":
        new_identifier = later_version(d.licence_id, body.get("new_identifier"))
    if d.state == "resolved":
        if (d.outcome, d.new_identifier) == (body["outcome"], new_identifier):
            return d  # sent again (the first answer was lost)
        raise DisputeConflict("the dispute already has another outcome", "该异议已有不同的处理结果")
    d.state, d.outcome, d.new_identifier, d.reason = "resolved", body["outcome"], new_identifier, reason
    d.resolved_at = parse_time(body.get("resolved_at")) or ctx.now()
    d.delivery_error = None
    audit.record(ctx, session, action="dispute.outcome", org_code=d.issuer_code,
                 source_region=caller.region, licence_id=d.licence_id,
                 detail=_audit_detail(d, outcome=d.outcome, new_identifier=new_identifier))
    return d


def refused_node_request(ctx, exc, path: str) -> None:
    """Audit a refused node request (forged, replayed, stale, …) in its own transaction: the
    request's own transaction is rolled back with the refusal."""
    with ctx.unit_of_work() as session:
        audit.record(ctx, session, action="dispute.node_refused", outcome="denied",
                     detail={"reason": exc.reason, "path": path[:200]})


# -- retries -------------------------------------------------------------------------------------

def retry_deliveries(ctx, limit: int = 50) -> dict:
    """One retry round (the background task's step): undelivered disputes of this node and
    unsent outcomes.  Failures are not audited again (the first attempt was); the row keeps the
    latest error."""
    with ctx.unit_of_work() as session:
        pending = list(session.scalars(select(Dispute.id).where(
            Dispute.filed_region == ctx.region, Dispute.state == "pending-delivery").limit(limit)))
        unsent = list(session.scalars(select(Dispute.id).where(
            Dispute.issuing_region == ctx.region, Dispute.state == "resolved",
            Dispute.outcome_sent_at.is_(None)).limit(limit)))
    delivered = sum(1 for i in pending
                    if (d := deliver(ctx, i, audit_failure=False)) is not None and d.state != "pending-delivery")
    sent = sum(1 for i in unsent if send_outcome(ctx, i, audit_failure=False))
    return {"pending": len(pending), "delivered": delivered, "unsent": len(unsent), "sent": sent}


# -- reading -------------------------------------------------------------------------------------

def list_disputes(ctx, session: Session, client, state: str | None = None,
                  limit: int = 100) -> list[Dispute]:
    if state is not None and state not in LIST_STATES:
        raise DisputeError(f"state must be one of {LIST_STATES}", f"state 应为 {LIST_STATES} 之一")
    cond = _scope_filter(ctx, client)
    if cond is None:
        return []
    q = select(Dispute).where(cond)
    if state in ("open", "overdue"):
        q = q.where(Dispute.state.in_(("open", "pending-delivery")))
        if state == "overdue":
            q = q.where(Dispute.due_at <= ctx.now())
        q = q.order_by(Dispute.due_at, Dispute.id)
    else:
        if state is not None:
            q = q.where(Dispute.state == state)
        q = q.order_by(Dispute.filed_at.desc(), Dispute.id)
    return list(session.scalars(q.limit(min(limit, MAX_LIST))))


def get_dispute(ctx, session: Session, client, dispute_id: str) -> Dispute:
    return _visible(ctx, session, client, dispute_id)


def view(ctx, d: Dispute, client=None) -> dict:
    now = ctx.now()
    return {
        "id": d.id, "state": d.state, "overdue": is_overdue(d.state, d.due_at, now),
        "licence_id": d.licence_id, "issuer_code": d.issuer_code,
        "filed_region": d.filed_region, "issuing_region": d.issuing_region,
        "filer_org": d.filer_org, "filer_client": d.filer_client,
        "category": d.category, "category_zh": CATEGORIES[d.category], "text": d.text,
        "evidence": None if d.evidence_sha256 is None else {
            "content_type": d.evidence_type, "sha256": d.evidence_sha256,
            "size": len(d.evidence or b""), "href": f"/api/v1/disputes/{d.id}/evidence"},
        "filed_at": d.filed_at.isoformat(), "due_at": d.due_at.isoformat(),
        "delivery_error": d.delivery_error,
        "outcome": d.outcome, "new_identifier": d.new_identifier, "reason": d.reason,
        "resolved_at": d.resolved_at.isoformat() if d.resolved_at else None,
        "resolvable": bool(client is not None and d.state == "open" and may_resolve(ctx, client, d)),
    }

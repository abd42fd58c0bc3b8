"""Cross-region 免证办 retrieval (跨省调取, issue 13): a department of region A retrieves, through
its own node, a licence issued in region B, exactly as it would a local one.

Why through A's node and not with a key at B: B knows no department of A (clients of another
region are refused at authentication), but it knows A's *node* — its certificate is in A's
trust list, which B has synced and verified.  So A authenticates its department with the
department's API key, and vouches for it to B with a request signed by A's node key
(`license_svc.federation.node_request`: method, path, body digest, time, nonce).  B decides
everything that concerns the holder — the grant lives where the licence is, and a grant names
the department's region as well as its org code (`grants.grantee_region`), so A's node cannot
use a grant given to a department of another region.

Flow (`retrieve_remote` at A, `serve_remote` at B):

A. the department's request is parsed as a local one (a malformed request never leaves A);
   A POSTs `{"request_id", "department": {org_code, client_id, name, operator}, "retrieval"}`
   to B's `POST /api/v1/federation/retrievals`, signed by A's node;
B. B checks the node request (signature, A's node certificate in A's trust list and not
   withdrawn, addressed to B, fresh, nonce never seen), that the licence type is one B
   recognises (its trust list's `recognised_types`), the scenario hook, then runs the local
   retrieval decision (`retrieval.attempt`) with the remote department as the actor — grant,
   licences, use counter, one entry per licence disclosed — under A's request id, with
   `source_region` = A;
A. A audits what happened (the same action, `detail.remote_region` = B, B's outcome and
   reason) under the same request id and returns B's answer — or B's refusal, or
   `503 peer-unavailable` when B cannot be reached.

Refusals are audited on both sides; a request B cannot even attribute (a forged or replayed
signature) is audited at B with the org code and region it claimed, marked unverified.
"""

from __future__ import annotations

import base64
import json
import re
import uuid
from typing import Any, Callable

from formats.errors import Kind
from license_svc.auth.clients import Client
from license_svc.config import REGIONS
from license_svc.federation import node_request
from license_svc.federation.node_request import NodeRequestRefused, PeerUnavailable
from license_svc.grants import auditing, retrieval
from license_svc.grants.errors import GrantError, RetrievalInvalid, RetrievalRefused
from license_svc.grants.fields import check_org, check_text, invalid
from formats.privacy import contains_id_number
from license_svc.identifiers import IdentifierError, parse_identifier
from license_svc.request_context import current_request_id, reset_request_id, set_request_id

PATH = "/api/v1/federation/retrievals"
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")  # X-Request-ID's rule (web/middleware.py)
SCHEMA = "yrd-retrieval/1"
# GB/T 2260 province digits of an issuer code (USCC positions 3–4) → region.
PROVINCE_REGIONS = {"31": "sh", "32": "js", "33": "zj", "34": "ah"}
_KIND_BY_STATUS = {403: "forbidden", 404: "not-found", 409: "conflict", 422: "invalid"}
_OUTCOME_BY_STATUS = {403: "denied", 404: "not_found", 409: "invalid", 422: "invalid"}

REMOTE_REFUSALS = {
    "type-not-recognised": ("this licence type is not on the federation's recognised list of "
                            "the issuing region", "该证照类型不在签发地区信任列表的互认证照类型中"),
}


class RemoteAnswer(GrantError):
    """The issuing region's node answered with a problem: passed on to the department with B's
    type, status, titles, detail and `reason` (the stable parts are B's)."""

    def __init__(self, status: int, problem: dict):
        super().__init__(str(problem.get("detail") or problem.get("title_en") or "refused"),
                         str(problem.get("detail_zh") or problem.get("title_zh") or "被拒绝"))
        slug = str(problem.get("type", "")).rsplit(":", 1)[-1] or "peer-error"
        self.code, self.status = slug, status
        self.kind = Kind(_KIND_BY_STATUS.get(status, "unavailable"))
        self.title_zh = str(problem.get("title_zh") or "对方地区节点拒绝了请求")
        self.title_en = str(problem.get("title_en") or "Refused by the other region's node")
        self.reason = problem.get("reason") if isinstance(problem.get("reason"), str) else None


# -- which node ------------------------------------------------------------------------------

def issuing_region(ctx, body: Any) -> str | None:
    """The region whose node holds the licence: `region` if given, else the province digits of
    `licence_id`'s issuer code; None when it is this node's (a local retrieval).  An unknown
    region is a 422 of the local flow's kind, raised here (and audited by the caller)."""
    if not isinstance(body, dict):
        return None
    region = body.get("region")
    if region is None and isinstance(body.get("licence_id"), str):
        try:
            region = PROVINCE_REGIONS.get(parse_identifier(body["licence_id"]).issuer_code[2:4])
        except (IdentifierError, TypeError, AttributeError):
            return None  # the local parse reports the bad identifier
    if region is None or region == ctx.region:
        return None
    if region not in REGIONS:
        raise invalid(RetrievalInvalid, "region", f"must be one of {sorted(REGIONS)}",
                      f"应为 {sorted(REGIONS)} 之一")
    return region


# -- the calling side (A) --------------------------------------------------------------------

def retrieve_remote(ctx, client: Client, body: Any, region: str) -> retrieval.Retrieval:
    """A's half: check the request, have `region`'s node decide, audit at A; the result, or the
    refusal raised after A's entry is committed.  PeerUnavailable (503) when B is unreachable.
    Outside an HTTP request (no X-Request-ID) one id is made for the exchange: both nodes'
    entries must carry the same one."""
    token = set_request_id(str(uuid.uuid4())) if current_request_id() is None else None
    try:
        return _retrieve_remote(ctx, client, body, region)
    finally:
        if token is not None:
            reset_request_id(token)


def _retrieve_remote(ctx, client: Client, body: Any, region: str) -> retrieval.Retrieval:
    local_body = {k: v for k, v in body.items() if k != "region"}
    req = retrieval._Request()
    try:
        req.parse(local_body)
    except GrantError as exc:
        _audit_local(ctx, client, req, region, outcome="invalid", reason=exc.code)
        raise
    envelope = {"schema": SCHEMA, "request_id": current_request_id(),
                "department": {"org_code": client.org_code, "client_id": client.client_id,
                               "name": client.name, "operator": req.operator},
                "retrieval": local_body}
    try:
        status, answer = node_request.call(ctx, region, PATH, envelope)
    except PeerUnavailable:
        _audit_local(ctx, client, req, region, outcome="error", reason="peer-unavailable")
        raise
    if status != 200 or not isinstance(answer, dict) or answer.get("schema") != SCHEMA:
        problem = answer if isinstance(answer, dict) else {}
        error = RemoteAnswer(status, problem) if status != 200 else PeerUnavailable(
            f"{region} node answered 200 without a retrieval", f"{region} 地区节点的应答无效")
        reason = getattr(error, "reason", None) or error.code
        _audit_local(ctx, client, req, region, outcome=_OUTCOME_BY_STATUS.get(status, "error"),
                     reason=reason, remote_status=status)
        raise error
    result = retrieval.Retrieval(want=req.want, matter_code=req.matter_code,
                                 grant=answer.get("grant"), legal_basis=req.legal_basis,
                                 licences=answer.get("licences") or [],
                                 identifier=answer.get("identifier"))
    if req.want == "pdf":
        result.pdf = base64.b64decode(answer.get("pdf") or "")
    disclosed = [i for i in answer.get("disclosed") or [] if isinstance(i, str)]
    # One entry per licence disclosed, as at B (verify-only with none: one `not_found`).
    _audit_local(ctx, client, req, region, outcome="success" if disclosed else "not_found",
                 licence_ids=disclosed or [None])
    return result


def _audit_local(ctx, client, req, region: str, *, outcome: str, reason: str | None = None,
                 licence_ids: list[str | None] = (None,), remote_status: int | None = None) -> None:
    """A's entries for the request it made of `region`, in one transaction committed before
    the caller raises or returns (AuditUnavailable, 503, if they cannot be written)."""
    detail: dict[str, Any] = {"want": req.want, "remote_region": region}
    if req.template is not None:
        detail["type_code"] = req.template.type_code
    if reason:
        detail["reason"] = reason
    if remote_status is not None:
        detail["remote_status"] = remote_status
    with auditing.audited_transaction(ctx) as session:
        for licence_id in licence_ids:
            auditing.record(ctx, session, action=retrieval.ACTIONS[req.want], client=client,
                            outcome=outcome, holder_code=req.holder_code, licence_id=licence_id,
                            matter_code=req.matter_code, grant_id=req.grant_id,
                            legal_basis=req.legal_basis, operator=req.operator, detail=detail)


# -- the called side (B) ---------------------------------------------------------------------

def recognised_check(ctx, session, *, source_region: str, matter_code: str | None,
                     type_code: str | None) -> str | None:
    """Only types this region lists as mutually recognised in its trust list are served to
    other regions (the list is what the other regions agreed to rely on)."""
    from license_svc.federation.publish import recognised_types
    if type_code is not None and type_code not in recognised_types():
        return "type-not-recognised"
    return None


# Checks B makes before the holder-level decision, in order; each returns a reason or None.
# (The scenario list is checked inside `retrieval.attempt`, for the department's region, as
# for a local retrieval.)
REMOTE_CHECKS: list[Callable[..., str | None]] = [recognised_check]


def _claimed_department(envelope: Any) -> tuple[str, str | None, str | None, str | None]:
    """(org code, client id, name, operator) as the caller states them — vouched for by its
    node once the node request checks out; only labels an audit entry before that."""
    dept = envelope.get("department") if isinstance(envelope, dict) else None
    dept = dept if isinstance(dept, dict) else {}
    try:
        org = check_org(RetrievalInvalid, "department.org_code", dept.get("org_code"))
    except GrantError:
        org = "unknown"
    texts = []
    for key in ("client_id", "name", "operator"):
        try:
            texts.append(check_text(RetrievalInvalid, f"department.{key}", dept.get(key)))
        except GrantError:
            texts.append(None)
    return (org, *texts)


def serve_remote(ctx, *, method: str, path: str, body: bytes, header: str | None) -> dict:
    """B's half: the answer for A's node, or the refusal raised after B's entry is committed."""
    try:
        envelope = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        envelope = None
    org, client_id, name, operator = _claimed_department(envelope)
    request_id = envelope.get("request_id") if isinstance(envelope, dict) else None
    # B's entries carry A's request id (signed, in the body): one id names the exchange.
    token = set_request_id(request_id) if isinstance(request_id, str) and \
        _REQUEST_ID.match(request_id) and not contains_id_number(request_id) else None
    try:
        with auditing.audited_transaction(ctx) as session:
            outcome = _decide(ctx, session, method, path, body, header, envelope,
                              org, client_id, name, operator)
    finally:
        if token is not None:
            reset_request_id(token)
    if isinstance(outcome, Exception):
        raise outcome
    return outcome


def _decide(ctx, session, method, path, body, header, envelope, org, client_id, name, operator):
    inner = envelope.get("retrieval") if isinstance(envelope, dict) else None
    want = inner.get("want", "data") if isinstance(inner, dict) else "data"
    action = retrieval.ACTIONS.get(want, retrieval.ACTIONS["data"])
    try:
        caller = node_request.verify(ctx, session, method=method, path=path, body=body,
                                     header=header)
    except NodeRequestRefused as exc:
        # Unattributed: labelled with what the request claims, marked unverified.
        claimed = _claimed_region(header) or ctx.region
        who = Client(client_id=client_id or "unknown", name=name or org, org_code=org,
                     region=claimed, roles=frozenset())
        auditing.record(ctx, session, action=action, client=who, operator=operator,
                        outcome="denied", detail={"want": want, "reason": "node-request-refused",
                                                  "node_reason": exc.reason, "verified": False})
        return exc
    if not isinstance(envelope, dict) or envelope.get("schema") != SCHEMA \
            or not isinstance(inner, dict) or org == "unknown":
        who = Client(client_id=client_id or "unknown", name=name or org, org_code=org,
                     region=caller.region, roles=frozenset())
        auditing.record(ctx, session, action=action, client=who, operator=operator,
                        outcome="invalid", detail={"want": want, "reason": "retrieval-invalid"})
        return RetrievalInvalid(f"not a {SCHEMA} request", f"不是 {SCHEMA} 调取请求")
    department = Client(client_id=client_id or f"{caller.region}-node", name=name or org,
                        org_code=org, region=caller.region, roles=frozenset({"relying"}))
    inner = dict(inner)
    if operator is not None:
        inner["operator"] = operator
    req = retrieval._Request()
    try:
        req.parse(inner)
    except GrantError:
        req = None
    if req is not None:
        for check in REMOTE_CHECKS:
            reason = check(ctx, session, source_region=caller.region, matter_code=req.matter_code,
                           type_code=req.template.type_code)
            if reason is not None:
                en, zh = REMOTE_REFUSALS.get(reason, (reason, reason))
                exc = RetrievalRefused(reason, en, zh)
                retrieval._audit(ctx, session, department, req, outcome="denied", reason=reason)
                return exc
    result = retrieval.attempt(ctx, session, department, inner)
    if isinstance(result, Exception):
        return result
    answer = {"schema": SCHEMA, "region": ctx.region, "request_id": current_request_id(),
              **result.body()}
    if result.want == "pdf":
        answer["pdf"] = base64.b64encode(result.pdf).decode("ascii")
        answer["identifier"] = result.identifier
        answer["disclosed"] = [result.identifier]
    else:
        answer["disclosed"] = [item["identifier"] for item in result.licences if item.get("identifier")]
    return answer


def _claimed_region(header: str | None) -> str | None:
    """The `from` an unverified node request claims (for the refusal's entry only)."""
    try:
        raw = base64.urlsafe_b64decode(header + "=" * (-len(header) % 4))
        claimed = json.loads(raw)["payload"]["from"]
    except Exception:  # noqa: BLE001 — anything unreadable: no claim
        return None
    return claimed if claimed in REGIONS else None

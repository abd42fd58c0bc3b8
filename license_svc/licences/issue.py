"""Issuance (docs/issuance.md, docs/seals.md, docs/formats.md): an approved application in, a signed and sealed licence out.

One licence = validate the request (envelope here, the type's own fields by its template's
schema, holder codes by their check characters, the caller's authority) → identifier → signed
canonical record → EL1 QR → rendered page → certified, sealed, timestamped PDF → stored with
its status-list slot and first lifecycle event, all in the caller's transaction.  Nothing is
written unless everything succeeded.

Idempotency (draft-ietf-httpapi-idempotency-key-header): a client's retry with the same key
and the same body gets the licence(s) already made, never a second one; the same key with a
different body is refused.  Each replay returns the full records again (holder ID numbers
included: the retry's body must be byte-for-byte the original request, holder codes and all,
so the caller shows it already holds them — it is the issuing system), and each replay is
audited as `licence.issue.replay`, one entry per licence, like any other read of the record
(issue 14 item 6).

No duplicates (docs/issuance.md): a request for a licence the holder already has in force, by the
type's uniqueness rule, is refused with 409 `licence-duplicate` naming the existing identifier
(`uniqueness`), unless it says `"replaces": "<that identifier>"` — then it is an amendment of it
with the request as its whole new content.  A batch refuses such items one by one and issues the
rest.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date
from typing import Any, Callable

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from license_svc import templates
from license_svc.auth import policy
from license_svc.identifiers import make_identifier, parse_identifier
from license_svc.licences import artefacts, holders, uniqueness
from license_svc.licences.auditing import audit_holder_ref, audit_licence
from license_svc.licences.errors import (BatchAllDuplicates, DuplicateLicence,
                                         IdempotencyKeyInvalid, IdempotencyKeyReused,
                                         IssuerAuthorityError, LicenceDataInvalid,
                                         UnknownLicenceType)
from license_svc.licences.lifecycle import (CST, append_event, clean_reason, holder_code_of,
                                            supersedable, supersede, version_for_change)
from license_svc.licences.models import IdempotencyKey, LicenceVersion
from license_svc.licences.record import RECORD_SCHEMA, iso_time
from formats.canonical_json import CanonicalJSONError, canonical_json
from license_svc.licences.resources import org_signing
from license_svc.licences.seals import issuing_office, licence_seal, seal_der
from license_svc.licences.signer_check import usable_signer
from license_svc.licences.status import add_with_status_slot
from formats import algorithms as alg
from formats.errors import ServiceError

ALGORITHMS = ("sm2", "rsa")
MAX_BATCH = 100
UNIQUE_RETRIES = 3
_IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")


@dataclass(frozen=True)
class IssueResult:
    identifiers: list[str]
    replayed: bool = False  # an idempotent retry: these were made by an earlier request
    view: Any = None  # what `issue(describe=...)` said of the new licence, inside its transaction
    rejected: tuple[dict, ...] = ()  # batch items refused as duplicates (`rejected_item`)


# -- request validation ------------------------------------------------------------------------

def _invalid(en: str, zh: str) -> LicenceDataInvalid:
    return LicenceDataInvalid(en, zh)


def check_issue_authority(ctx, actor, template, issuer_code: str):
    """An issuer client issues only its organisation's licence types, in its organisation's
    name, in this region.  Returns the keystore organisation."""
    if not actor.has_role("issuer"):
        raise IssuerAuthorityError("this client may not issue licences", "该客户端无权签发证照")
    if issuer_code != actor.org_code:
        raise IssuerAuthorityError("a client may issue only in the name of its own organisation",
                                   "只能以本机构名义签发证照")
    org = next((o for o in ctx.keystore.organisations(ctx.region) if o.code == actor.org_code), None)
    if org is None or actor.region != ctx.region:
        raise IssuerAuthorityError(
            f"organisation {actor.org_code} is not an issuing organisation of region {ctx.region}",
            f"机构 {actor.org_code} 不是本区域（{ctx.region}）的发证机构")
    if template.folder not in org.licence_types or not policy.may_issue_type(actor, template.folder) \
            or org.kind not in template.issuer_kinds:
        raise IssuerAuthorityError(f"{org.name} may not issue {template.name} ({template.folder})",
                                   f"{org.name} 无权签发{template.name}")
    return org


def prepare(ctx, actor, body: Any):
    """(template, request, algorithm, organisation) for a well-formed request this caller may
    make; raises a bilingual 4xx error naming what is wrong otherwise.  Writes nothing."""
    if not isinstance(body, dict):
        raise _invalid("the request body must be a JSON object", "请求体必须是 JSON 对象")
    request = dict(body)
    algorithm = request.pop("algorithm", "sm2")
    if algorithm not in ALGORITHMS:
        raise _invalid(f"algorithm must be one of {ALGORITHMS}", f"签名算法必须是 {ALGORITHMS} 之一")
    request.setdefault("issuer_code", actor.org_code)
    try:
        canonical_json(request)  # the record must be canonical: no floats anywhere
    except CanonicalJSONError as exc:
        raise _invalid(exc.message_en, exc.message_zh) from None
    known = templates.load_templates()
    if not isinstance(request.get("type"), str) or request["type"] not in known:
        raise UnknownLicenceType(f"unknown licence type {request.get('type')!r}; known: "
                                 f"{', '.join(known)}",
                                 f"未知的证照类型 {request.get('type')!r}，可用类型：{'、'.join(known)}")
    template = known[request["type"]]
    org = check_issue_authority(ctx, actor, template, request["issuer_code"])
    template.validate_request(request)  # TemplateError / IdentifierError name the field
    return template, request, algorithm, org


# -- one licence -------------------------------------------------------------------------------

def issue_one(ctx, session: Session, actor, body: Any, *,
              previous: LicenceVersion | None = None, reason: str | None = None) -> LicenceVersion:
    """Validate, build, sign, render, seal and store one licence version (caller's transaction).
    With `previous`, this is an amendment: same serial and number, next version, and the old
    version is marked superseded."""
    template, request, algorithm, org = prepare(ctx, actor, body)
    usable_signer(ctx, session, org.code, algorithm)  # withdrawn or missing: 503, nothing written
    at = ctx.now()
    today = at.astimezone(CST).date()
    if previous is None:
        identifier = make_identifier(template.type_code, org.code)
        number = template.licence_number(request, region=ctx.region, issued=today)
    else:
        if template.type_code != previous.type_code:
            raise _invalid("an amendment cannot change the licence type", "变更不能改变证照类型")
        last = supersedable(session, previous, at)
        identifier = parse_identifier(previous.identifier).with_version(previous.version + 1)
        number = json.loads(previous.record)["number"]
    record = template.make_record(request, identifier=str(identifier), number=number,
                                  issuer_name=org.name, region=ctx.region, issued_on=today,
                                  version=identifier.version)
    record.update({"schema": RECORD_SCHEMA, "issued_at": iso_time(at),
                   "supersedes": previous.identifier if previous is not None else None})
    office = issuing_office(org, template, record)
    if office:
        record["issuer"]["office"] = office
    unique_key = uniqueness.licence_key(ctx, template, record)
    uniqueness.claim(session, unique_key, template, today,  # before anything is signed
                     replacing=previous.identifier if previous is not None else None)
    body_bytes = canonical_json(record)
    digest = alg.sm3(body_bytes).hex()
    es_id = licence_seal(ctx, session, org, template, record)
    signing = org_signing(ctx, org.code, algorithm, template, es_id,
                          lambda: seal_der(session, es_id))
    cred = signing.credential
    el1, pdf = artefacts.produce(template, record, digest, signing, at)
    version = LicenceVersion(
        identifier=record["identifier"], version=identifier.version, region=ctx.region,
        family=f"{identifier.type_code}.{identifier.issuer_code}.{identifier.serial}",
        type_code=template.type_code, issuer_code=org.code,
        holder_ref=audit_holder_ref(ctx, record["holders"][0]["code"]), algorithm=algorithm,
        record=body_bytes.decode("utf-8"), data_hash=digest, signature=cred.key.sign(body_bytes),
        signer_cert=cred.cert.dump(), el1=el1, pdf=pdf,
        valid_until=date.fromisoformat(record["valid_until"]) if record["valid_until"] else None,
        issued_at=at, client_id=actor.client_id, unique_key=unique_key)
    if previous is not None:
        supersede(ctx, session, previous, version.identifier, actor, at, reason, last)
    add_with_status_slot(session, version, owner=ctx)
    holders.add(ctx, session, version.identifier, record)  # every holder, not only the first
    append_event(ctx, session, version, "amended" if previous is not None else "issued", "active",
                 actor.client_id, at, reason, credential=cred)
    audit_licence(ctx, session, action="licence.amend" if previous is not None else "licence.issue",
                  actor=actor, identifier=version.identifier, holder_code=record["holders"][0]["code"])
    session.flush()
    return version


def issue_request(ctx, session: Session, actor, body: Any) -> LicenceVersion:
    """One request of `POST /licences` or one batch item: a new licence, or, with
    `"replaces": "<identifier>"` (and an optional `"reason"`), an amendment of that licence whose
    new content is the request itself."""
    if not (isinstance(body, dict) and "replaces" in body):
        return issue_one(ctx, session, actor, body)
    request = dict(body)
    replaced = request.pop("replaces")
    if not isinstance(replaced, str):
        raise _invalid("replaces must be the identifier of the licence this one replaces",
                       "replaces 必须是被替换证照的标识")
    reason = clean_reason(request.pop("reason", None), required=False)
    previous = version_for_change(ctx, session, replaced, actor)
    return issue_one(ctx, session, actor, request, previous=previous, reason=reason)


def rejected_item(index: int, exc: DuplicateLicence) -> dict:
    """How a batch reports an item refused as a duplicate (no holder data in it)."""
    return {"index": index, "code": exc.code, "existing_identifier": exc.existing,
            "message_zh": exc.message_zh, "message_en": exc.message_en}


# -- idempotent entry points -----------------------------------------------------------------

def request_hash(kind: str, body: Any) -> str:
    try:
        return alg.sm3(canonical_json({"kind": kind, "body": body})).hex()
    except CanonicalJSONError as exc:
        raise _invalid(exc.message_en, exc.message_zh) from None


def _stored_result(ctx, session: Session, actor, key: str, digest: str) -> IssueResult | None:
    """The result of an earlier request with this key, audited in `session` as a disclosure of
    each licence it names (the caller's unit of work commits it with the answer)."""
    row = session.get(IdempotencyKey, (actor.client_id, key))
    if row is None:
        return None
    if row.request_hash != digest:
        raise IdempotencyKeyReused()
    result = json.loads(row.result)  # the identifiers, or {"identifiers", "rejected"} of a batch
    identifiers = result if isinstance(result, list) else result["identifiers"]
    rejected = () if isinstance(result, list) else tuple(result["rejected"])
    for identifier in identifiers:
        version = session.scalar(select(LicenceVersion).where(LicenceVersion.identifier == identifier))
        audit_licence(ctx, session, action="licence.issue.replay", actor=actor, identifier=identifier,
                      holder_code=holder_code_of(version) if version is not None else None,
                      detail={"idempotent_replay": True, "first_request_at": iso_time(row.created_at)})
    return IssueResult(identifiers, replayed=True, rejected=rejected)


def _stored_form(result: IssueResult) -> str:
    if not result.rejected:
        return json.dumps(result.identifiers)
    return json.dumps({"identifiers": result.identifiers, "rejected": list(result.rejected)},
                      ensure_ascii=False)


def run_idempotent(ctx, actor, kind: str, body: Any, key: str | None,
                   produce: Callable[[Session], IssueResult]) -> IssueResult:
    """Run `produce` in its own transaction, at most once per (client, key).

    A concurrent request with the same key loses on the primary key of the idempotency row;
    its whole transaction (licence included) rolls back and it answers with the winner's
    result, so a retry storm still makes exactly one licence.  Any other unique clash (a random
    serial drawn twice, or a concurrent request for the same licence taking its uniqueness key
    first) is retried with fresh random choices, and the retry's look-up then finds the winner
    (`uniqueness.claim`: 409); status-list slots never clash here (`status.add_with_status_slot`
    draws again itself)."""
    if key is not None and not (isinstance(key, str) and _IDEMPOTENCY_KEY.match(key)):
        raise IdempotencyKeyInvalid()
    digest = request_hash(kind, body) if key is not None else None
    for attempt in range(UNIQUE_RETRIES):
        try:
            with ctx.unit_of_work() as session:
                if key is not None:
                    stored = _stored_result(ctx, session, actor, key, digest)
                    if stored is not None:
                        return stored
                result = produce(session)
                if key is not None:
                    session.add(IdempotencyKey(client_id=actor.client_id, key=key,
                                               request_hash=digest, result=_stored_form(result),
                                               created_at=ctx.now()))
                    session.flush()
                return result
        except IntegrityError:
            if key is not None:
                with ctx.unit_of_work() as session:
                    stored = _stored_result(ctx, session, actor, key, digest)
                if stored is not None:
                    return stored
            if attempt == UNIQUE_RETRIES - 1:
                raise
    raise AssertionError("unreachable")


def issue(ctx, actor, body: Any, *, idempotency_key: str | None = None,
          describe: Callable[[Session, LicenceVersion], Any] | None = None) -> IssueResult:
    """One licence.  `describe(session, version)` runs in the issuing transaction and its result
    is `IssueResult.view`: the HTTP route's 201 body comes from the licence just made instead of
    a second transaction reading the ~100 KB row back.  A replay has no view (nothing was made)."""

    def produce(session: Session) -> IssueResult:
        version = issue_request(ctx, session, actor, body)
        return IssueResult([version.identifier],
                           view=describe(session, version) if describe is not None else None)

    return run_idempotent(ctx, actor, "issue", body, idempotency_key, produce)


def issue_batch(ctx, actor, bodies: Any, *, idempotency_key: str | None = None) -> IssueResult:
    """One bad item fails the batch (its index is in the error) and none is kept — except a
    duplicate (`DuplicateLicence`: of a licence in force, or of an earlier item), which is left
    out and reported in `rejected` while the rest issue.  All duplicates: 409, nothing issued."""
    if not isinstance(bodies, list) or not 1 <= len(bodies) <= MAX_BATCH:
        raise _invalid(f"a batch is a list of 1..{MAX_BATCH} licence requests",
                       f"批量签发须为 1 到 {MAX_BATCH} 个证照请求的列表")

    def produce(session: Session) -> IssueResult:
        out, rejected = [], []
        for i, body in enumerate(bodies):
            try:
                out.append(issue_request(ctx, session, actor, body).identifier)
            except DuplicateLicence as exc:  # refused before it wrote anything: the batch goes on
                rejected.append(rejected_item(i, exc))
            except ServiceError as exc:
                exc.message_en = f"item {i}: {exc.message_en}"
                exc.message_zh = f"第 {i} 项：{exc.message_zh}"
                raise
        if not out:
            raise BatchAllDuplicates(rejected)
        return IssueResult(out, rejected=tuple(rejected))

    return run_idempotent(ctx, actor, "batch", bodies, idempotency_key, produce)

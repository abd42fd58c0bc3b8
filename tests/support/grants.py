"""The grant/retrieval world for the service, security and page tests: real licences issued
through the issuance pipeline, holder clients (a person and a company), two relying departments
and an auditor.  The fixtures building it (`parties`, `world`, `http`) are in tests/conftest.py;
the parties, bodies and audit helpers are here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from license_svc import audit
from license_svc.audit.models import AuditEntryRow
from license_svc.auth.clients import Client
from license_svc.licences import issue as issuing
from tests.support.issuing import example

PERSON = "310101199003071230"        # holder of the example driving licence
COMPANY = "91310000MA00000012"       # holder of the example business licence
STRANGER = "11010519491231002X"      # a valid ID number holding nothing here
DEPT = "11310000MB0000300A"          # 上海市人力资源和社会保障局 (dev relying client)
OTHER_DEPT = "11320000MB0000300E"    # another department
MATTER = "310000-000-0001"
PROBLEM = "application/problem+json"


@dataclass
class World:
    driving: str | None   # identifier of PERSON's driving licence
    business: str | None  # identifier of COMPANY's business licence
    person: Client
    person_h: dict
    company: Client
    company_h: dict
    dept: Client
    dept_h: dict
    other: Client
    other_h: dict
    auditor_h: dict


def issue_licence(ctx, folder: str, org: str, types: list[str], **changes) -> str:
    actor = Client(client_id=f"test-issuer-{org}", name="测试审批系统", org_code=org,
                   region=ctx.region, roles=frozenset({"issuer"}), licence_types=tuple(types))
    with ctx.unit_of_work() as session:
        return issuing.issue_one(ctx, session, actor, example(folder, issuer_code=org, **changes)).identifier


def grant_body(ctx, **changes) -> dict:
    body = {"grantee_org": DEPT, "licence_type": "driving_licence", "matter_code": MATTER,
            "valid_until": (ctx.now() + timedelta(days=7)).isoformat(), "max_uses": 1}
    body.update(changes)
    return {k: v for k, v in body.items() if v is not ...}


def retrieval_body(grant_id=None, **changes) -> dict:
    body = {"holder_code": PERSON, "holder_code_type": "111", "licence_type": "driving_licence",
            "matter_code": MATTER, "want": "data"}
    if grant_id is not None:
        body["grant_id"] = grant_id
    body.update(changes)
    return {k: v for k, v in body.items() if v is not ...}


def audit_rows(ctx) -> list:
    """(index, leaf) of every entry, sequenced first."""
    with ctx.unit_of_work() as session:
        audit.sequence_pending(session)
    with ctx.unit_of_work() as session:
        return list(session.execute(select(AuditEntryRow.idx, AuditEntryRow.leaf)
                                    .order_by(AuditEntryRow.idx)).all())


def audit_count(ctx) -> int:
    return len(audit_rows(ctx))


def problem(resp, status: int, slug: str) -> dict:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith(PROBLEM)
    body = resp.json()
    assert body["type"] == f"urn:license-svc:problem:{slug}", body
    assert body["title_zh"] and body["title_en"]
    return body

"""No unaudited access: when the audit entry cannot be written the retrieval is a 503 with no
licence data, and under concurrency every retrieval gets exactly one entry in a gap-free,
consistent tree — with a many-use grant whose counter must not be over-spent."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from license_svc import audit
from license_svc.audit.checkpoint import log_signer
from license_svc.audit.models import AuditEntryRow
from license_svc.grants import grants as grant_domain
from license_svc.grants import retrieval
from license_svc.grants.errors import AuditUnavailable, RetrievalRefused
from license_svc.grants.models import Grant
from tests.support.grants import (COMPANY, PERSON, audit_count, audit_rows, grant_body, problem,
                                  retrieval_body)
from tests.support.rfc9162 import RFCTree

__all__ = ["http", "parties", "world"]  # fixtures
LEGAL_BASIS = "《中华人民共和国行政许可法》第三十四条"


def _db_error() -> OperationalError:
    return OperationalError("INSERT INTO audit_entries ...", {}, Exception("disk I/O error"))


@pytest.mark.parametrize("fault", [_db_error, lambda: audit.AuditError("log down", "日志不可用")])
@pytest.mark.parametrize("want", ["data", "pdf", "verify"])
def test_audit_write_failure_is_503_and_nothing_leaves(http, ctx, world, want, fault):
    gid = http.post("/api/v1/grants", json=grant_body(ctx, max_uses=5), headers=world.person_h).json()["id"]
    before = audit_count(ctx)
    with audit.failing_appends(fault()):
        resp = http.post("/api/v1/retrievals", json=retrieval_body(gid, want=want), headers=world.dept_h)
    body = problem(resp, 503, "audit-unavailable")
    assert set(body) <= {"type", "title", "title_zh", "title_en", "status", "detail", "detail_zh", "request_id"}
    for leak in (world.driving, PERSON, "张三", "%PDF", "EL1:"):
        assert leak not in resp.text
    assert audit_count(ctx) == before
    with ctx.unit_of_work() as s:
        assert s.get(Grant, gid).uses_left == 5  # the use taken was rolled back with the entry
    # and once the log works again, so does the retrieval
    assert http.post("/api/v1/retrievals", json=retrieval_body(gid, want=want),
                     headers=world.dept_h).status_code == 200


def test_refusal_whose_entry_cannot_be_written_is_503_too(http, ctx, parties):
    with audit.failing_appends(_db_error()):
        problem(http.post("/api/v1/retrievals", json=retrieval_body(), headers=parties.dept_h),
                503, "audit-unavailable")
    assert audit_count(ctx) == 0


def test_grant_changes_fail_with_503_and_roll_back(http, ctx, parties):
    with audit.failing_appends(_db_error()):
        problem(http.post("/api/v1/grants", json=grant_body(ctx), headers=parties.person_h),
                503, "audit-unavailable")
    with ctx.unit_of_work() as s:
        assert s.scalar(select(func.count()).select_from(Grant)) == 0
    gid = http.post("/api/v1/grants", json=grant_body(ctx), headers=parties.person_h).json()["id"]
    with audit.failing_appends(_db_error()):
        problem(http.delete(f"/api/v1/grants/{gid}", headers=parties.person_h), 503, "audit-unavailable")
    assert http.get(f"/api/v1/grants/{gid}", headers=parties.person_h).json()["status"] == "active"


def test_domain_function_raises_audit_unavailable(ctx, parties):
    with audit.failing_appends(_db_error()), pytest.raises(AuditUnavailable):
        retrieval.retrieve(ctx, parties.dept, retrieval_body(legal_basis=LEGAL_BASIS))


def test_concurrent_retrievals_one_entry_each_consistent_tree_and_an_exact_use_counter(ctx, world, clock):
    """8 clients, 1,000 retrievals: 500 of the person's licence under one grant with 490 uses (so
    exactly 10 must be refused for want of uses), 500 of the company's under a legal basis."""
    with ctx.unit_of_work() as s:
        grant = grant_domain.create_grant(ctx, s, world.person, grant_body(ctx, max_uses=490))
    start = audit_count(ctx)
    outcomes: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def client(t: int) -> None:
        for i in range(125):
            if (t + i) % 2:
                body = retrieval_body(grant.id, want="verify")
            else:
                body = retrieval_body(legal_basis=LEGAL_BASIS, want="verify", holder_code=COMPANY,
                                      holder_code_type="001", licence_type="business_licence")
            try:
                result = retrieval.retrieve(ctx, world.dept, body)
                outcome = "ok" if result.licences and result.licences[0]["valid"] else "bad"
            except RetrievalRefused as exc:
                outcome = exc.reason
            except BaseException as exc:  # surfaced below
                errors.append(exc)
                return
            with lock:
                outcomes.append(outcome)

    threads = [threading.Thread(target=client, args=(t,)) for t in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[:3]
    assert outcomes.count("ok") == 990 and outcomes.count("grant-used-up") == 10 and len(outcomes) == 1000
    audit.sequence(ctx)
    with ctx.unit_of_work() as s:
        assert s.get(Grant, grant.id).uses_left == 0
        n = s.scalar(select(func.count()).select_from(AuditEntryRow))
        idx = list(s.scalars(select(AuditEntryRow.idx).order_by(AuditEntryRow.idx)))
        cp = audit.publish_checkpoint(s, log_signer(ctx.keystore, "sh"), clock())
    assert n == start + 1000 and idx == list(range(n))  # exactly 1,000 new entries, no gaps
    leaves = [leaf for _, leaf in audit_rows(ctx)]
    assert cp.size == n and cp.root == RFCTree(leaves).root(n)
    assert sum(b'"outcome":"denied"' in leaf for leaf in leaves[start:]) == 10


def test_racing_for_the_last_uses_never_overspends(ctx, parties):
    """8 departments' clerks start together on a grant with 3 uses left, five times over: each
    time exactly 3 are served.  (The read that precedes the use is not what decides: the
    conditional UPDATE is.)"""
    for _ in range(5):
        with ctx.unit_of_work() as s:
            grant = grant_domain.create_grant(ctx, s, parties.person, grant_body(ctx, max_uses=3))
        barrier = threading.Barrier(8)
        outcomes: list[str] = []

        def clerk() -> None:
            barrier.wait()
            try:
                retrieval.retrieve(ctx, parties.dept, retrieval_body(grant.id, want="verify"))
                outcomes.append("served")
            except RetrievalRefused as exc:
                outcomes.append(exc.reason)

        threads = [threading.Thread(target=clerk) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(outcomes) == ["grant-used-up"] * 5 + ["served"] * 3

""""Who looked at my licences": the holder's access log shows the department's retrievals of
its licences — refusals too — each with an inclusion proof that an independent RFC 9162
verifier (tests/support/rfc9162.py, not the service's code) accepts against the
root of the latest signed checkpoint; the auditor searches by department, licence, matter, time;
and no stored audit entry holds the holder's ID number in clear."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

from sqlalchemy import text

from license_svc import audit
from license_svc.audit.checkpoint import log_signer
from tests.support.grants import (DEPT, MATTER, OTHER_DEPT, PERSON, grant_body, problem,
                                  retrieval_body)
from tests.support.rfc9162 import rfc_leaf, rfc_verify_inclusion
from verification import tlog

__all__ = ["http", "parties", "world"]  # fixtures
LEGAL_BASIS = "《中华人民共和国行政许可法》第三十四条"


def _root_from_note(note: str) -> tuple[int, bytes]:
    """Size and root read straight from the note text (c2sp.org/tlog-checkpoint lines 2 and 3)."""
    lines = note.split("\n")
    return int(lines[1]), base64.b64decode(lines[2])


def _story(http, ctx, world, clock):
    """The holder grants; the department retrieves once, tries again (used up: refused), and
    another department retrieves under a legal basis."""
    gid = http.post("/api/v1/grants", json=grant_body(ctx), headers=world.person_h).json()["id"]
    clock.advance(minutes=1)
    assert http.post("/api/v1/retrievals", json=retrieval_body(gid, operator="王五"),
                     headers=world.dept_h).status_code == 200
    clock.advance(minutes=1)
    assert http.post("/api/v1/retrievals", json=retrieval_body(gid), headers=world.dept_h).status_code == 403
    clock.advance(minutes=1)
    assert http.post("/api/v1/retrievals", headers=world.other_h, json=retrieval_body(
        legal_basis=LEGAL_BASIS, want="verify", matter_code="320000-000-0009")).status_code == 200
    return gid


def test_access_log_shows_retrievals_with_proofs_an_independent_verifier_accepts(http, ctx, world, clock):
    gid = _story(http, ctx, world, clock)
    # the company's own activity must not show up in the person's log
    http.post("/api/v1/grants", headers=world.company_h,
              json=grant_body(ctx, licence_type="business_licence"))
    audit.publish(ctx)

    r = http.get("/api/v1/holders/me/access-log", headers=world.person_h)
    assert r.status_code == 200, r.text
    log = r.json()
    assert PERSON not in r.text
    cp = log["checkpoint"]
    verified = tlog.verify_checkpoint(cp["note"].encode(), [log_signer(ctx.keystore, "sh").verifier_key],
                                      origin="licence-audit/sh")
    assert verified.ok, verified.detail
    size, root = _root_from_note(cp["note"])
    assert (size, base64.b64encode(root).decode()) == (cp["size"], cp["root"])

    items = log["entries"]
    # newest first: legal-basis verify, refusal, retrieval, grant, and the licence's issuance
    assert [(i["action"], i["outcome"]) for i in items] == [
        ("licence.verify", "success"), ("licence.retrieve", "denied"), ("licence.retrieve", "success"),
        ("grant.create", "success"), ("licence.issue", "success")]
    verify, refused, retrieved, granted, _issued = items
    assert (retrieved["department"]["org_code"], retrieved["department"]["name"], retrieved["licence_id"],
            retrieved["matter_code"], retrieved["grant_id"], retrieved["department"]["operator"]) == (
        DEPT, "上海市人社局", world.driving, MATTER, gid, "王五")
    assert (refused["grant_id"], refused["entry"]["detail"]["reason"]) == (gid, "grant-used-up")
    assert (verify["department"]["org_code"], verify["legal_basis"], verify["grant_id"], verify["matter_code"]) == (
        OTHER_DEPT, LEGAL_BASIS, None, "320000-000-0009")
    assert granted["grant_id"] == gid and granted["department"]["client_id"] == world.person.client_id

    ref = audit.holder_reference(ctx, PERSON)
    for item in items:
        leaf = base64.b64decode(item["leaf"])
        assert json.loads(leaf) == item["entry"] and item["entry"]["holder_ref"] == ref
        proof = item["inclusion_proof"]
        assert proof["size"] == size
        hashes = [base64.b64decode(h) for h in proof["hashes"]]
        assert rfc_verify_inclusion(rfc_leaf(leaf), item["index"], size, hashes, root)
        # and a tampered leaf does not verify
        assert not rfc_verify_inclusion(rfc_leaf(leaf.replace(b'"v":1', b'"v":2')), item["index"],
                                        size, hashes, root)


def test_entries_after_the_checkpoint_wait_for_the_next_one_and_pages(http, ctx, world, clock):
    audit.publish(ctx)
    _story(http, ctx, world, clock)
    items = http.get("/api/v1/holders/me/access-log", headers=world.person_h).json()["entries"]
    assert items[0]["inclusion_proof"] is None  # not yet in a signed checkpoint
    audit.publish(ctx)
    page1 = http.get("/api/v1/holders/me/access-log?limit=2", headers=world.person_h).json()
    assert len(page1["entries"]) == 2 and all(i["inclusion_proof"] for i in page1["entries"])
    page2 = http.get(f"/api/v1/holders/me/access-log?limit=2&before={page1['next_before']}",
                     headers=world.person_h).json()
    assert [i["index"] for i in page2["entries"]] == [i["index"] for i in
                                                      http.get("/api/v1/holders/me/access-log",
                                                               headers=world.person_h).json()["entries"][2:4]]


def test_access_log_is_for_holders_only(http, ctx, parties):
    problem(http.get("/api/v1/holders/me/access-log", headers=parties.dept_h), 403, "forbidden")
    problem(http.get("/api/v1/holders/me/access-log", headers=parties.auditor_h), 403, "forbidden")
    empty = http.get("/api/v1/holders/me/access-log", headers=parties.company_h).json()
    assert empty["entries"] == [] and empty["checkpoint"] is None


def test_auditor_searches_by_department_licence_matter_grant_and_time(http, ctx, world, clock):
    t0 = clock()
    gid = _story(http, ctx, world, clock)
    h = world.auditor_h

    def search(query: str) -> list[tuple[str, str]]:
        r = http.get(f"/api/v1/audit/search?{query}", headers=h)
        assert r.status_code == 200, r.text
        return [(e["entry"]["action"], e["entry"]["outcome"]) for e in r.json()["entries"]]

    assert search(f"department={DEPT}") == [("licence.retrieve", "denied"), ("licence.retrieve", "success")]
    assert search(f"licence={world.driving}&department={DEPT}") == [("licence.retrieve", "success")]
    assert search(f"matter={MATTER}") == [("licence.retrieve", "denied"), ("licence.retrieve", "success"),
                                          ("grant.create", "success")]
    assert search("matter=320000-000-0009") == [("licence.verify", "success")]
    assert search("matter=310000-000-000") == []  # a prefix is not a match
    assert search(f"grant={gid}&outcome=denied") == [("licence.retrieve", "denied")]
    assert search("ex_officio=true") == [("licence.verify", "success")]
    start = (t0 + timedelta(seconds=90)).isoformat().replace("+00:00", "Z")
    end = (t0 + timedelta(seconds=150)).isoformat().replace("+00:00", "Z")
    assert search(f"from={start}&to={end}") == [("licence.retrieve", "denied")]
    problem(http.get("/api/v1/audit/search?from=2026-06-01T08:00:00", headers=h), 422, "validation-error")
    problem(http.get("/api/v1/audit/search", headers=world.dept_h), 403, "forbidden")


def test_no_stored_audit_entry_holds_the_id_number_in_clear(http, ctx, world, clock):
    _story(http, ctx, world, clock)
    http.post("/api/v1/retrievals", json=retrieval_body(holder_code="310101199003071231"),
              headers=world.dept_h)  # invalid code, audited as invalid
    audit.publish(ctx)
    needles = [PERSON.encode(), PERSON[:17].encode(), "310101199003071231".encode()]
    with ctx.engine.connect() as conn:
        tables = [t for t in ("audit_entries", "audit_queue", "audit_checkpoints", "grants")
                  if conn.dialect.has_table(conn, t)]
        dumped = 0
        for table in tables:
            for row in conn.execute(text(f"SELECT * FROM {table}")):
                for value in row:
                    raw = value if isinstance(value, (bytes, memoryview)) else str(value).encode()
                    assert not any(n in bytes(raw) for n in needles), (table, row)
                    dumped += 1
    assert dumped > 50

"""Audit attacks: refused accesses that leave no trace, routes that could change the log, and the
database-level guard (triggers) that keeps the log append-only — on SQLite as on PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from tests.support.issuing import AMR_SH, TRAFFIC_SH
from tests.security.support import audit_entries, new_entries, refused


ADMIN_ORG = "12310000MB0000100U"


@pytest.fixture
def amr_seal(http, make_api_client):
    _, admin = make_api_client(["admin"], org_code=ADMIN_ORG)
    resp = http.post("/api/v1/seals", json={"org_code": AMR_SH, "name": "合同专用章", "type": 3},
                     headers=admin)
    assert resp.status_code == 201, resp.text
    return resp.json()["id"]


def test_a_refused_use_of_a_seal_is_audited(http, ctx, issuers, make_api_client, amr_seal):
    """Stamping with another organisation's seal, or with a suspended one, is refused — and the
    attempt stays in the log (it used to be written in the transaction the refusal rolled back,
    or not at all)."""
    before = len(audit_entries(ctx))
    refused(http.post(f"/api/v1/seals/{amr_seal}/sign", content=b"doc", headers=issuers[TRAFFIC_SH][1]),
            403, "seal-forbidden")
    _, admin = make_api_client(["admin"], org_code=ADMIN_ORG)
    assert http.post(f"/api/v1/seals/{amr_seal}/suspend", json={"reason": "核查"}, headers=admin).status_code == 200
    refused(http.post(f"/api/v1/seals/{amr_seal}/sign", content=b"doc", headers=issuers[AMR_SH][1]),
            409, "seal-conflict")
    entries = [e for e in new_entries(ctx, before) if e["action"] == "seal.sign"]
    assert [(e["outcome"], e["actor"]["org_code"]) for e in entries] == [
        ("denied", TRAFFIC_SH), ("denied", AMR_SH)], entries
    assert all(e["detail"]["seal_id"] == amr_seal for e in entries)


def test_refused_reads_and_retrievals_are_audited(http, ctx, world):
    before = len(audit_entries(ctx))
    refused(http.get(f"/api/v1/licences/{world.driving}/pdf", headers=world.dept_h), 403)
    refused(http.get(f"/api/v1/licences/{world.driving}", headers=world.company_h), 403)
    refused(http.post("/api/v1/retrievals", headers=world.dept_h, json={
        "holder_code": "310101199003071230", "holder_code_type": "111", "licence_type": "driving_licence",
        "matter_code": "310000-000-0001"}), 403, "retrieval-refused")
    resp = http.post("/api/v1/verify", content=b"\x00garbage" * 10, headers=world.dept_h)
    refused(resp, 422, "unreadable-input")
    outcomes = [(e["action"], e["outcome"]) for e in new_entries(ctx, before)]
    assert outcomes == [("licence.read.pdf", "denied"), ("licence.read.record", "denied"),
                        ("licence.retrieve", "denied"), ("licence.verify", "invalid")], outcomes


def test_a_refused_read_naming_an_id_number_as_purpose_is_still_audited(http, ctx, world):
    """The audit log refuses an ID number; a refused read carrying one as its `purpose` used to
    make the refusal's own entry fail — 422 audit-entry instead of 403, and no trace."""
    before = len(audit_entries(ctx))
    url = f"/api/v1/licences/{world.driving}?purpose=310101199003071230"
    refused(http.get(url, headers=world.dept_h), 403)
    [entry] = new_entries(ctx, before)
    assert (entry["outcome"], entry["purpose"]) == ("denied", None)
    body = refused(http.get(url, headers=world.person_h), 422, "licence-data-invalid")  # the holder
    assert "310101199003071230" not in str(body)


def test_a_refused_read_of_an_audit_entry_is_audited(http, ctx, world):
    """Probing another holder's entries (who looked at their licences) was refused silently."""
    idx = next(i for i, e, _ in audit_entries(ctx) if e["action"] == "licence.issue")
    before = len(audit_entries(ctx))
    refused(http.get(f"/api/v1/audit/entries/{idx}", headers=world.company_h), 403)
    [entry] = new_entries(ctx, before)
    assert (entry["action"], entry["outcome"], entry["detail"]) == ("audit.read", "denied", {"index": idx})


def test_a_citizen_verification_is_answered_and_audited(http, ctx, world):
    """A citizen client has no org code: its verifications (and seal verifications) were audited
    with an empty actor org, which the audit log refuses — every one a 422, unrecorded."""
    with ctx.unit_of_work() as s:
        from license_svc.licences import lifecycle
        el1 = lifecycle.load_version(s, world.driving).el1
    before = len(audit_entries(ctx))
    resp = http.post("/api/v1/verify", json={"qr": el1}, headers=world.person_h)
    assert resp.status_code == 200, resp.text
    [entry] = new_entries(ctx, before)
    assert (entry["action"], entry["actor"]["org_code"]) == ("licence.verify", "citizen")
    assert http.post("/api/v1/verify/seal", content=b"not a seal", headers=world.person_h).status_code == 200


def test_no_route_changes_or_deletes_audit_entries(http, make_api_client):
    _, admin = make_api_client(["admin", "auditor"], org_code=ADMIN_ORG)
    paths = http.get("/openapi.json").json()["paths"]
    writes = sorted((m.upper(), p) for p, ops in paths.items() if "audit" in p
                    for m in ops if m not in ("get", "head"))
    # signs, or keeps a witness's cosignature line beside a checkpoint; never edits an entry
    assert writes == [("POST", "/api/v1/audit/checkpoint"),
                      ("POST", "/api/v1/audit/cosignature")], writes
    for method in ("put", "patch", "delete"):
        for path in ("/api/v1/audit/entries/0", "/api/v1/audit/checkpoint", "/api/v1/audit/search"):
            resp = http.request(method, path, headers=admin)
            refused(resp, 405, "method-not-allowed")


@pytest.mark.parametrize("table", ["audit_entries", "audit_nodes", "audit_checkpoints"])
def test_the_database_refuses_update_and_delete_of_the_log(http, ctx, parties, table):
    """Runs on whatever database the suite uses (SQLite by default, PostgreSQL in CI)."""
    from license_svc import audit
    from tests.support.grants import grant_body

    assert http.post("/api/v1/grants", json=grant_body(ctx), headers=parties.person_h).status_code == 201
    audit.publish(ctx)  # a checkpoint row to attack too
    assert audit_entries(ctx)
    column = {"audit_entries": "leaf", "audit_nodes": "hash", "audit_checkpoints": "note"}[table]
    value = "x" if table == "audit_checkpoints" else b"x"
    for statement, params in ((f"UPDATE {table} SET {column} = :v", {"v": value}),
                              (f"DELETE FROM {table}", {})):
        with pytest.raises(DBAPIError) as err:
            with ctx.engine.begin() as conn:
                conn.execute(text(statement), params)
        assert "append-only" in str(err.value)
    with ctx.engine.connect() as conn:
        assert conn.execute(text(f"SELECT count(*) FROM {table}")).scalar() > 0

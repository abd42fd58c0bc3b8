"""The audit routes of DESIGN §10, checked the way a monitor or a witness would: fetch the
checkpoint, verify its signature with the published key, then verify served proofs and leaves
with the independent RFC 9162 code."""

from __future__ import annotations

import base64
import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from license_svc import audit
from license_svc.audit.checkpoint import log_signer
from license_svc.audit.models import AuditEntryRow
from tests.license_svc.test_audit_log import append_many, entry
from tests.support.rfc9162 import rfc_leaf, rfc_verify_consistency, rfc_verify_inclusion
from verification import tlog


@pytest.fixture
def http(app):
    app.state.audit_checkpoint_interval = 0  # no background publisher in these tests
    with TestClient(app) as tc:
        yield tc


def _checkpoint(http, ctx):
    r = http.get("/api/v1/audit/checkpoint")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    res = tlog.verify_checkpoint(r.content, [log_signer(ctx.keystore, "sh").verifier_key],
                                 origin="licence-audit/sh")
    assert res.ok, res.detail
    return res.checkpoint


def test_checkpoint_entries_and_proofs(http, ctx, auth_headers):
    r = http.get("/api/v1/audit/checkpoint")
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"
    append_many(ctx, 21)
    assert http.post("/api/v1/audit/checkpoint", headers=auth_headers["admin"]).status_code == 200
    first = _checkpoint(http, ctx)
    append_many(ctx, 12, start=21)
    http.post("/api/v1/audit/checkpoint", headers=auth_headers["admin"])
    cp = _checkpoint(http, ctx)
    assert (first.size, cp.size) == (21, 33)

    r = http.get("/api/v1/audit/entries/13", headers=auth_headers["auditor"])
    assert r.status_code == 200
    body = r.json()
    leaf = base64.b64decode(body["leaf"])
    assert body["index"] == 13 and body["entry"]["grant_id"] == "g-13"
    assert leaf == entry(ctx, 13).leaf()

    r = http.get("/api/v1/audit/proof/inclusion", params={"index": 13, "size": cp.size})
    assert r.status_code == 200 and r.json()["index"] == 13 and r.json()["size"] == 33
    proof = [base64.b64decode(h) for h in r.json()["hashes"]]
    assert rfc_verify_inclusion(rfc_leaf(leaf), 13, cp.size, proof, cp.root)

    r = http.get("/api/v1/audit/proof/consistency", params={"from": first.size, "to": cp.size})
    assert r.status_code == 200 and (r.json()["from"], r.json()["to"]) == (21, 33)
    proof = [base64.b64decode(h) for h in r.json()["hashes"]]
    assert rfc_verify_consistency(first.size, cp.size, first.root, cp.root, proof)


def test_errors_are_problems(http, ctx, auth_headers):
    append_many(ctx, 3)
    for url, params, status in [
        ("/api/v1/audit/proof/inclusion", {"index": 3, "size": 3}, 400),
        ("/api/v1/audit/proof/inclusion", {"index": 0, "size": 4}, 404),
        ("/api/v1/audit/proof/inclusion", {"index": -1, "size": 2}, 422),
        ("/api/v1/audit/proof/inclusion", {"index": "x", "size": 2}, 422),
        ("/api/v1/audit/proof/consistency", {"from": 3, "to": 2}, 400),
        ("/api/v1/audit/proof/consistency", {"from": 1, "to": 10**30}, 422),
    ]:
        r = http.get(url, params=params)
        assert r.status_code == status, (params, r.text)
        assert r.headers["content-type"] == "application/problem+json"
    assert http.get("/api/v1/audit/entries/99", headers=auth_headers["auditor"]).status_code == 404
    assert http.get(f"/api/v1/audit/entries/{10**30}", headers=auth_headers["auditor"]).status_code == 422
    assert http.get("/api/v1/audit/entries/1").status_code == 401
    assert http.get("/api/v1/audit/entries/1", headers=auth_headers["relying"]).status_code == 403
    assert http.post("/api/v1/audit/checkpoint", headers=auth_headers["auditor"]).status_code == 403


def test_citizen_sees_entries_about_themselves_only(http, ctx, make_api_client):
    citizen, headers = make_api_client(["citizen"], holder_code="11010519491231002X")
    with ctx.unit_of_work() as s:
        mine = audit.append(s, entry(ctx, 1, holder_ref=audit.holder_reference(ctx, "11010519491231002X")))
        other = audit.append(s, entry(ctx, 2, holder_ref=audit.holder_reference(ctx, "110105194912310037")))
    with ctx.unit_of_work() as s:
        mine, other = audit.index_of(s, mine), audit.index_of(s, other)
    assert http.get(f"/api/v1/audit/entries/{mine}", headers=headers).status_code == 200
    assert http.get(f"/api/v1/audit/entries/{other}", headers=headers).status_code == 403


def test_served_entries_and_proofs_include_entries_committed_just_before(http, ctx, auth_headers):
    """No background task here: the routes sequence on demand ("sequence, then read")."""
    append_many(ctx, 5)
    r = http.get("/api/v1/audit/entries/4", headers=auth_headers["auditor"])
    assert r.status_code == 200 and r.json()["entry"]["grant_id"] == "g-4"
    append_many(ctx, 3, start=5)
    assert http.get("/api/v1/audit/proof/inclusion", params={"index": 7, "size": 8}).status_code == 200
    append_many(ctx, 1, start=8)
    assert http.post("/api/v1/audit/checkpoint", headers=auth_headers["admin"]).text.split("\n")[1] == "9"


def test_background_task_sequences_queued_entries_between_checkpoints(app, ctx):
    app.state.audit_checkpoint_interval = 30  # first checkpoint at start, next one far away
    with TestClient(app):
        append_many(ctx, 4)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with ctx.unit_of_work() as s:  # without sequencing: what the background task did
                if s.execute(select(func.count()).select_from(AuditEntryRow)).scalar() == 4:
                    break
            time.sleep(0.05)
        else:
            pytest.fail("the background task did not sequence the 4 entries within 10 s")


def test_background_publisher_signs_new_entries(app, ctx):
    app.state.audit_checkpoint_interval = 0.1
    with TestClient(app) as tc:
        append_many(ctx, 4)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            r = tc.get("/api/v1/audit/checkpoint")
            if r.status_code == 200 and r.text.split("\n")[1] == "4":
                break
            time.sleep(0.05)
        else:
            pytest.fail("no checkpoint for the 4 entries within 10 s")

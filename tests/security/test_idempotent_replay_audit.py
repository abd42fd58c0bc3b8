"""Issue 14 item 6: replaying an Idempotency-Key returns the full record (holder ID number
included, to the issuing system that sent it) — and every replay is now an audit entry the
holder sees in their access log, one per licence (single and batch)."""

from __future__ import annotations

from tests.security.support import audit_entries
from tests.support.grants import PERSON
from tests.support.issuing import TRAFFIC_SH, example


def _replays(ctx, before: int) -> list[dict]:
    return [e for _, e, _ in audit_entries(ctx)[before:] if e["action"] == "licence.issue.replay"]


def test_each_idempotent_replay_is_audited_for_the_holder(http, ctx, issuers, parties):
    headers = {**issuers[TRAFFIC_SH][1], "Idempotency-Key": "replay-audit-1"}
    first = http.post("/api/v1/licences", json=example("driving_licence"), headers=headers)
    assert first.status_code == 201, first.text[:300]
    ident = first.json()["identifier"]
    assert PERSON in first.text   # the issuing system's own request: the full record
    for n in (1, 2):
        before = len(audit_entries(ctx))
        replay = http.post("/api/v1/licences", json=example("driving_licence"), headers=headers)
        assert replay.status_code == 201 and replay.headers["idempotent-replayed"] == "true"
        assert replay.json()["identifier"] == ident and PERSON in replay.text  # documented
        entries = _replays(ctx, before)
        assert len(entries) == 1, f"replay {n} not audited"
        entry = entries[0]
        assert entry["licence_id"] == ident and entry["outcome"] == "success"
        assert entry["actor"]["client_id"] == issuers[TRAFFIC_SH][0].client_id
        assert entry["holder_ref"] is not None and entry["detail"]["idempotent_replay"] is True
    log = http.get("/api/v1/holders/me/access-log?limit=200", headers=parties.person_h)
    assert log.status_code == 200
    assert log.text.count("licence.issue.replay") >= 2, log.text[:500]


def test_a_replayed_batch_audits_every_licence(http, ctx, issuers):
    headers = {**issuers[TRAFFIC_SH][1], "Idempotency-Key": "replay-audit-batch"}
    body = {"licences": [example("driving_licence"), example("driving_licence")]}
    first = http.post("/api/v1/licences/batch", json=body, headers=headers)
    assert first.status_code == 201, first.text[:300]
    before = len(audit_entries(ctx))
    replay = http.post("/api/v1/licences/batch", json=body, headers=headers)
    assert replay.status_code == 201 and replay.headers["idempotent-replayed"] == "true"
    assert sorted(e["licence_id"] for e in _replays(ctx, before)) == sorted(first.json()["identifiers"])

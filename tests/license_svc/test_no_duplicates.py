"""No duplicate licences (docs/issuance.md "No duplicates", issue 16 item 4): the same licence
again answers 409 naming the one in force, unless the request replaces it (an amendment);
batches refuse duplicates item by item; an Idempotency-Key replay still returns the original;
two concurrent requests make one licence.  Runs on PostgreSQL too (LICENSE_SVC_TEST_DATABASE_URL)."""

import threading
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from license_svc.licences import issue as issuing
from license_svc.licences import lifecycle, uniqueness
from license_svc.licences.errors import DuplicateLicence
from license_svc.licences.models import LicenceVersion
from license_svc.templates import load_templates
from tests.support.issuing import AMR_SH, CIVIL_SH, ORG_TYPES, TRAFFIC_SH, example, row_counts

PROBLEM = "urn:license-svc:problem:licence-duplicate"


@pytest.fixture
def amr_h(make_api_client):
    return make_api_client(["issuer"], org_code=AMR_SH, licence_types=ORG_TYPES[AMR_SH])[1]


def _post(http, body, headers, path="/api/v1/licences"):
    return http.post(path, json=body, headers=headers)


def _is_duplicate_of(resp, existing: str) -> dict:
    assert resp.status_code == 409, resp.text
    body = resp.json()
    assert body["type"] == PROBLEM and body["existing_identifier"] == existing
    assert (body["title_zh"], body["title_en"]) == ("该证照已存在且有效", "This licence is already in force")
    assert "已有有效的营业执照" in body["detail_zh"] and existing in body["detail_zh"]
    assert "already has a 营业执照 in force" in body["detail"]
    return body


def _key(ctx, identifier: str) -> str | None:
    with ctx.unit_of_work() as s:
        return s.scalar(select(LicenceVersion.unique_key).where(LicenceVersion.identifier == identifier))


def test_the_same_licence_again_is_a_409_naming_the_one_in_force(http, ctx, amr_h):
    body = example("business_licence")
    first = _post(http, body, {**amr_h, "Idempotency-Key": "appr-1"})
    assert first.status_code == 201, first.text
    existing = first.json()["identifier"]
    before = row_counts(ctx)
    _is_duplicate_of(_post(http, body, amr_h), existing)  # a retry without a key
    _is_duplicate_of(_post(http, body, {**amr_h, "Idempotency-Key": "appr-2"}), existing)
    # a licence with other data for the same USCC is the same licence
    renamed = example("business_licence", fields={**body["fields"], "legal_representative": "李四"})
    _is_duplicate_of(_post(http, renamed, amr_h), existing)
    assert row_counts(ctx) == before, "a refused duplicate wrote something"
    replay = _post(http, body, {**amr_h, "Idempotency-Key": "appr-1"})  # still the original
    assert replay.status_code == 201 and replay.headers["idempotent-replayed"] == "true"
    assert replay.json()["identifier"] == existing
    other = _post(http, example("business_licence", 1), amr_h)  # another company: issued
    assert other.status_code == 201 and other.json()["identifier"] != existing


def test_the_key_is_keyed_and_follows_the_rule(ctx, amr, issuers):
    """No ID number in the key (an HMAC with the region secret); a couple is the same couple in
    either order; a food business licence is per company and premises."""
    civil = issuers[CIVIL_SH][0]
    couple = example("marriage_certificate")
    first = issuing.issue(ctx, civil, couple).identifiers[0]
    key = _key(ctx, first)
    assert len(key) == 64 and all(h["code"] not in key for h in couple["holders"])
    swapped = example("marriage_certificate")
    swapped["holders"].reverse()
    swapped["fields"]["parties"].reverse()
    with pytest.raises(DuplicateLicence) as exc:
        issuing.issue(ctx, civil, swapped)
    assert exc.value.existing == first
    food = example("food_business_licence")
    issuing.issue(ctx, amr, food)
    elsewhere = example("food_business_licence",
                        fields={**food["fields"], "premises": "上海市浦东新区张江路200号1层"})
    assert issuing.issue(ctx, amr, elsewhere).identifiers  # other premises: another licence


def test_suspended_still_counts_revoked_and_expired_do_not(ctx, issuers, clock):
    traffic = issuers[TRAFFIC_SH][0]
    body = example("driving_licence", valid_until="2026-07-31")
    first = issuing.issue(ctx, traffic, body).identifiers[0]
    with ctx.unit_of_work() as s:
        lifecycle.suspend(ctx, s, first, traffic, "记分周期满分")
    with pytest.raises(DuplicateLicence):  # reinstated, it would be a second one in force
        issuing.issue(ctx, traffic, body)
    with ctx.unit_of_work() as s:
        lifecycle.revoke(ctx, s, first, traffic, "依法吊销")
    assert _key(ctx, first) is None
    second = issuing.issue(ctx, traffic, body).identifiers[0]
    with pytest.raises(DuplicateLicence):
        issuing.issue(ctx, traffic, body)
    clock.set(clock().replace(month=8, day=2))  # past 2026-07-31 (Beijing)
    third = issuing.issue(ctx, traffic, example("driving_licence", valid_from="2026-08-01")).identifiers[0]
    assert _key(ctx, second) is None and _key(ctx, third) is not None
    with ctx.unit_of_work() as s:
        assert lifecycle.status_at(lifecycle.load_version(s, second),
                                   lifecycle.latest_event(s, second), ctx.now()) == "expired"


def test_replaces_makes_an_amendment(http, ctx, amr_h):
    body = example("business_licence")
    old = _post(http, body, amr_h).json()
    moved = {**body, "fields": {**body["fields"], "address": "上海市浦东新区张江路200号"},
             "replaces": old["identifier"], "reason": "住所变更"}
    resp = _post(http, moved, amr_h)
    assert resp.status_code == 201, resp.text
    new = resp.json()
    record = new["signed_record"]["payload"]
    assert record["supersedes"] == old["identifier"] and record["version"] == 2
    assert record["number"] == old["signed_record"]["payload"]["number"]
    assert record["fields"]["address"] == "上海市浦东新区张江路200号"
    got = http.get(f"/api/v1/licences/{old['identifier']}", headers=amr_h).json()
    assert got["status"] == "superseded" and got["events"][-1]["event"]["reason"] == "住所变更"
    assert _key(ctx, old["identifier"]) is None and _key(ctx, new["identifier"]) is not None
    _is_duplicate_of(_post(http, body, amr_h), new["identifier"])  # the new version now counts
    bad = _post(http, {**body, "replaces": 42}, amr_h)
    assert bad.status_code == 422 and "replaces" in bad.json()["title_zh"]


def test_a_batch_refuses_duplicates_item_by_item(http, ctx, amr_h):
    a, b, c = (example("business_licence", i) for i in range(3))
    existing = _post(http, a, amr_h).json()["identifier"]
    h = {**amr_h, "Idempotency-Key": "batch-7"}
    resp = _post(http, {"licences": [a, b, b, c]}, h, "/api/v1/licences/batch")
    assert resp.status_code == 201, resp.text
    out = resp.json()
    assert len(out["identifiers"]) == 2
    made_b = out["identifiers"][0]
    assert [(r["index"], r["code"], r["existing_identifier"]) for r in out["rejected"]] == [
        (0, "licence-duplicate", existing), (2, "licence-duplicate", made_b)]
    assert all("营业执照" in r["message_zh"] and a["holders"][0]["code"] not in r["message_zh"]
               for r in out["rejected"])
    replay = _post(http, {"licences": [a, b, b, c]}, h, "/api/v1/licences/batch")
    assert replay.status_code == 201 and replay.headers["idempotent-replayed"] == "true"
    assert replay.json() == out
    before = row_counts(ctx)
    every = _post(http, {"licences": [a, c]}, amr_h, "/api/v1/licences/batch")
    assert every.status_code == 409 and every.json()["type"] == PROBLEM
    assert [r["existing_identifier"] for r in every.json()["rejected"]] == [existing, out["identifiers"][1]]
    assert row_counts(ctx) == before


def test_two_concurrent_requests_make_one_licence(app, ctx, amr_h, monkeypatch):
    """Both requests pass the look-up before either inserts (held at a barrier), so the unique
    index alone decides: one 201, one 409 naming the winner, one licence in the register."""
    real, arrived = uniqueness.claim, threading.Barrier(2, timeout=60)
    calls, lock = [], threading.Lock()

    def claim_then_wait(*args, **kwargs):
        with lock:
            calls.append(1)
            hold = len(calls) <= 2  # each request's first look-up; the loser's retry is not held
        real(*args, **kwargs)
        if hold:
            arrived.wait()

    app.state.audit_checkpoint_interval = 0
    body = example("business_licence")
    with TestClient(app) as http:
        assert _post(http, example("business_licence", 1), amr_h).status_code == 201  # seal made
        monkeypatch.setattr(uniqueness, "claim", claim_then_wait)
        answers: list = [None, None]

        def post(i: int) -> None:
            answers[i] = _post(http, body, amr_h)

        threads = [threading.Thread(target=post, args=(i,)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        assert not any(t.is_alive() for t in threads)
    assert sorted(a.status_code for a in answers) == [201, 409], [a.text for a in answers]
    assert len(calls) == 3, "the loser was not refused by the index and its retry's look-up"
    winner = next(a for a in answers if a.status_code == 201).json()["identifier"]
    _is_duplicate_of(next(a for a in answers if a.status_code == 409), winner)
    with ctx.unit_of_work() as s:
        holder = example("business_licence")["holders"][0]["code"]
        rows = [v for v in s.scalars(select(LicenceVersion)) if holder in v.record]
    assert [v.identifier for v in rows] == [winner]


def test_an_expired_key_holder_is_released_only_when_expired(ctx, issuers):
    """`claim` itself: the date is a Beijing date; the day of expiry still counts."""
    traffic = issuers[TRAFFIC_SH][0]
    first = issuing.issue(ctx, traffic, example("driving_licence", valid_until="2026-07-31")).identifiers[0]
    dl = load_templates()["driving_licence"]
    key = _key(ctx, first)
    with ctx.unit_of_work() as s:
        with pytest.raises(DuplicateLicence):
            uniqueness.claim(s, key, dl, date(2026, 7, 31))
        uniqueness.claim(s, key, dl, date(2026, 7, 31), replacing=first)  # itself: no clash
    with ctx.unit_of_work() as s:
        uniqueness.claim(s, key, dl, date(2026, 8, 1))
    assert _key(ctx, first) is None

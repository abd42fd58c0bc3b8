"""Small helpers the attack tests share: what a refusal must look like, and where an ID number
must never be found."""

from __future__ import annotations

import re

from license_svc import audit
from license_svc.audit.models import AuditEntryRow
from sqlalchemy import select

PROBLEM_MEDIA = "application/problem+json"
# Any 18-character resident ID shape (or the old 15-digit form), glued to letters or not.
ID_SHAPE = re.compile(r"(?<![0-9])(?:[0-9]{17}[0-9Xx]|[0-9]{15})(?![0-9])")


def refused(resp, status: int | tuple[int, ...], slug: str | None = None) -> dict:
    """A 4xx problem+json with a bilingual title, no stack trace, and (if given) this slug."""
    statuses = (status,) if isinstance(status, int) else status
    assert resp.status_code in statuses, (resp.status_code, resp.text[:500])
    assert resp.headers["content-type"].startswith(PROBLEM_MEDIA), resp.headers["content-type"]
    body = resp.json()
    assert body["type"].startswith("urn:license-svc:problem:"), body
    assert body["title_zh"] and body["title_en"], body
    assert "Traceback" not in resp.text and 'File "' not in resp.text, resp.text[:500]
    if slug is not None:
        assert body["type"] == f"urn:license-svc:problem:{slug}", body
    return body


def client_error(resp) -> dict:
    """Hostile input: some 4xx problem (never 5xx), echoing no ID number."""
    assert 400 <= resp.status_code < 500, (resp.status_code, resp.text[:500])
    body = refused(resp, resp.status_code)
    assert not ID_SHAPE.search(without_request_id(body)), resp.text[:500]
    return body


def without_request_id(body: dict) -> str:
    """The body as text minus the request id (a random hex id may hold 18 digits in a row)."""
    import json

    return json.dumps({k: v for k, v in body.items() if k != "request_id"}, ensure_ascii=False)


def audit_entries(ctx) -> list[tuple[int, dict, bytes]]:
    """Every entry of the log (queue sequenced first), oldest first."""
    import json

    with ctx.unit_of_work() as session:
        audit.sequence_pending(session)
    with ctx.unit_of_work() as session:
        rows = session.execute(select(AuditEntryRow.idx, AuditEntryRow.leaf)
                               .order_by(AuditEntryRow.idx)).all()
    return [(idx, json.loads(leaf), bytes(leaf)) for idx, leaf in rows]


def new_entries(ctx, before: int) -> list[dict]:
    return [e for _, e, _ in audit_entries(ctx)[before:]]

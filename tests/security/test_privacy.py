"""Privacy: a holder's ID number (身份证号) must never leave the places that need it.  One whole
flow — issuance, the holder's reads, a grant, retrievals, verifications of the PDF, EL1 and EP1,
lifecycle changes, status, the access log, the auditor's search, refusals and errors — runs with
the service's JSON logging captured; then the logs, every audit leaf, every grant row, every
response header (URLs, file names) and the QR payloads are searched for the number."""

from __future__ import annotations

import io
import json
import logging
import zlib

import base45
import cbor2
from sqlalchemy import select

from license_svc.grants.models import Grant
from license_svc.logs import configure_logging
from signing.qr.credentials import make_ep1
from tests.support.grants import COMPANY, PERSON, grant_body, retrieval_body
from tests.support.issuing import TRAFFIC_SH, example
from tests.security.support import ID_SHAPE, audit_entries

OTHER_ID = "11010519491231002X"   # a valid number that holds nothing here


def _decode(qr_text: str) -> dict:
    tag = cbor2.loads(zlib.decompress(base45.b45decode(qr_text[4:])))
    return cbor2.loads(tag.value[2])


def _flow(http, ctx, parties, issuers, make_api_client) -> list:
    """Every response of a full story; returns them for the header scan."""
    out = []

    def keep(resp, status=None):
        out.append(resp)
        if status is not None:
            assert resp.status_code == status, resp.text[:300]
        return resp

    traffic_h = issuers[TRAFFIC_SH][1]
    lic = keep(http.post("/api/v1/licences", json=example("driving_licence"),
                         headers={**traffic_h, "Idempotency-Key": "privacy-1"}), 201).json()
    ident = lic["identifier"]
    for suffix in ("", "/pdf", "/qr", "/qr?format=text", "/status"):
        keep(http.get(f"/api/v1/licences/{ident}{suffix}", headers=parties.person_h), 200)
    pdf = out[-4].content
    el1 = lic["el1"]
    gid = keep(http.post("/api/v1/grants", json=grant_body(ctx, max_uses=5),
                         headers=parties.person_h), 201).json()["id"]
    for want in ("data", "pdf", "verify"):
        keep(http.post("/api/v1/retrievals", json=retrieval_body(gid, want=want, operator="王五"),
                       headers=parties.dept_h), 200)
    keep(http.post("/api/v1/retrievals", json=retrieval_body(legal_basis="《行政许可法》第三十四条"),
                   headers=parties.dept_h), 200)
    # refusals and errors carrying ID numbers
    keep(http.post("/api/v1/retrievals", json=retrieval_body(gid, holder_code=OTHER_ID),
                   headers=parties.dept_h), 403)
    keep(http.post("/api/v1/retrievals", json=retrieval_body(gid, operator=f"王五 {PERSON}"),
                   headers=parties.dept_h), 422)
    keep(http.post("/api/v1/grants", json=grant_body(ctx, matter_code=PERSON), headers=parties.person_h), 422)
    keep(http.get(f"/api/v1/licences/{ident}", headers=parties.dept_h), 403)
    keep(http.get(f"/api/v1/licences/{ident}?purpose={PERSON}", headers=parties.person_h))
    keep(http.post("/api/v1/licences", json=example("driving_licence", type=PERSON), headers=traffic_h), 422)
    keep(http.get(f"/api/v1/licences/1.2.156.3005.2.{PERSON}x.B.C.001.0", headers=traffic_h))
    keep(http.get("/api/v1/grants", headers={**parties.person_h, "X-Request-ID": PERSON}), 200)
    # verifications: PDF, EL1, EP1 (twice: a replay), and a QR that is an ID number
    node = ctx.keystore.credential("sh", "node", "sm2")
    ep1 = make_ep1(node.key, node.cert.dump(), region="sh", el1=el1, now=ctx.now())[0]
    keep(http.post("/api/v1/verify", files={"file": ("l.pdf", pdf, "application/pdf")},
                   headers=parties.dept_h), 200)
    for qr in (el1, ep1, ep1, PERSON):
        keep(http.post("/api/v1/verify", json={"qr": qr}, headers=parties.dept_h), 200)
    # lifecycle, the holder's log, the auditor
    for action in ("suspend", "reinstate", "revoke"):
        keep(http.post(f"/api/v1/licences/{ident}/{action}", json={"reason": "核查"}, headers=traffic_h), 200)
    keep(http.post(f"/api/v1/grants/{gid}/revoke", headers=parties.person_h), 200)
    keep(http.get("/api/v1/holders/me/access-log?limit=200", headers=parties.person_h), 200)
    keep(http.get("/api/v1/audit/search?limit=200", headers=parties.auditor_h), 200)
    keep(http.get("/metrics"), 200)
    return out


def test_no_id_number_in_logs_audit_grants_headers_or_qr(http, ctx, parties, issuers, make_api_client):
    stream = io.StringIO()
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    configure_logging("DEBUG", stream=stream)
    try:
        responses = _flow(http, ctx, parties, issuers, make_api_client)
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])

    numbers = (PERSON, OTHER_ID, PERSON.lower(), OTHER_ID.lower())
    # The service's lines only: "httpx" is the test client logging the URLs it requests.
    records = [json.loads(line) for line in stream.getvalue().splitlines()]
    records = [r for r in records if r["logger"] != "httpx"]
    assert len(records) >= len(responses)  # the flow was logged (an access line each at least)
    for record in records:
        record.pop("request_id", None)  # a random hex id may hold 18 digits in a row
        text = json.dumps(record, ensure_ascii=False)
        assert not [n for n in numbers if n in text], text[:300]
        assert not ID_SHAPE.search(text), text[:300]

    entries = audit_entries(ctx)
    assert len(entries) > 20
    for idx, entry, leaf in entries:
        assert not [n for n in numbers if n.encode() in leaf], (idx, entry)
    with ctx.unit_of_work() as session:
        for grant in session.scalars(select(Grant)):
            assert not [n for n in numbers if n in json.dumps(
                {c.name: str(getattr(grant, c.name)) for c in Grant.__table__.columns})]

    for resp in responses:  # URLs (Location), file names, licence ids, request ids
        headers = " ".join(f"{k}: {v}" for k, v in resp.headers.items())
        assert not [n for n in numbers if n in headers], (resp.request.url, headers)
        assert not [n for n in numbers if n in str(resp.request.url.path)] or resp.status_code >= 400


def test_qr_payloads_carry_only_the_masked_codes(http, ctx, issuers):
    """The driving licence's number is the holder's ID number; the template masks it (and the
    holder code) as keep:4:4 in the printed EL1 — and the EP1 only wraps that EL1."""
    lic = http.post("/api/v1/licences", json=example("driving_licence"), headers=issuers[TRAFFIC_SH][1]).json()
    claims = _decode(lic["el1"])
    payload_bytes = cbor2.dumps(claims)
    assert PERSON.encode() not in payload_bytes and PERSON[4:-4].encode() not in payload_bytes
    licence = claims[-70000]
    for key in ("hid", "n"):
        assert licence[key].startswith(PERSON[:4]) and licence[key].endswith(PERSON[-4:])
        assert PERSON[4:-4] not in licence[key], licence
    assert licence["h"] != example("driving_licence")["holders"][0]["name"]  # name masked too
    node = ctx.keystore.credential("sh", "node", "sm2")
    ep1 = make_ep1(node.key, node.cert.dump(), region="sh", el1=lic["el1"], now=ctx.now())[0]
    assert PERSON.encode() not in zlib.decompress(base45.b45decode(ep1[4:]))
    status = http.get(f"/api/v1/licences/{lic['identifier']}/status").text
    assert PERSON not in status and COMPANY  # the public status names no holder

"""Hostile input against every route that takes a body, a path identifier or a query: oversized
bodies and multipart, JSON nested thousands deep, unicode tricks, NUL, very long strings, floats,
negative and huge integers, path traversal, SQL-ish strings, identifiers with a wrong check
character.  Each must be a 4xx problem+json — never a 500, never a stack trace, and never an
echo of an ID number the request carried."""

from __future__ import annotations

import copy

import pytest

from license_svc.identifiers import make_identifier
from tests.support.grants import PERSON, grant_body, retrieval_body
from tests.support.issuing import AMR_SH, example
from tests.security.support import ID_SHAPE, client_error, refused, without_request_id

ID = PERSON
HOSTILE = [None, True, 1.5, -1, 0, 10**30, -(2**63) - 1, "", "x" * 20_000, "\u202e" + ID,
           "ID" + ID, "a\x00b", "../../etc/passwd", "' OR '1'='1' --", "１２３", [ID], {"k": ID},
           [[[[[]]]]], ID]
DEEP = [b"[" * 50_000, b"[" * 990 + b"]" * 990, b'{"a":' * 3000 + b"1" + b"}" * 3000]


def _vary(base: dict, path: tuple, value):
    body = copy.deepcopy(base)
    target = body
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return body


# -- JSON bodies ---------------------------------------------------------------------------------

def test_issuance_body_fields(http, issuers):
    headers = issuers[AMR_SH][1]
    base = example("business_licence")
    paths = [(k,) for k in ("type", "algorithm", "holders", "valid_from", "valid_until", "fields",
                            "issuer_code", "unknown")]
    paths += [("fields", k) for k in ("registered_capital_wan", "established_on", "enterprise_type")]
    paths += [("holders", 0, k) for k in ("name", "code", "code_type")]
    for path in paths:
        for value in HOSTILE:
            if path == ("type",) and isinstance(value, (list, dict)):
                continue  # test_issuance_type_of_the_wrong_json_type
            resp = http.post("/api/v1/licences", json=_vary(base, path, value), headers=headers)
            if resp.status_code == 201:  # accepted where the value is legitimate
                assert path[0] == "fields" or path[-1] == "name" \
                    or (path, value) == (("valid_until",), None), (path, value)
                continue
            client_error(resp)


def test_issuance_type_of_the_wrong_json_type(http, issuers):
    """A list or object as the type was looked up in a dict: TypeError, 500."""
    for value in ([ID], {"k": ID}):
        client_error(http.post("/api/v1/licences", json=example("business_licence", type=value),
                               headers=issuers[AMR_SH][1]))


def test_unicode_tricks_in_holder_names_are_refused(http, issuers):
    """A right-to-left override or a NUL in a name would make the printed licence say something
    other than the signed record reads; zero-width and control characters likewise."""
    for name in ("\u202e张三", "张\x00三", "张\u200b三", "张\n三", "x" * 5000):
        body = example("business_licence")
        body["holders"][0]["name"] = name
        client_error(http.post("/api/v1/licences", json=body, headers=issuers[AMR_SH][1]))


def test_floats_are_refused_where_the_record_is_signed(http, issuers):
    body = example("business_licence")
    body["fields"]["registered_capital_wan"] = 500.0
    refused(http.post("/api/v1/licences", json=body, headers=issuers[AMR_SH][1]), 422)
    raw = b'{"type": "business_licence", "valid_until": NaN}'
    client_error(http.post("/api/v1/licences", content=raw, headers={
        **issuers[AMR_SH][1], "content-type": "application/json"}))


def test_grant_body_fields(http, ctx, parties):
    base = grant_body(ctx)
    for key in ("grantee_org", "licence_type", "licence_id", "matter_code", "valid_until",
                "max_uses", "unknown"):
        for value in HOSTILE:
            if value is None and key in ("max_uses", "licence_id"):
                continue  # null: any number of uses / a whole type: legitimate
            client_error(http.post("/api/v1/grants", json=_vary(base, (key,), value),
                                   headers=parties.person_h))


def test_retrieval_body_fields(http, ctx, parties):
    base = retrieval_body(legal_basis="《中华人民共和国行政许可法》第三十四条")
    for key in ("holder_code", "holder_code_type", "licence_type", "matter_code", "grant_id",
                "legal_basis", "want", "licence_id", "operator", "unknown"):
        for value in HOSTILE:
            if value is None and key in ("licence_id", "operator", "grant_id"):
                continue  # optional fields
            resp = http.post("/api/v1/retrievals", json=_vary(base, (key,), value),
                             headers=parties.dept_h)
            client_error(resp)


def test_matter_code_holding_an_id_number_is_a_422_not_a_503(http, ctx, parties):
    """The audit log refuses entries carrying an ID number; a matter code that is one used to
    reach it and come back as 503 audit-unavailable ("try later") instead of a bad field."""
    for matter in (ID, "A" + ID, ID + "-01"):
        refused(http.post("/api/v1/grants", json=grant_body(ctx, matter_code=matter),
                          headers=parties.person_h), 422, "grant-invalid")
        refused(http.post("/api/v1/retrievals", json=retrieval_body(
            legal_basis="《行政许可法》第三十四条", matter_code=matter), headers=parties.dept_h),
            422, "retrieval-invalid")


def test_verify_json_bodies(http, parties):
    for value in HOSTILE:
        resp = http.post("/api/v1/verify", json={"qr": value}, headers=parties.dept_h)
        if isinstance(value, str) and 0 < len(value) <= 4096:
            # text that is not a licence code is a verdict, not an error — but what it shows of
            # the scanned text must not be an ID number (an ID card's QR holds one)
            assert resp.status_code == 200 and resp.json()["subject"] == "not-a-licence", resp.text
            assert not ID_SHAPE.search(without_request_id(resp.json())), resp.text
        else:
            client_error(resp)
    for doc in ({"ses": v} for v in HOSTILE):
        client_error(http.post("/api/v1/verify", json=doc, headers=parties.dept_h))
    for doc in ({}, {"qr": "EL1:x", "ses": "AA=="}, [], "x", 1):
        client_error(http.post("/api/v1/verify", json=doc, headers=parties.dept_h))


@pytest.mark.parametrize("route, role", [("/api/v1/licences", "issuer"), ("/api/v1/licences/batch", "issuer"),
                                         ("/api/v1/verify", "relying"), ("/api/v1/grants", "citizen"),
                                         ("/api/v1/retrievals", "relying"),
                                         ("/api/v1/seals/x/sign", "issuer")])
def test_deeply_nested_json_is_a_4xx(http, make_api_client, route, role):
    _, headers = make_api_client([role], org_code=AMR_SH, holder_code=ID if role == "citizen" else None)
    for body in DEEP:
        client_error(http.post(route, content=body, headers={**headers, "content-type": "application/json"}))


# -- sizes and multipart -----------------------------------------------------------------------

def test_oversized_bodies_are_413(http, parties, issuers):
    big = b"x" * (5 * 1024 * 1024 + 1)
    refused(http.post("/api/v1/verify", content=big, headers=parties.dept_h), 413, "body-too-large")
    refused(http.post("/api/v1/verify", files={"file": ("a.pdf", big, "application/pdf")},
                      headers=parties.dept_h), 413, "body-too-large")
    refused(http.post("/api/v1/licences", content=b'{"a":"' + big + b'"}', headers={
        **issuers[AMR_SH][1], "content-type": "application/json"}), 413, "body-too-large")

    def chunks():  # no Content-Length: counted while streaming
        for _ in range(6):
            yield b"y" * (1024 * 1024)
    refused(http.post("/api/v1/verify", content=chunks(), headers=parties.dept_h), 413, "body-too-large")


def test_hostile_multipart(http, parties):
    h = parties.dept_h
    many = [(f"f{i}", (None, "x")) for i in range(3000)]
    client_error(http.post("/api/v1/verify", files=many, headers=h))
    for raw, ctype in ((b"xx", "multipart/form-data"),
                       (b'--b\r\nContent-Disposition: form-data; name="file"; filename="a"\r\n\r\nabc',
                        "multipart/form-data; boundary=b"),
                       (b"--b--\r\n", "multipart/form-data; boundary=b")):
        client_error(http.post("/api/v1/verify", content=raw, headers={**h, "content-type": ctype}))
    client_error(http.post("/api/v1/verify", files={"other": ("a", b"x")}, headers=h))


# -- identifiers in paths and queries ----------------------------------------------------------

def _bad_identifiers() -> list[str]:
    good = str(make_identifier("11100000MB0000001T001", AMR_SH))
    wrong_check = good[:-1] + ("0" if good[-1] != "0" else "1")
    return ["..", "../../etc/passwd", "..%2F..%2Fetc%2Fpasswd", "%2e%2e%2f", "' OR '1'='1",
            "1;DROP TABLE licence_versions", "a" * 300, "%00", "%E2%80%AE", wrong_check,
            good.lower(), good + ".", f"1.2.156.3005.2.AAA.{ID}-.B.001.Z",
            f"1.2.156.3005.2.{ID}.{ID}.{ID}.001.0"]


def test_identifiers_in_paths(http, issuers, parties):
    headers = issuers[AMR_SH][1]
    for ident in _bad_identifiers():
        for suffix in ("", "/pdf", "/qr", "/status"):
            resp = http.get(f"/api/v1/licences/{ident}{suffix}", headers=headers)
            if resp.status_code == 404 and "/etc" in ident:
                pass  # the router never matched (a different path); still a problem below
            client_error(resp)
        for action in ("suspend", "reinstate", "revoke", "amend"):
            client_error(http.post(f"/api/v1/licences/{ident}/{action}", headers=headers,
                                   json={"reason": "x", "changes": {"fields": {}}}))
    for gid in ("..%2F..%2Fgrants", "%2E%2E", "' OR 1=1", ID, "grt_" + "A" * 40, "%00"):
        client_error(http.get(f"/api/v1/grants/{gid}", headers=parties.person_h))
        client_error(http.delete(f"/api/v1/grants/{gid}", headers=parties.person_h))
    for issuer in (ID, "..", "a" * 100, "' OR 1=1"):
        client_error(http.get(f"/api/v1/status-lists/{issuer}"))
    for es_id in ("%2E%2E", "..%2Fseals", ID, "%00", "a%00b"):
        client_error(http.get(f"/api/v1/seals/{es_id}", headers=headers))


@pytest.mark.parametrize("query", [
    "/api/v1/audit/entries/-1", "/api/v1/audit/entries/1.5", f"/api/v1/audit/entries/{10**30}",
    "/api/v1/audit/proof/inclusion?index=5&size=1", "/api/v1/audit/proof/inclusion?index=-1&size=-1",
    f"/api/v1/audit/proof/inclusion?index=0&size={2**63}", "/api/v1/audit/proof/consistency?from=9&to=1",
    "/api/v1/audit/proof/consistency?from=1.5&to=2",
    "/api/v1/audit/search?from=2026-01-01T00:00:00", f"/api/v1/audit/search?limit={10**9}",
    "/api/v1/audit/search?limit=-1", "/api/v1/audit/search?outcome=' OR 1=1",
    f"/api/v1/audit/search?department={'x' * 100}", "/api/v1/audit/search?before=-5",
    "/api/v1/audit/search?department=%00", "/api/v1/audit/search?licence=a%00b&action=x",
    "/api/v1/status-lists/11310000MB0000010A?part=0", f"/api/v1/status-lists/11310000MB0000010A?part={10**12}",
])
def test_queries(http, parties, query):
    client_error(http.get(query, headers=parties.auditor_h))


def test_seal_requests(http, make_api_client):
    """Seal names are drawn on the seal picture and stored as text: control characters (NUL is
    also a PostgreSQL 500) and bidirectional overrides are refused."""
    _, admin = make_api_client(["admin"], org_code="12310000MB0000100U")
    for name in ("章\x00", "\u202e章", "章\n章", "", "章" * 41):
        client_error(http.post("/api/v1/seals", json={"org_code": AMR_SH, "name": name, "type": 3},
                               headers=admin))
    for body in ({"org_code": ID, "name": "章"}, {"org_code": AMR_SH, "name": "章", "type": 10**30},
                 {"org_code": AMR_SH, "name": "章", "type": 1.5},
                 {"org_code": AMR_SH, "name": "章", "valid_start": "2026-01-01T00:00:00"}):
        client_error(http.post("/api/v1/seals", json=body, headers=admin))


def test_problem_bodies_never_echo_an_id_number(http, issuers, parties):
    """Domain errors quote what was wrong (an unknown type, a schema error quoting the instance,
    an identifier segment); whatever they quote, an ID number comes back masked."""
    h = issuers[AMR_SH][1]
    for resp in (
        http.post("/api/v1/licences", json=example("business_licence", type=ID), headers=h),
        http.post("/api/v1/licences", json=example("business_licence", type="\u202e" + ID), headers=h),
        http.post("/api/v1/licences", json=example("business_licence", fields=ID), headers=h),
        http.post("/api/v1/licences", json=_vary(example("business_licence"),
                                                 ("fields", "established_on"), ID), headers=h),
        http.get(f"/api/v1/licences/1.2.156.3005.2.AAA.{ID}-.B.001.Z", headers=h),
        http.get(f"/api/v1/status-lists/{ID}"),
    ):
        body = client_error(resp)
        assert ID not in resp.text, body
        # Where the answer quotes the offending value, it quotes it masked; a message that
        # names only the field (「字段“证照信息”（fields）应为对象」) quotes nothing.
        assert "[REDACTED-ID]" in resp.text or "pointer" in body, body


def test_request_id_that_is_an_id_number_is_replaced(http, parties):
    """A caller-chosen X-Request-ID is echoed in headers, problem bodies and audit entries: an ID
    number there is replaced by a fresh id (and so cannot make the audit log refuse the action)."""
    for rid in (ID, f"req-{ID}", ID.lower()[:-1] + "x" if ID[-1] == "X" else ID):
        resp = http.get("/api/v1/grants", headers={**parties.person_h, "X-Request-ID": rid})
        assert resp.status_code == 200
        assert ID not in resp.headers["x-request-id"]
    ok = http.get("/api/v1/grants", headers={**parties.person_h, "X-Request-ID": "abc-123"})
    assert ok.headers["x-request-id"] == "abc-123"

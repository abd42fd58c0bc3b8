"""/metrics counts what requests came to: problem answers by type and route, licences issued
or replayed, verification reports by indication — each moving when the thing it counts happens."""

from __future__ import annotations

from tests.license_svc.test_operations_metrics import _series
from tests.support.issuing import AMR_SH, example


def _value(http, name: str, **labels) -> float:
    series = _series(http.get("/metrics").text, name)
    wanted = "{" + ",".join(f'{k}="{v}"' for k, v in sorted(labels.items())) + "}"
    return series.get(wanted, 0.0)


def test_problems_are_counted_by_type_and_route(http, auth_headers):
    route = "/api/v1/licences/{identifier}"
    before = _value(http, "license_svc_problems_total", type="unauthorized", route=route, status=401)
    assert http.get("/api/v1/licences/1.2.3").status_code == 401
    assert http.get("/api/v1/licences/1.2.3").status_code == 401
    assert _value(http, "license_svc_problems_total", type="unauthorized", route=route,
                  status=401) == before + 2
    # A route's own slug, not only the web layer's.
    assert http.post("/api/v1/verify", json={"qr": ""},
                     headers=auth_headers["relying"]).status_code == 400
    assert _value(http, "license_svc_problems_total", type="bad-request", route="/api/v1/verify",
                  status=400) == 1
    assert http.get("/no/such/page").status_code == 404
    assert _value(http, "license_svc_problems_total", type="not-found", route="<unmatched>",
                  status=404) >= 1


def test_issuance_and_verification_by_outcome(http, make_api_client):
    _, issuer = make_api_client(["issuer"], org_code=AMR_SH, licence_types=["business_licence"])
    _, relying = make_api_client(["relying"])
    headers = {**issuer, "Idempotency-Key": "metrics-test-1"}
    made = http.post("/api/v1/licences", json=example("business_licence"), headers=headers)
    assert made.status_code == 201, made.text
    again = http.post("/api/v1/licences", json=example("business_licence"), headers=headers)
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert _value(http, "license_svc_licences_issued_total", kind="single", outcome="issued") == 1
    assert _value(http, "license_svc_licences_issued_total", kind="single", outcome="replayed") == 1

    el1 = made.json()["el1"]
    assert http.post("/api/v1/verify", json={"qr": el1}, headers=relying).json()["indication"] == "TOTAL_PASSED"
    assert http.post("/api/v1/verify", json={"qr": el1[:-4] + "AAAA"},
                     headers=relying).json()["indication"] != "TOTAL_PASSED"
    assert _value(http, "license_svc_verifications_total", subject="qr-el1",
                  indication="TOTAL_PASSED") == 1
    failed = sum(v for k, v in _series(http.get("/metrics").text,
                                       "license_svc_verifications_total").items()
                 if "TOTAL_PASSED" not in k)
    assert failed == 1

"""The issuing node refuses to sign with a withdrawn or missing key (issue 12): an organisation
whose licence-signing certificate this node has withdrawn (`license-svc trust-list withdraw`)
issues, amends, changes status and stamps nothing with it — 503 `signing-key-withdrawn`, nothing
written — from the moment of the withdrawal, with no restart; /readyz says which organisation
and algorithm cannot issue; and when the key is back, issuance works again."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import delete

from license_svc.federation.models import Withdrawal
from license_svc.federation.publish import withdraw
from license_svc.licences import issue as issuing
from signing.keystore import KeyStoreError
from tests.security.support import refused
from tests.support.issuing import AMR_SH, TRAFFIC_SH, example, row_counts


def _sha256(ctx, org: str, algorithm: str) -> str:
    cred = ctx.keystore.credential(ctx.region, "licence_signer", algorithm, org_code=org)
    return hashlib.sha256(cred.cert.dump()).hexdigest()


def _withdraw(ctx, org=AMR_SH, algorithm="sm2"):
    with ctx.unit_of_work() as session:
        withdraw(ctx, session, _sha256(ctx, org, algorithm), since=ctx.now(), reason="密钥泄露")


def test_a_withdrawn_key_stops_issuance_at_once_and_readyz_says_so(http, ctx, issuers):
    amr, amr_h = issuers[AMR_SH]
    earlier = issuing.issue(ctx, amr, example("business_licence")).identifiers[0]
    seal = http.get("/api/v1/seals", headers=amr_h).json()[0]["id"]
    assert http.get("/readyz").json()["issuance"] == {"ok": True, "withdrawn": [], "missing": []}

    _withdraw(ctx)  # as the CLI does it: another transaction, no restart of the app
    before = row_counts(ctx)
    body = refused(http.post("/api/v1/licences", json=example("business_licence"), headers=amr_h),
                   503, "signing-key-withdrawn")
    assert AMR_SH in body["detail"] and "sm2" in body["detail"]
    assert body.get("detail_zh") and body["title_zh"] != body["title_en"]
    refused(http.post("/api/v1/licences/batch", json=[example("business_licence")], headers=amr_h),
            503, "signing-key-withdrawn")
    refused(http.post(f"/api/v1/licences/{earlier}/amend", headers=amr_h,
                      json={"changes": {"fields": {"address": "上海市黄浦区1号"}}}),
            503, "signing-key-withdrawn")
    refused(http.post(f"/api/v1/licences/{earlier}/suspend", headers=amr_h, json={"reason": "x"}),
            503, "signing-key-withdrawn")
    refused(http.post(f"/api/v1/seals/{seal}/sign", headers=amr_h, content=b"doc"),
            503, "signing-key-withdrawn")
    assert row_counts(ctx) == before  # nothing issued, changed or audited

    ready = http.get("/readyz")
    assert ready.status_code == 200 and ready.json()["status"] == "ready"
    issuance = ready.json()["issuance"]
    assert issuance["ok"] is False
    assert issuance["withdrawn"] == [{"org_code": AMR_SH, "algorithm": "sm2",
                                      "cert_sha256": _sha256(ctx, AMR_SH, "sm2")}]

    # Other algorithms and organisations still issue.
    assert http.post("/api/v1/licences", json=example("business_licence", 1, algorithm="rsa"),
                     headers=amr_h).status_code == 201
    assert http.post("/api/v1/licences", headers=issuers[TRAFFIC_SH][1],
                     json=example("driving_licence", issuer_code=TRAFFIC_SH)).status_code == 201

    # The key is back (the withdrawal lifted): issuance works again, still without a restart.
    with ctx.unit_of_work() as session:
        session.execute(delete(Withdrawal))
    assert http.post("/api/v1/licences", json=example("business_licence", 2),
                     headers=amr_h).status_code == 201
    assert http.get("/readyz").json()["issuance"]["ok"] is True


class _WithoutSigner:
    """The dev key store with one organisation's licence-signing key gone (a node whose key
    export left it out, or a key file lost)."""

    def __init__(self, inner, org: str):
        self._inner, self._org = inner, org

    def __getattr__(self, name):
        return getattr(self._inner, name)

    def credential(self, region, role, algorithm="sm2", org_code=None):
        if role == "licence_signer" and org_code == self._org:
            raise KeyStoreError(f"no private key for {self._org}", f"{self._org} 没有私钥")
        return self._inner.credential(region, role, algorithm, org_code=org_code)


@pytest.fixture
def missing_ctx(ctx_factory, settings, ctx):
    return ctx_factory(settings, keystore=_WithoutSigner(ctx.keystore, AMR_SH))


def test_a_missing_key_is_a_503_and_a_fresh_key_store_issues_again(missing_ctx, settings,
                                                                    ctx_factory, ctx,
                                                                    make_api_client):
    from fastapi.testclient import TestClient
    from license_svc.web import create_app

    _, amr_h = make_api_client(["issuer"], org_code=AMR_SH)
    app = create_app(ctx=missing_ctx)
    app.state.audit_checkpoint_interval = 0
    before = row_counts(ctx)
    with TestClient(app) as http:
        refused(http.post("/api/v1/licences", json=example("business_licence"), headers=amr_h),
                503, "signing-key-missing")
        ready = http.get("/readyz")
        assert ready.status_code == 200
        missing = ready.json()["issuance"]["missing"]
        assert {(m["org_code"], m["algorithm"]) for m in missing} == {(AMR_SH, "sm2"), (AMR_SH, "rsa")}
    assert row_counts(ctx) == before
    fresh = create_app(ctx=ctx_factory(settings))  # the key store with the key back
    fresh.state.audit_checkpoint_interval = 0
    with TestClient(fresh) as http:
        assert http.post("/api/v1/licences", json=example("business_licence"),
                         headers=amr_h).status_code == 201
        assert http.get("/readyz").json()["issuance"]["ok"] is True

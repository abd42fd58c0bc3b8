"""Verdicts through the synced trust lists (issue "Mutual recognition for real"): identity
binding and withdrawal, on one node of the all-regions development store (its lists for every
region are published locally and verified like a peer's).  The four-node version, with per-region
key stores, is tests/license_svc/test_four_nodes.py."""

import hashlib
import json
from datetime import timedelta

import pytest

from formats.identifier import make_identifier, parse_identifier
from formats.qr_claims import el1_claims
from license_svc.federation import publish
from license_svc.federation.sync import sync, trust_state
from license_svc.licences import issue as issuing
from license_svc.licences import lifecycle
from license_svc.verify_service import verifier_trust_from_lists, verify_offline
from signing.pdf import sign_licence_pdf
from signing.qr.credentials import make_el1, make_ep1
from tests.support.issuing import AMR_SH, TRAFFIC_SH, example

URL = "/api/v1/verify"
DRIVING_TYPE = "11100000MB0000002X001"


@pytest.fixture
def relying(make_api_client):
    return make_api_client(["relying"])[1]


def _issue(ctx, issuers, folder="business_licence", algorithm="sm2", org=AMR_SH):
    ident = issuing.issue(ctx, issuers[org][0], example(folder, algorithm=algorithm)).identifiers[0]
    with ctx.unit_of_work() as s:
        v = lifecycle.load_version(s, ident)
        return ident, v.pdf, v.el1, json.loads(v.record)


def _qr(client, headers, text):
    return client.post(URL, json={"qr": text}, headers=headers).json()


def _pdf(client, headers, pdf):
    return client.post(URL, files={"file": ("l.pdf", pdf, "application/pdf")},
                       headers=headers).json()


def _failed(body):
    return {c["name"]: c["detail"] for c in body["checks"] if not c["passed"]}


def _signed_el1(ctx, region, org, claims, at, algorithm="sm2"):
    cred = ctx.keystore.credential(region, "licence_signer", algorithm, org_code=org)
    return make_el1(cred.key, cred.cert.dump(), issuer_code=org, claims=claims, iat=at,
                    exp=at + timedelta(days=365))


def test_genuine_licence_names_the_list_that_anchored_it(ctx, client, issuers, relying):
    ident, pdf, el1, _record = _issue(ctx, issuers)
    for body in (_qr(client, relying, el1), _pdf(client, relying, pdf)):
        assert body["indication"] == "TOTAL_PASSED", _failed(body)
        names = {c["name"] for c in body["checks"]}
        assert {"trust.anchor", "binding.issuer", "binding.type"} <= names
        [anchor] = body["signer"]["trust_lists"]
        assert anchor["region"] == "sh" and anchor["sequence"] >= 1 and anchor["age_seconds"] >= 0


def test_another_organisations_identifier_fails_the_issuer_binding(ctx, client, issuers, relying):
    """The sh traffic police signer signs an EL1 naming a real sh business licence."""
    ident, _pdf_bytes, el1, _record = _issue(ctx, issuers)
    claims = el1_claims(el1)
    forged = _signed_el1(ctx, "sh", TRAFFIC_SH, claims, ctx.now())
    body = _qr(client, relying, forged)
    assert body["indication"] == "TOTAL_FAILED"
    assert "binding.issuer" in _failed(body)


def test_a_type_the_organisation_does_not_issue_fails_the_type_binding(ctx, client, issuers,
                                                                      relying):
    _ident, _pdf_bytes, el1, _record = _issue(ctx, issuers)
    claims = el1_claims(el1)
    claims["id"] = str(make_identifier(DRIVING_TYPE, AMR_SH))  # amr does not issue driving licences
    claims["t"] = DRIVING_TYPE
    body = _qr(client, relying, _signed_el1(ctx, "sh", AMR_SH, claims, ctx.now()))
    assert body["indication"] == "TOTAL_FAILED"
    assert "binding.type" in _failed(body) and "binding.issuer" not in _failed(body)


def test_a_claimed_region_other_than_the_signers_fails(ctx, client, issuers, relying):
    _ident, _pdf_bytes, el1, _record = _issue(ctx, issuers)
    claims = dict(el1_claims(el1), r="js")
    body = _qr(client, relying, _signed_el1(ctx, "sh", AMR_SH, claims, ctx.now()))
    assert body["indication"] == "TOTAL_FAILED" and "binding.region" in _failed(body)


def test_a_presentation_of_another_regions_licence_fails(ctx, client, issuers, relying):
    """The sh node wraps a (genuinely signed) js EL1 in its own EP1."""
    js_org = ctx.keystore.organisations("js")[0].code
    claims = {"id": str(make_identifier("11100000MB0000001T001", js_org)),
              "t": "11100000MB0000001T001", "n": "JS2026000000000001", "h": "江苏示例有限公司",
              "hid": "91320000MA00000019", "vf": "2026-01-01", "r": "js", "v": 1}
    js_el1 = _signed_el1(ctx, "js", js_org, claims, ctx.now())
    node = ctx.keystore.credential("sh", "node", "sm2")
    ep1 = make_ep1(node.key, node.cert.dump(), region="sh", el1=js_el1, now=ctx.now())[0]
    body = _qr(client, relying, ep1)
    assert body["indication"] != "TOTAL_PASSED"
    assert "binding.presentation_region" in _failed(body)


def test_a_pdf_whose_content_is_not_the_registers_fails(ctx, client, issuers, relying):
    """A PDF signed with the organisation's own key, naming a real licence, with other data."""
    ident, pdf, _el1, _record = _issue(ctx, issuers)
    cred = ctx.keystore.credential("sh", "licence_signer", "rsa", org_code=AMR_SH)
    page = pdf  # any page will do: the signature and the /LicenseSvc dictionary are what count
    forged = sign_licence_pdf(_unsigned(page), cred,
                              licence={"id": ident, "data_hash": "0" * 64, "version": 1})
    body = _pdf(client, relying, forged)
    assert body["indication"] == "TOTAL_FAILED"
    assert "binding.register" in _failed(body)


def record_hash(pdf: bytes) -> str:
    """The data hash the licence's /LicenseSvc dictionary carries."""
    import re

    return re.search(rb"/Hash\s*\(([0-9a-f]{64})\)", pdf).group(1).decode()


def _unsigned(pdf: bytes) -> bytes:
    """The licence page before its certification revision (the first %%EOF)."""
    end = pdf.index(b"%%EOF") + len(b"%%EOF\n")
    return pdf[:end]


def _withdraw(ctx, cred, since):
    digest = hashlib.sha256(cred.cert.dump()).hexdigest()
    with ctx.unit_of_work() as s:
        publish.withdraw(ctx, s, digest, since=since, reason="私钥泄露 / key compromise")
    sync(ctx)


def test_withdrawal_for_compromise(ctx, client, issuers, relying, clock):
    ident, pdf, el1, record = _issue(ctx, issuers)             # issued before the compromise
    clock.advance(hours=1)
    cred = ctx.keystore.credential("sh", "licence_signer", "sm2", org_code=AMR_SH)
    since = ctx.now() - timedelta(minutes=30)
    _withdraw(ctx, cred, since)
    clock.advance(seconds=10)                                  # past the trust recheck
    # the genuine older EL1: the issuing register vouches for its content and date
    body = _qr(client, relying, el1)
    assert body["indication"] == "TOTAL_PASSED", _failed(body)
    # the genuine older PDF: its region-TSA timestamp predates the withdrawal
    body = _pdf(client, relying, pdf)
    assert body["indication"] == "TOTAL_PASSED", _failed(body)
    # signed with the leaked key after `since`
    claims = el1_claims(el1)
    body = _qr(client, relying, _signed_el1(ctx, "sh", AMR_SH, claims, ctx.now()))
    assert (body["indication"], body["sub_indication"]) == ("TOTAL_FAILED", "REVOKED")
    assert "trust.withdrawal" in _failed(body)
    # a PDF signed with the leaked key after `since` (no QR check to catch it: only the list)
    leaked = ctx.keystore.credential("sh", "licence_signer", "sm2", org_code=AMR_SH)
    forged_pdf = sign_licence_pdf(_unsigned(pdf), leaked,
                                  licence={"id": ident, "data_hash": record_hash(pdf), "version": 1})
    body = _pdf(client, relying, forged_pdf)
    assert body["indication"] == "TOTAL_FAILED" and "trust.withdrawal" in _failed(body)
    # the leaked key, another holder name, iat backdated before `since`: never passes
    forged = _signed_el1(ctx, "sh", AMR_SH, dict(claims, h="冒名顶替有限公司"),
                         since - timedelta(days=1))
    body = _qr(client, relying, forged)
    assert body["indication"] != "TOTAL_PASSED"
    assert "trust.withdrawal" in _failed(body) or "binding.register" in _failed(body)
    # a fresh identifier the register never issued, backdated: INDETERMINATE (no proof)
    claims_new = dict(claims, id=str(make_identifier(parse_identifier(ident).type_code, AMR_SH)))
    body = _qr(client, relying, _signed_el1(ctx, "sh", AMR_SH, claims_new,
                                            since - timedelta(days=1)))
    assert body["indication"] != "TOTAL_PASSED"
    assert "trust.withdrawal" in _failed(body)  # claimed before `since`, nothing proves it


def test_without_the_issuing_regions_list_the_answer_is_indeterminate(ctx, issuers, clock):
    js_org = ctx.keystore.organisations("js")[0]
    claims = {"id": str(make_identifier("11100000MB0000001T001", js_org.code)),
              "t": "11100000MB0000001T001", "n": "JS2026000000000001", "h": "江苏示例有限公司",
              "hid": "91320000MA00000019", "vf": "2026-01-01", "r": "js", "v": 1}
    el1 = _signed_el1(ctx, "js", js_org.code, claims, ctx.now())
    sync(ctx)
    with ctx.unit_of_work() as s:
        payloads = trust_state(ctx, s).payloads()
    assert {p["region"] for p in payloads} == {"sh", "js", "zj", "ah"}
    with_js = verifier_trust_from_lists(payloads)
    r = verify_offline(ctx.keystore, text=el1, at=ctx.now(), trust=with_js)
    assert r.indication == "TOTAL_PASSED", r.to_text()
    without_js = verifier_trust_from_lists([p for p in payloads if p["region"] != "js"])
    r = verify_offline(ctx.keystore, text=el1, at=ctx.now(), trust=without_js)
    assert r.indication == "INDETERMINATE", r.to_text()

"""EP2 online, through the synced trust lists: the rebuilt EL1 claims are bound to the issuing
register (`binding.register`), so even a presentation signed by the genuine node but naming
another holder fails; a presentation is accepted once."""

import json

import base45
import cbor2

from formats.qr_claims import CLAIM_PRESENTED, P_HOLDER
from license_svc.licences import issue as issuing
from license_svc.licences import lifecycle
from signing.qr.cose import sign1
from signing.qr.credentials import make_ep2
from tests.support.issuing import AMR_SH, example

URL = "/api/v1/verify"


def _issue(ctx, issuers, algorithm):
    nth = ("sm2", "rsa").index(algorithm)  # a company per algorithm: not one licence twice
    ident = issuing.issue(ctx, issuers[AMR_SH][0], example("business_licence", nth, algorithm=algorithm)).identifiers[0]
    with ctx.unit_of_work() as s:
        return ident, lifecycle.load_version(s, ident).el1


def _checks(body):
    return {c["name"]: c["passed"] for c in body["checks"]}


def test_ep2_binds_to_the_register_and_is_accepted_once(ctx, client, issuers, make_api_client):
    relying = make_api_client(["relying"])[1]
    node = ctx.keystore.credential("sh", "node", "sm2")
    for algorithm in ("rsa", "sm2"):
        ident, el1 = _issue(ctx, issuers, algorithm)
        text, cti = make_ep2(node.key, node.cert.dump(), region="sh", el1=el1, now=ctx.now())
        body = client.post(URL, json={"qr": text}, headers=relying).json()
        assert body["indication"] == "TOTAL_PASSED", json.dumps(body, ensure_ascii=False)
        checks = _checks(body)
        assert checks["el1.attested"] and checks["binding.register"] and checks["binding.issuer"]
        assert body["licence"]["id"] == ident and body["licence"]["presentation"]["cti"] == cti.hex()
        again = client.post(URL, json={"qr": text}, headers=relying).json()
        assert again["indication"] == "TOTAL_FAILED"

    # the node's own signature over content the register never issued: the register says no
    payload = cbor2.loads(cbor2.loads(base45.b45decode(text[4:])).value[2])
    payload[CLAIM_PRESENTED][P_HOLDER] = "别人的公司"
    payload[7] = b"\x02" * 16
    forged = "EP2:" + base45.b45encode(sign1(node.key, node.cert.dump(), payload)).decode()
    body = client.post(URL, json={"qr": forged}, headers=relying).json()
    assert body["indication"] == "TOTAL_FAILED"
    assert _checks(body)["ep1.signature"] and not _checks(body)["binding.register"]

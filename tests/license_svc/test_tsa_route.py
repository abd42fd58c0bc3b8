"""POST /api/v1/tsa: RFC 3161 over HTTP with the region's dev TSA keys."""

import pytest
from asn1crypto import tsp

from formats import algorithms as alg
from signing.tsa import TimeStampResp


def _req(name, digest):
    return tsp.TimeStampReq({"version": "v1", "message_imprint": {
        "hash_algorithm": {"algorithm": name}, "hashed_message": digest},
        "nonce": 42, "cert_req": True}).dump()


@pytest.mark.parametrize("name, expected", [("sm3", "1.2.156.10197.1.501"),
                                            ("sha256", "1.2.840.113549.1.1.11")])
def test_timestamp_query(client, ctx, name, expected):
    digest = alg.digest(name, b"document")
    r = client.post("/api/v1/tsa", content=_req(name, digest),
                    headers={"content-type": "application/timestamp-query"})
    assert r.status_code == 200 and r.headers["content-type"] == "application/timestamp-reply"
    resp = TimeStampResp.load(r.content)
    assert resp["status"]["status"].native == "granted"
    sd = resp["time_stamp_token"]["content"]
    assert sd["signer_infos"][0]["signature_algorithm"]["algorithm"].dotted == expected
    info = sd["encap_content_info"]["content"].parsed
    assert info["nonce"].native == 42 and info["gen_time"].native == ctx.now()
    ekus = [c.chosen.extended_key_usage_value for c in sd["certificates"]]
    assert any(e is not None and e.native == ["time_stamping"] for e in ekus)


def test_wrong_content_type_and_garbage(client):
    r = client.post("/api/v1/tsa", content=b"x", headers={"content-type": "text/plain"})
    assert r.status_code == 415
    r = client.post("/api/v1/tsa", content=b"garbage",
                    headers={"content-type": "application/timestamp-query"})
    assert r.status_code == 200
    assert TimeStampResp.load(r.content)["status"]["status"].native == "rejection"

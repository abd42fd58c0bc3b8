"""The node-to-node request header (license_svc/federation/node_request.py) read by another SM2
implementation: GmSSL (gmssl_pyx) verifies the signature over the canonical payload a peer
would rebuild with the standard library, and a request whose signature GmSSL made is accepted."""

import base64
import hashlib
import json

import pytest

from formats.canonical_json import canonical_json
from license_svc.federation import node_request as nr

PATH = "/api/v1/federation/retrievals"
BODY = b'{"x": 1}'


@pytest.fixture
def js(ctx_factory, settings_factory):
    return ctx_factory(settings_factory("js"))


def _envelope(headers) -> dict:
    token = headers[nr.HEADER]
    return json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))


def _stdlib_canonical(payload) -> bytes:
    return json.dumps(payload, ensure_ascii=False, sort_keys=True,
                      separators=(",", ":")).encode("utf-8")


def test_gmssl_verifies_our_node_request(js):
    gmssl_pyx = pytest.importorskip("gmssl_pyx")
    from asn1crypto import x509

    env = _envelope(nr.sign_headers(js, "sh", "POST", PATH, BODY))
    point = x509.Certificate.load(base64.b64decode(env["signature"]["cert"])).public_key[
        "public_key"].native
    msg = _stdlib_canonical(env["payload"])
    sig = base64.b64decode(env["signature"]["value"])
    assert gmssl_pyx.sm2_verify(point[1:], msg, sig)
    assert not gmssl_pyx.sm2_verify(point[1:], msg.replace(b'"sh"', b'"zj"'), sig)


def test_we_accept_a_request_gmssl_signed(ctx, js):
    gmssl_pyx = pytest.importorskip("gmssl_pyx")
    node = js.keystore.credential("js", "node", "sm2")
    payload = {"schema": nr.SCHEMA, "from": "js", "to": "sh", "method": "POST", "path": PATH,
               "body_sha256": hashlib.sha256(BODY).hexdigest(),
               "created": js.now().strftime("%Y-%m-%dT%H:%M:%SZ"), "nonce": "cd" * 16}
    pub = node.key.public_key.point[1:]
    sig = gmssl_pyx.sm2_sign(node.key.d.to_bytes(32, "big"), pub, _stdlib_canonical(payload))
    env = {"payload": payload, "signature": {
        "alg": "SM2-SM3", "cert": base64.b64encode(node.cert.dump()).decode(),
        "value": base64.b64encode(sig).decode()}}
    header = base64.urlsafe_b64encode(canonical_json(env)).decode()
    with ctx.unit_of_work() as s:
        assert nr.verify(ctx, s, method="POST", path=PATH, body=BODY, header=header).region == "js"

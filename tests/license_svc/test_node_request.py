"""Node-to-node requests (license_svc.federation.node_request): a js node's signed request is
accepted by the sh node once; forged, replayed, stale, misaddressed, tampered requests and
requests signed by a key that is no node are refused, each with its reason."""

import base64
import json

import pytest

from formats.canonical_json import canonical_json
from formats.envelope import sign_envelope
from license_svc.federation import node_request as nr

PATH = "/api/v1/federation/retrievals"
BODY = json.dumps({"licence_id": "x", "matter_code": "m"}).encode()


@pytest.fixture
def js(ctx_factory, settings_factory):
    return ctx_factory(settings_factory("js"))


def _verify(ctx, headers, *, body=BODY, path=PATH, method="POST"):
    with ctx.unit_of_work() as s:
        return nr.verify(ctx, s, method=method, path=path, body=body,
                         header=headers.get(nr.HEADER))


def _refused(ctx, headers, reason, **kw):
    with pytest.raises(nr.NodeRequestRefused) as exc:
        _verify(ctx, headers, **kw)
    assert exc.value.reason == reason, exc.value
    assert exc.value.message_zh and exc.value.message_en
    return exc.value


def test_a_signed_request_is_accepted_once(ctx, js):
    headers = nr.sign_headers(js, "sh", "POST", PATH, BODY)
    caller = _verify(ctx, headers)
    assert caller.region == "js"
    _refused(ctx, headers, "replayed")


def test_tampering_and_misaddressing_are_refused(ctx, js, clock):
    headers = nr.sign_headers(js, "sh", "POST", PATH, BODY)
    _refused(ctx, headers, "body-mismatch", body=BODY + b" ")
    _refused(ctx, headers, "wrong-request", path="/api/v1/disputes")
    _refused(ctx, nr.sign_headers(js, "zj", "POST", PATH, BODY), "wrong-target")
    _refused(ctx, {}, "missing")
    token = headers[nr.HEADER]
    raw = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    raw["payload"]["path"] = "/api/v1/other"  # changed after signing
    forged = base64.urlsafe_b64encode(canonical_json(raw)).decode()
    _refused(ctx, {nr.HEADER: forged}, "bad-signature", path="/api/v1/other")
    stale = nr.sign_headers(js, "sh", "POST", PATH, BODY)
    clock.advance(seconds=61)
    _refused(ctx, stale, "stale")


def test_only_a_listed_node_of_the_claimed_region_may_call(ctx, js):
    def signed_by(cred, claimed):
        payload = {"schema": nr.SCHEMA, "from": claimed, "to": "sh", "method": "POST",
                   "path": PATH, "body_sha256": __import__("hashlib").sha256(BODY).hexdigest(),
                   "created": js.now().strftime("%Y-%m-%dT%H:%M:%SZ"), "nonce": "ab" * 16}
        env = sign_envelope(payload, cred.key, cred.cert)
        return {nr.HEADER: base64.urlsafe_b64encode(canonical_json(env)).decode()}
    ks = js.keystore
    org = ks.organisations("js")[0].code
    _refused(ctx, signed_by(ks.credential("js", "licence_signer", "sm2", org_code=org), "js"),
             "unknown-node")
    _refused(ctx, signed_by(ks.credential("js", "node", "sm2"), "zj"), "wrong-region")


def test_hostile_headers_are_refused_never_crash(ctx):
    """Garbage, truncated, oversized and wrong-typed headers: always NodeRequestRefused."""
    from hypothesis import HealthCheck, given, settings, strategies as st

    def json_token(value) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode()

    envelopes = st.one_of(
        st.text(max_size=200),
        st.binary(max_size=200).map(lambda b: base64.urlsafe_b64encode(b).decode()),
        st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=10),
                     lambda inner: st.lists(inner, max_size=3)
                     | st.dictionaries(st.text(max_size=8), inner, max_size=3),
                     max_leaves=10).map(json_token),
        st.just("A" * (nr.MAX_HEADER + 1)))

    @settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(envelopes)
    def run(header):
        with pytest.raises(nr.NodeRequestRefused):
            _verify(ctx, {nr.HEADER: header})
    run()
    good = nr.sign_headers(ctx, "sh", "POST", PATH, BODY)[nr.HEADER]
    for cut in (1, len(good) // 2, len(good) - 3):  # truncated
        with pytest.raises(nr.NodeRequestRefused):
            _verify(ctx, {nr.HEADER: good[:cut]})

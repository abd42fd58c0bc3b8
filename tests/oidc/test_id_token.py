"""A tampered ID token is refused.  Genuine tokens come from the real provider (tests/oidc/
provider.mjs) through the code flow; each test changes one thing — the signature, the payload
under a kept signature, the key, the algorithm, the nonce, the audience, the state of the
callback — and the relying party (license_svc/auth/oidc.py) must refuse it."""

from __future__ import annotations

import base64
import json

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey

from license_svc.auth import oidc
from tests.oidc.conftest import CLERK, browser_client, login_until_callback, skip_unless_node

skip_unless_node()


@pytest.fixture(scope="module")
def genuine(stack):
    """(relying party, login, claims, ID token) of one real sign-in."""
    rp = oidc.Provider(stack.srv.ctx.settings)
    login = rp.begin()
    with httpx.Client(follow_redirects=False, timeout=30) as http:
        callback = login_until_callback(http, login.url, stack.url + "/auth/callback")
    claims, id_token = rp.finish(dict(httpx.URL(callback).params), state=login.state,
                                 nonce=login.nonce, code_verifier=login.code_verifier)
    assert claims["sub"] == CLERK and claims["nonce"] == login.nonce
    return rp, login, claims, id_token


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def test_the_genuine_token_validates(genuine):
    rp, login, claims, id_token = genuine
    assert rp.validate(id_token, nonce=login.nonce)["org_code"] == claims["org_code"]


def test_changed_signature_is_refused(genuine):
    rp, login, _, id_token = genuine
    head, payload, sig = id_token.split(".")
    raw = bytearray(_unb64(sig))
    raw[len(raw) // 2] ^= 0x01
    with pytest.raises(oidc.SignInFailed):
        rp.validate(f"{head}.{payload}.{_b64(bytes(raw))}", nonce=login.nonce)


def test_changed_claims_under_the_old_signature_are_refused(genuine):
    """Another department's org code pasted into the payload."""
    rp, login, claims, id_token = genuine
    head, _, sig = id_token.split(".")
    forged = dict(claims, org_code="11320000MB0000010E", roles=["issuer"])
    payload = _b64(json.dumps(forged, separators=(",", ":")).encode())
    with pytest.raises(oidc.SignInFailed):
        rp.validate(f"{head}.{payload}.{sig}", nonce=login.nonce)


def test_a_token_signed_with_another_key_is_refused(genuine):
    """Right claims, right key id, the forger's own RSA key."""
    rp, login, claims, id_token = genuine
    header = json.loads(_unb64(id_token.split(".")[0]))
    key = RSAKey.generate_key(2048, parameters={"kid": header["kid"]})
    forged = jwt.encode({"alg": "RS256", "kid": header["kid"]}, claims, key)
    with pytest.raises(oidc.SignInFailed):
        rp.validate(forged, nonce=login.nonce)


def test_an_unsigned_token_is_refused(genuine):
    rp, login, claims, _ = genuine
    header = _b64(json.dumps({"alg": "none"}).encode())
    unsigned = f"{header}.{_b64(json.dumps(claims).encode())}."
    with pytest.raises(oidc.SignInFailed):
        rp.validate(unsigned, nonce=login.nonce)


def test_wrong_nonce_is_refused(genuine):
    """A token replayed into another login (whose nonce differs)."""
    rp, _, _, id_token = genuine
    with pytest.raises(oidc.SignInFailed):
        rp.validate(id_token, nonce="another-login-nonce")


def test_wrong_audience_is_refused(genuine, stack):
    """A token the provider issued to another client."""
    _, login, _, id_token = genuine
    from dataclasses import replace

    other = oidc.Provider(replace(stack.srv.ctx.settings, oidc_client_id="another-client"))
    with pytest.raises(oidc.SignInFailed):
        other.validate(id_token, nonce=login.nonce)


def test_wrong_issuer_is_refused(genuine, stack):
    _, login, _, id_token = genuine
    rp = oidc.Provider(stack.srv.ctx.settings)
    rp._metadata = dict(rp.metadata())
    rp.issuer = "http://127.0.0.1:1"  # what this node was configured to trust instead
    with pytest.raises(oidc.SignInFailed):
        rp.validate(id_token, nonce=login.nonce)


def test_callback_with_a_changed_state_is_refused(stack):
    """The whole route: a callback whose state is not the one this browser's login sent."""
    with browser_client() as http:
        http.follow_redirects = False
        callback = login_until_callback(http, stack.url + "/auth/login?next=/verify",
                                         stack.url + "/auth/callback")
        url = httpx.URL(callback)
        changed = url.copy_set_param("state", url.params["state"][::-1])
        refused = http.get(changed)
        assert refused.status_code == 403 and "state" in refused.text
        assert "license_svc_session" not in http.cookies
        # The login was used up: the genuine callback after it does not sign in either.
        assert http.get(callback).status_code == 403

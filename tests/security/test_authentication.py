"""Authentication attacks: missing, garbled and duplicated Authorization headers, disabled and
near-miss keys.  Every failure is the same 401 (nothing tells a prober whether a key exists or
was disabled), and an ambiguous request is refused rather than guessed at."""

from __future__ import annotations

import pytest

from license_svc.auth.clients import authenticate, disable_client, hash_key
from license_svc.auth.models import ApiClient
from tests.security.support import refused

URL = "/api/v1/seals"   # any route behind authentication (issuer/admin/auditor)


@pytest.fixture
def issuer(make_api_client):
    principal, headers = make_api_client(["issuer"])
    return principal, headers["Authorization"].split(" ", 1)[1]


def _garbled(key: str) -> list:
    return [
        {}, {"Authorization": ""}, {"Authorization": "Bearer"}, {"Authorization": "Bearer "},
        {"Authorization": key}, {"Authorization": f"Basic {key}"}, {"Authorization": f"Token {key}"},
        {"Authorization": f"Bearer {key} extra"}, {"Authorization": f"Bearer {key[:-1]}"},
        {"Authorization": f"Bearer {key}x"}, {"Authorization": f"Bearer {key.upper()}"},
        {"Authorization": ("Bearer " + "\u00e9" * 40).encode("latin-1")},
        {"Authorization": ("Bearer " + "密钥" * 20).encode("utf-8")},
        {"Authorization": "Bearer " + "A" * 8000},
        {"Authorization": f"Bearer {key}\x00"},
    ]


def test_missing_or_garbled_authorization_is_401(client, issuer):
    _, key = issuer
    for headers in _garbled(key):
        resp = client.get(URL, headers=headers)
        refused(resp, 401, "unauthorized")
        assert resp.headers["www-authenticate"].startswith("Bearer"), headers


@pytest.mark.parametrize("order", ["good-first", "good-last", "both-good"])
def test_duplicated_authorization_headers_are_refused(client, issuer, order):
    """A proxy and the service may each pick a different one of two headers; neither is used."""
    _, key = issuer
    pairs = {"good-first": [f"Bearer {key}", "Bearer lsk_attacker_attacker_attacker"],
             "good-last": ["Bearer lsk_attacker_attacker_attacker", f"Bearer {key}"],
             "both-good": [f"Bearer {key}", f"Bearer {key}"]}[order]
    resp = client.get(URL, headers=[("Authorization", v) for v in pairs])
    refused(resp, 401, "unauthorized")


def test_unknown_disabled_and_near_miss_keys_get_the_same_answer(client, ctx, issuer):
    principal, key = issuer
    assert client.get(URL, headers={"Authorization": f"Bearer {key}"}).status_code == 200

    def answer(k):
        resp = client.get(URL, headers={"Authorization": f"Bearer {k}"})
        body = refused(resp, 401, "unauthorized")
        body.pop("request_id")
        return body, resp.headers["www-authenticate"]

    unknown = answer("lsk_" + "Z" * 43)
    near = answer(key[:-1] + ("A" if key[-1] != "A" else "B"))
    with ctx.unit_of_work() as session:
        disable_client(session, principal.client_id)
    disabled = answer(key)
    assert unknown == near == disabled


def test_keys_are_looked_up_by_hash_only(ctx, issuer):
    """No prefix or partial comparison exists to time: the stored value is a hash of the whole
    key, and a key sharing every character but one with a real key authenticates nothing."""
    principal, key = issuer
    with ctx.unit_of_work() as session:
        row = session.get(ApiClient, principal.client_id)
        assert row.key_hash == hash_key(key) and key not in row.key_hash
        for k in (key[:-1], key + " ", " " + key, key.lower(), ""):
            assert authenticate(session, k) is None
        assert authenticate(session, key).client_id == principal.client_id

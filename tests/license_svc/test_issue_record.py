"""Canonical JSON and the signed envelope of the licence record (DESIGN §4)."""

import base64
import json

import pytest
from hypothesis import given, strategies as st

from formats.canonical_json import CanonicalJSONError, canonical_json
from license_svc.licences.record import data_hash
from formats.envelope import sign_envelope, verify_envelope
from formats import algorithms as alg
from formats.errors import InvalidSignature

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**63, 2**63) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20)


def test_canonical_form_is_sorted_compact_utf8():
    assert canonical_json({"b": 1, "a": ["上海", True, None]}) == \
        '{"a":["上海",true,null],"b":1}'.encode("utf-8")


@given(json_values)
def test_canonical_json_round_trips_and_is_stable(value):
    text = canonical_json(value)
    assert canonical_json(json.loads(text)) == text


@pytest.mark.parametrize("bad", [1.5, {"a": 0.0}, [float("nan")], {1: "x"}, {"a": b"x"},
                                 "\ud800"])
def test_floats_and_non_json_are_rejected(bad):
    with pytest.raises(CanonicalJSONError) as exc:
        canonical_json(bad)
    assert exc.value.message_zh and exc.value.message_en


@pytest.mark.parametrize("depth", [33, 1_000, 100_000])
def test_hostile_nesting_is_a_clear_error_not_a_recursion_error(depth):
    """Thousands of levels of [ or { parse fine in C; walking them must not recurse (a
    RecursionError deep in a worker thread is a crash, not a 4xx)."""
    value: list = []
    inner = value
    for _ in range(depth - 1):
        inner.append([])
        inner = inner[0]
    with pytest.raises(CanonicalJSONError) as err:
        canonical_json({"fields": value})
    assert "nested deeper than" in err.value.message_en and "嵌套" in err.value.message_zh


def test_nesting_up_to_the_limit_is_fine():
    value: list = []
    inner = value
    for _ in range(30):
        inner.append([])
        inner = inner[0]
    assert canonical_json({"a": value}).startswith(b'{"a":[[[')


def test_data_hash_is_sm3_of_canonical_bytes():
    record = {"z": "证照", "a": 1}
    assert data_hash(record) == alg.sm3(canonical_json(record)).hex()
    assert len(data_hash(record)) == 64


def _cert_for(key):
    from tests.license_svc.certs import self_signed

    return self_signed(key)


@pytest.mark.parametrize("algorithm", ["sm2", "rsa"])
def test_envelope_verifies_and_detects_changes(algorithm):
    key = alg.generate_private_key(algorithm)
    cert = _cert_for(key)
    env = sign_envelope({"identifier": "x", "n": 1}, key, cert)
    assert verify_envelope(env).dump() == cert.dump()
    env2 = json.loads(json.dumps(env))
    env2["payload"]["n"] = 2
    with pytest.raises(InvalidSignature):
        verify_envelope(env2)
    env3 = json.loads(json.dumps(env))
    env3["signature"]["value"] = base64.b64encode(b"\x00" * 8).decode()
    with pytest.raises(InvalidSignature):
        verify_envelope(env3)
    with pytest.raises(InvalidSignature):
        verify_envelope({"payload": {}})

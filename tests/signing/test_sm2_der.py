"""The hand-written SM2Signature DER codec: exactly the canonical encodings, nothing else.

asn1crypto (strict load, then a fresh re-encode) is the oracle: a byte string is a valid SM2
signature encoding iff asn1crypto reads it as SEQUENCE{INTEGER, INTEGER}, re-encoding the two
integers gives the same bytes, and 1 <= r, s < n.
"""

import pytest
from asn1crypto import algos
from hypothesis import given, settings, strategies as st

from formats.algorithms.sm2_der import (MAX_SIGNATURE_LEN, N, decode_signature,
                                        encode_signature)
from formats.errors import InvalidSignature

R = 0xF5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3  # high bit set
S = 0x31B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AA  # high bit clear


def _oracle(data: bytes):
    """(r, s) if asn1crypto says `data` is the DER of an in-range SM2 signature, else None."""
    try:
        sig = algos.DSASignature.load(data, strict=True)
        r, s = sig["r"].native, sig["s"].native
        if algos.DSASignature({"r": r, "s": s}).dump() != data:
            return None
    except Exception:
        return None
    return (r, s) if 1 <= r < N and 1 <= s < N else None


def _ours(data: bytes):
    try:
        return decode_signature(data)
    except InvalidSignature:
        return None


def _int(body: bytes) -> bytes:
    return b"\x02" + bytes([len(body)]) + body


def _seq(body: bytes) -> bytes:
    return b"\x30" + bytes([len(body)]) + body


R_BYTES = b"\x00" + R.to_bytes(32, "big")
S_BYTES = S.to_bytes(32, "big")
GOOD = _seq(_int(R_BYTES) + _int(S_BYTES))


def test_canonical_encoding_round_trips_and_matches_asn1crypto():
    assert encode_signature(R, S) == GOOD
    assert decode_signature(GOOD) == (R, S)
    assert algos.DSASignature({"r": R, "s": S}).dump() == GOOD
    assert decode_signature(bytearray(GOOD)) == (R, S)
    assert decode_signature(memoryview(GOOD)) == (R, S)


@pytest.mark.parametrize("r,s", [(1, 1), (0x7F, 0x80), (0xFF, 0x100), (N - 1, N - 1),
                                 (2**255, 2**255 - 1), (2**247, 0x7F)])
def test_boundary_values_round_trip(r, s):
    der = encode_signature(r, s)
    assert der == algos.DSASignature({"r": r, "s": s}).dump()
    assert decode_signature(der) == (r, s)
    assert len(der) <= MAX_SIGNATURE_LEN


NOT_DER = {
    "SEQUENCE long-form length": b"\x30\x81" + bytes([len(GOOD) - 2]) + GOOD[2:],
    "SEQUENCE two-byte length": b"\x30\x82\x00" + bytes([len(GOOD) - 2]) + GOOD[2:],
    "indefinite length": b"\x30\x80" + GOOD[2:] + b"\x00\x00",
    "INTEGER long-form length": _seq(b"\x02\x81\x21" + R_BYTES + _int(S_BYTES)),
    "r with a redundant leading zero": _seq(_int(b"\x00" + S_BYTES) + _int(S_BYTES)),
    "s with a redundant leading zero": _seq(_int(R_BYTES) + _int(b"\x00" + S_BYTES)),
    "r negative (high bit without 00)": _seq(_int(R_BYTES[1:]) + _int(S_BYTES)),
    "s negative": _seq(_int(S_BYTES) + _int(b"\xff" + S_BYTES[1:])),
    "negative one": _seq(_int(b"\xff") + _int(S_BYTES)),
    "empty INTEGER": _seq(_int(b"") + _int(S_BYTES)),
    "trailing byte after SEQUENCE": GOOD + b"\x00",
    "trailing SEQUENCE": GOOD + GOOD,
    "third INTEGER": _seq(_int(R_BYTES) + _int(S_BYTES) + _int(b"\x01")),
    "only one INTEGER": _seq(_int(R_BYTES)),
    "empty SEQUENCE": b"\x30\x00",
    "SET instead of SEQUENCE": b"\x31" + GOOD[1:],
    "BIT STRING instead of INTEGER": _seq(b"\x03" + GOOD[3:]),
    "constructed tag": b"\x70" + GOOD[1:],
    "SEQUENCE length too long": b"\x30" + bytes([len(GOOD) - 1]) + GOOD[2:],
    "SEQUENCE length too short": b"\x30" + bytes([len(GOOD) - 3]) + GOOD[2:],
    "INTEGER length runs past the end": _seq(_int(R_BYTES) + b"\x02\x21" + S_BYTES),
    "r = 0": _seq(_int(b"\x00") + _int(S_BYTES)),
    "s = 0": _seq(_int(R_BYTES) + _int(b"\x00")),
    "r = n": encode_signature(N, S),
    "s = n": encode_signature(R, N),
    "r = n + 1": encode_signature(N + 1, S),
    "r = 2^256 - 1": encode_signature(2**256 - 1, S),
    "r of 33 value bytes": encode_signature(2**257, S),
    "raw r||s (64 bytes)": R.to_bytes(32, "big") + S.to_bytes(32, "big"),
    "empty": b"",
    "truncated": GOOD[:-1],
    "one byte": b"\x30",
}


@pytest.mark.parametrize("name", sorted(NOT_DER))
def test_non_canonical_or_out_of_range_is_refused(name):
    data = NOT_DER[name]
    with pytest.raises(InvalidSignature) as info:
        decode_signature(data)
    assert info.value.message_zh and info.value.message_en
    assert _oracle(data) is None  # the oracle agrees these are not valid signatures


@pytest.mark.parametrize("value", ["3045", None, 12, [0x30, 0x06]])
def test_non_bytes_is_refused(value):
    with pytest.raises(InvalidSignature):
        decode_signature(value)


def test_encode_refuses_values_it_cannot_represent():
    with pytest.raises(ValueError):
        encode_signature(-1, 1)
    with pytest.raises(ValueError):
        encode_signature(1, 2**263)


@settings(max_examples=300, deadline=None)
@given(st.integers(1, N - 1), st.integers(1, N - 1))
def test_property_round_trip_agrees_with_asn1crypto(r, s):
    der = encode_signature(r, s)
    assert der == algos.DSASignature({"r": r, "s": s}).dump()
    assert decode_signature(der) == (r, s)


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=80))
def test_property_arbitrary_bytes(data):
    assert _ours(data) == _oracle(data)


def _mutations():
    base = st.sampled_from([GOOD, encode_signature(1, N - 1), encode_signature(0x80, 0x7F)])

    def flip(args):
        data, pos, val = args
        pos %= len(data)
        return data[:pos] + bytes([val]) + data[pos + 1:]

    def insert(args):
        data, pos, val = args
        pos %= len(data) + 1
        return data[:pos] + bytes([val]) + data[pos:]

    def delete(args):
        data, pos, _ = args
        pos %= len(data)
        return data[:pos] + data[pos + 1:]

    triples = st.tuples(base, st.integers(0, 200), st.integers(0, 255))
    return st.one_of(triples.map(flip), triples.map(insert), triples.map(delete))


@settings(max_examples=500, deadline=None)
@given(_mutations())
def test_property_mutated_signatures(data):
    ours = _ours(data)
    assert ours == _oracle(data)
    if ours is not None:
        assert encode_signature(*ours) == data

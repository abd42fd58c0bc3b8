"""formats/ber.py: BER → DER for CMS other tools write (issue 15)."""

import pytest
from hypothesis import given, settings, strategies as st

from formats.ber import BerError, to_der
from tests.support.realpdf import to_ber

# SEQUENCE { OID 1.2.3, SET { BOOLEAN TRUE, OCTET STRING 'ab' }, [0] { INTEGER 5 } }
DER = bytes.fromhex("3012" "06022a03" "3107" "0101ff" "04026162" "a003" "020105")


@pytest.mark.parametrize("depth", [1, 2, 3])
def test_indefinite_lengths_become_der(depth):
    ber = to_ber(DER, depth)
    assert ber != DER and ber[:2] == b"\x30\x80"
    assert to_der(ber + b"\x00" * 7) == (DER, len(ber))


def test_der_is_unchanged():
    assert to_der(DER) == (DER, len(DER))


def test_chunked_strings_long_lengths_and_booleans():
    ber = bytes.fromhex("3080" "2480" "040161" "04820001" "62" "0000" "010101" "0000")
    assert to_der(ber)[0] == bytes.fromhex("3007" "04026162" "0101ff")
    bits = bytes.fromhex("2380" "03020061" "03020462" "0000")
    assert to_der(bits)[0] == bytes.fromhex("0303046162")


@pytest.mark.parametrize("hostile", [
    b"", b"\x30", b"\x30\x80\x02\x01", b"\x30\x05\x02\x01\x01",      # truncated
    b"\x04\x80\x00\x00",                                             # indefinite primitive
    b"\x30\x80" * 100 + b"\x00\x00" * 100,                           # nested too deeply
    bytes.fromhex("2480" "0c0161" "0000"),                           # chunk of another type
    b"\x30\x03\x02\x05\x01",                                         # child overruns parent
])
def test_hostile_input_is_a_format_error(hostile):
    with pytest.raises(BerError):
        to_der(hostile)


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=64))
def test_random_bytes_never_crash(data):
    try:
        der, end = to_der(data)
    except BerError:
        return
    assert 0 < end <= len(data) and to_der(der) == (der, len(der))  # DER is a fixed point


@settings(max_examples=200, deadline=None)
@given(pos=st.integers(0, len(to_ber(DER, 3)) - 1), value=st.integers(1, 255))
def test_mutated_ber_never_crashes(pos, value):
    ber = bytearray(to_ber(DER, 3))
    ber[pos] ^= value
    try:
        to_der(bytes(ber))
    except BerError:
        pass

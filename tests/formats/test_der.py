"""DER framing: what the producer writes is what asn1crypto writes, and what the readers get
back is the exact bytes, BER indefinite lengths included (each caller decides to refuse them)."""

import pytest
from asn1crypto import core

from formats import der


@pytest.mark.parametrize("size", [0, 1, 127, 128, 255, 256, 65535, 65536, 1 << 24])
def test_tlv_matches_asn1crypto(size):
    content = bytes(size)
    assert der.tlv(0x04, content) == core.OctetString(content).dump()
    assert der.sequence(content)[:1] == b"\x30"
    assert der.encoded_size(der.tlv(0x30, content)[:8]) == len(der.tlv(0x30, content))


def test_set_of_sorts_the_encodings():
    a, b = der.tlv(0x02, b"\x02"), der.tlv(0x02, b"\x01")
    assert der.set_of([a, b]) == b"\x31\x06" + b + a


def test_read_whole_or_first_element():
    item = der.read(b"\x30\x03\x02\x01\x05")
    assert (item.cls, item.constructed, item.tag, item.contents) == (0, True, 16, b"\x02\x01\x05")
    assert not item.indefinite
    with pytest.raises(ValueError):
        der.read(b"\x02\x01\x05\x00")
    assert der.read(b"\x02\x01\x05\x00", whole=False).raw == b"\x02\x01\x05"


def test_indefinite_length_is_read_with_its_end_of_contents():
    data = b"\x30\x80\x02\x01\x05\x00\x00"
    item = der.read(data)
    assert item.indefinite and item.raw == data and item.contents == b"\x02\x01\x05"


def test_children_are_read_one_at_a_time():
    kids = der.children(b"\x02\x01\x05\x04\x00\xff")
    assert next(kids).raw == b"\x02\x01\x05"
    assert next(kids).raw == b"\x04\x00"
    with pytest.raises(ValueError):
        next(kids)  # the malformed third element is reached only now


@pytest.mark.parametrize("head", [b"", b"\x30", b"\x31\x01", b"\x30\x80", b"\x30\x85\x01\x02\x03\x04\x05",
                                  b"\x30\x82\x01"])
def test_encoded_size_is_zero_when_it_cannot_tell(head):
    assert der.encoded_size(head) == 0

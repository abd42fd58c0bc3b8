"""Bitstring status lists: layout, encoding, hostile input."""

import base64
import gzip
import secrets

import pytest

from license_svc.licences.bitstring import MIN_ENTRIES, Bitstring, StatusListError


def test_two_bits_per_entry_msb_first():
    bs = Bitstring(8)
    bs.set(0, "revoked")      # 10
    bs.set(1, "suspended")    # 01
    bs.set(3, "superseded")   # 11
    assert bytes(bs._bits) == bytes([0b10010011, 0])
    assert [bs.get(i) for i in range(4)] == ["revoked", "suspended", "active", "superseded"]
    bs.set(0, "active")
    assert bs.get(0) == "active" and bs.get(1) == "suspended"


def test_round_trip_full_size_list_is_small_and_deterministic():
    bs = Bitstring()
    picks = {secrets.randbelow(MIN_ENTRIES): s for s in ("revoked", "suspended", "superseded")
             for _ in range(50)}
    for i, s in picks.items():
        bs.set(i, s)
    text = bs.encode()
    assert text == bs.encode()  # gzip mtime fixed
    assert len(text) < 4000
    back = Bitstring.decode(text, MIN_ENTRIES)
    assert all(back.get(i) == s for i, s in picks.items())
    assert sum(back.get(i) != "active" for i in range(MIN_ENTRIES)) == len(picks)


@pytest.mark.parametrize("text", [
    "not base64!!",
    base64.b64encode(b"plain bytes, not gzip").decode(),
    base64.b64encode(gzip.compress(b"\0" * 10)).decode(),                    # wrong length
    base64.b64encode(gzip.compress(b"\0" * (MIN_ENTRIES // 4))[:-6]).decode(),  # truncated
    base64.b64encode(gzip.compress(b"\0" * (64 * 1024 * 1024))).decode(),   # gzip bomb
], ids=["not-base64", "not-gzip", "wrong-length", "truncated", "gzip-bomb"])  # gzip embeds the
#   time, and pytest-xdist needs every worker to collect the same test ids
def test_hostile_encodings_raise_bilingual_errors(text):
    with pytest.raises(StatusListError) as exc:
        Bitstring.decode(text, MIN_ENTRIES)
    assert exc.value.message_zh != exc.value.message_en


def test_index_bounds():
    bs = Bitstring(8)
    for bad in (-1, 8):
        with pytest.raises(StatusListError):
            bs.set(bad, "revoked")

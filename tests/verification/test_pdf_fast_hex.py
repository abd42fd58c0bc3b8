"""The chunked hex-string reader gives exactly what pyHanko's original gives: the same object
and stream position, or an error in both."""

import io

from hypothesis import given, settings, strategies as st

from formats import fast_hex


def _run(fn, data):
    s = io.BytesIO(data)
    try:
        value = fn(s)
        return ("ok", type(value).__name__, bytes(value.original_bytes), s.tell())
    except Exception as exc:  # both must fail (the type may differ in message only)
        return ("error", type(exc).__name__)


CASES = [b"<>", b"<41>", b"<4>", b"<41 42\n43>rest", b"<4 1 % c\n42>", b"<zz>", b"<41",
         b"<" + b"0" * 50000 + b">", b"<41\x0042>", b"<41>>", b"<%>\n41>"]


def test_known_cases():
    for data in CASES:
        assert _run(fast_hex.read_hex_string_from_stream, data) == _run(fast_hex._ORIGINAL, data), data


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=64).map(lambda b: b"<" + b.hex().encode()[: len(b)] + b">")
       | st.text(alphabet="0123456789abcdefABCDEF \n\r\t%<>gz", max_size=80).map(
           lambda t: b"<" + t.encode()))
def test_equivalent_on_random_input(data):
    assert _run(fast_hex.read_hex_string_from_stream, data) == _run(fast_hex._ORIGINAL, data)

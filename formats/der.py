"""DER framing by hand: writing a tag-length-value, reading one element with its exact bytes.

Why by hand at all: the producer assembles CMS and time-stamp tokens from parts encoded once
(`signing.pdf.fast_cms`, `signing.tsa`), because re-encoding them through asn1crypto was most
of a signature's cost; and the readers of seals and OFD signatures must keep each element's
bytes exactly as written, since a signature covers those bytes, not a re-encoding.  Each of
them had its own length code; this is the one copy.

Reading is asn1crypto's `parser`: BER in general (an indefinite length is read, its
end-of-contents octets kept in `raw`), and each caller decides what it refuses — the seal reader
forgives harmless deviations, the OFD reader refuses indefinite lengths.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Iterator

from asn1crypto import parser


def length(n: int) -> bytes:
    """The DER length octets of `n` content bytes: short form below 128, else long form."""
    if n < 0x80:
        return bytes([n])
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def tlv(tag: int, content: bytes) -> bytes:
    """One element with a single identifier octet `tag` (e.g. 0x30 SEQUENCE, 0xA0 [0])."""
    return bytes([tag]) + length(len(content)) + content


def sequence(content: bytes) -> bytes:
    return tlv(0x30, content)


def set_of(elements: Iterable[bytes]) -> bytes:
    """DER SET OF: the element encodings in ascending order (X.690 §11.6)."""
    return tlv(0x31, b"".join(sorted(elements)))


@dataclass(frozen=True, slots=True)
class Element:
    """One element as read: its identifier, its exact bytes and its contents."""

    cls: int            # 0 universal, 1 application, 2 context, 3 private
    constructed: bool
    tag: int
    raw: bytes          # identifier, length, contents and any end-of-contents octets
    contents: bytes
    indefinite: bool    # BER indefinite length (never DER)


def read(data: bytes, *, whole: bool = True) -> Element:
    """The element at the start of `data`; with `whole`, nothing may follow it.  Raises
    ValueError (asn1crypto's) on anything malformed or truncated."""
    cls, method, tag, header, contents, trailer = parser.parse(bytes(data), strict=whole)
    return Element(cls, method == 1, tag, header + contents + trailer, contents, bool(trailer))


def children(contents: bytes) -> Iterator[Element]:
    """The elements one after another in `contents` (a constructed element's contents), each
    read only when asked for, so a caller's check on one runs before the next is parsed."""
    offset = 0
    while offset < len(contents):
        item = read(contents[offset:], whole=False)
        yield item
        offset += len(item.raw)


def encoded_size(head: bytes, tag: int = 0x30) -> int:
    """Total size of the element whose first bytes are `head`, from its identifier and a
    definite length of at most four octets; 0 when `head` does not start such an element of
    `tag` or is too short to tell (for sizing a value from its first bytes alone)."""
    if len(head) < 2 or head[0] != tag:
        return 0
    first = head[1]
    if first < 0x80:
        return 2 + first
    n = first & 0x7F
    if not 0 < n <= 4 or len(head) < 2 + n:
        return 0
    return 2 + n + int.from_bytes(head[2:2 + n], "big")

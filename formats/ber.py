"""BER to DER, for CMS that other tools write in BER (issue 15).

CMS (RFC 5652 §1.2) is BER: older and streaming signers (Java's BER generators, some national
platforms) write SignedData with indefinite lengths (`30 80 … 00 00`), and PDF signatures
(ISO 32000-2 §12.8.3.3.1) carry such CMS as they are.  asn1crypto reads shallow indefinite
lengths but not nested ones, and what it cannot read pyHanko cannot validate.  The signature
itself is unaffected by the encoding: the signed attributes are signed over their DER form
(RFC 5652 §5.4), the PDF digest over the byte ranges.  So the verifier re-encodes the CMS to
DER once, records that it did, and validates the DER.

What changes: indefinite and non-minimal lengths become minimal definite ones; constructed
(chunked) universal strings become one primitive string; BOOLEAN TRUE becomes FF.  Element
order is kept, also inside SET OF: a signer that did not sort its signed attributes signed them
in the order given, and sorting would break a genuine signature.
"""

from __future__ import annotations

from formats.errors import FormatError

MAX_DEPTH = 64
# Universal string types a BER encoder may split into constructed chunks (X.690 8.21.5).
_STRINGS = {4, 12, 18, 19, 20, 21, 22, 25, 26, 27, 28, 30}
_BIT_STRING = 3
_BOOLEAN = 1


class BerError(FormatError):
    code = "ber-format"


def to_der(data: bytes) -> tuple[bytes, int]:
    """(DER of the first BER element of `data`, where that element ends in `data`).
    Raises BerError for anything that is not BER."""
    data = bytes(data)
    try:
        out, end = _element(data, 0, 0)
    except (IndexError, RecursionError):
        raise BerError("truncated BER", "BER 编码被截断") from None
    return out, end


def _element(data: bytes, pos: int, depth: int) -> tuple[bytes, int]:
    if depth > MAX_DEPTH:
        raise BerError("BER nested too deeply", "BER 嵌套层数过多")
    start = pos
    first = data[pos]
    pos += 1
    number = first & 0x1F
    if number == 0x1F:
        number = 0
        while True:
            byte = data[pos]
            pos += 1
            number = (number << 7) | (byte & 0x7F)
            if not byte & 0x80:
                break
    tag = data[start:pos]
    constructed = bool(first & 0x20)
    universal = first & 0xC0 == 0
    length = data[pos]
    pos += 1
    if length == 0x80:
        if not constructed:
            raise BerError("indefinite length on a primitive element", "基本类型使用了不定长编码")
        children, pos = _children(data, pos, None, depth)
    else:
        if length & 0x80:
            n = length & 0x7F
            if n == 0 or n > 4:
                raise BerError("unsupported length", "长度字段不合法")
            length = int.from_bytes(data[pos:pos + n], "big")
            pos += n
        end = pos + length
        if end > len(data):
            raise BerError("length beyond the data", "长度超出数据范围")
        if not constructed:
            body = data[pos:end]
            if universal and number == _BOOLEAN and len(body) == 1 and body != b"\x00":
                body = b"\xff"
            return tag + _length(len(body)) + body, end
        children, pos = _children(data, pos, end, depth)
    if universal and (number in _STRINGS or number == _BIT_STRING):
        return _join_string(tag[0] & ~0x20, number, children), pos
    body = b"".join(children)
    return tag + _length(len(body)) + body, pos


def _children(data: bytes, pos: int, end: int | None, depth: int) -> tuple[list[bytes], int]:
    children: list[bytes] = []
    while True:
        if end is None:
            if data[pos:pos + 2] == b"\x00\x00":
                return children, pos + 2
        elif pos == end:
            return children, pos
        elif pos > end:
            raise BerError("element overruns its container", "元素超出其容器")
        # Fast path (most of a CMS): a primitive, low-tag element with a minimal definite
        # length and nothing to rewrite is copied as it is.
        first, length = data[pos], data[pos + 1]
        if not first & 0x20 and first & 0x1F not in (0x1F, _BOOLEAN):
            if length < 0x80:
                stop = pos + 2 + length
            elif length == 0x81 and data[pos + 2] >= 0x80:
                stop = pos + 3 + data[pos + 2]
            elif length == 0x82 and data[pos + 2]:
                stop = pos + 4 + int.from_bytes(data[pos + 2:pos + 4], "big")
            else:
                stop = None
            if stop is not None and stop <= len(data):
                children.append(data[pos:stop])
                pos = stop
                continue
        child, pos = _element(data, pos, depth + 1)
        children.append(child)


def _join_string(tag: int, number: int, chunks: list[bytes]) -> bytes:
    """One primitive string from the DER chunks of a constructed one."""
    parts = []
    for i, chunk in enumerate(chunks):
        if chunk[0] != tag:
            raise BerError("constructed string with a chunk of another type", "分段字符串类型不一致")
        body = _body(chunk)
        if number == _BIT_STRING:
            if not body or (body[0] and i != len(chunks) - 1):
                raise BerError("bad BIT STRING chunk", "BIT STRING 分段不合法")
            parts.append(body if i == len(chunks) - 1 else body[1:])
        else:
            parts.append(body)
    if number == _BIT_STRING:
        if not parts:
            raise BerError("empty constructed BIT STRING", "空的分段 BIT STRING")
        last = parts.pop()
        body = last[:1] + b"".join(parts) + last[1:]
    else:
        body = b"".join(parts)
    return bytes([tag]) + _length(len(body)) + body


def _body(der: bytes) -> bytes:
    length = der[1]
    if length & 0x80:
        return der[2 + (length & 0x7F):]
    return der[2:]


def _length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw

"""The SM2 signature encoding, SM2Signature ::= SEQUENCE { r INTEGER, s INTEGER } (GB/T 35276 §7.3).

Hand-written rather than asn1crypto load + dump: verification is hot (every certificate, seal,
licence and status response) and the generic parser cost ~15 % of an SM2 verification.  The
value space is tiny, so the canonical encoding can be checked completely by hand:

- r and s are at most 33 content bytes each (32 bytes plus a 00 sign byte), so every length is
  a single short-form byte and the whole encoding is 8..72 bytes; a long-form length is always
  non-DER here and is rejected, as are indefinite lengths;
- INTEGERs must be minimal two's complement: no negative values, no redundant leading 00;
- nothing may follow the SEQUENCE, and the SEQUENCE must hold exactly two INTEGERs;
- 1 <= r, s <= n - 1 (GB/T 32918.2 §7.1 step B1/B2).

Anything else raises `InvalidSignature` before any curve arithmetic, so malleable encodings
(e.g. the same (r, s) with a padded length) can never verify.
"""

from __future__ import annotations

from formats.errors import InvalidSignature

N = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123

MAX_SIGNATURE_LEN = 72  # 30 46 | 02 21 00 r(32) | 02 21 00 s(32)
_MIN_SIGNATURE_LEN = 8  # 30 06 | 02 01 r | 02 01 s
_MAX_INT_LEN = 33


def _fail(reason_en: str, reason_zh: str) -> InvalidSignature:
    return InvalidSignature(f"malformed SM2 signature encoding: {reason_en}",
                            f"SM2 签名编码格式错误：{reason_zh}")


def _integer(der: bytes, pos: int) -> tuple[int, int]:
    """One positive, minimally encoded INTEGER at `pos`; returns (value, next position)."""
    if pos + 2 > len(der) or der[pos] != 0x02:
        raise _fail("expected an INTEGER", "应为 INTEGER")
    length = der[pos + 1]
    if length == 0 or length > _MAX_INT_LEN:  # also rejects every long-form length byte
        raise _fail("bad INTEGER length", "INTEGER 长度错误")
    start, end = pos + 2, pos + 2 + length
    if end > len(der):
        raise _fail("truncated INTEGER", "INTEGER 被截断")
    first = der[start]
    if first & 0x80:
        raise _fail("negative INTEGER", "INTEGER 为负数")
    if first == 0 and length > 1 and not der[start + 1] & 0x80:
        raise _fail("INTEGER with a redundant leading zero", "INTEGER 含多余的前导零")
    return int.from_bytes(der[start:end], "big"), end


def decode_signature(signature: bytes) -> tuple[int, int]:
    """(r, s) from a DER SM2Signature; accepts only the canonical DER of 1 <= r, s < n."""
    if not isinstance(signature, (bytes, bytearray, memoryview)):
        raise _fail(f"expected bytes, got {type(signature).__name__}", "签名值应为字节串")
    der = bytes(signature)
    size = len(der)
    if not _MIN_SIGNATURE_LEN <= size <= MAX_SIGNATURE_LEN:
        raise _fail(f"{size} bytes, expected 8..72 (raw r||s is not accepted)",
                    f"长度为 {size} 字节，应为 8..72 字节（不接受裸 r||s）")
    if der[0] != 0x30 or der[1] != size - 2:
        raise _fail("not a single DER SEQUENCE", "不是单个 DER SEQUENCE")
    r, pos = _integer(der, 2)
    s, pos = _integer(der, pos)
    if pos != size:
        raise _fail("extra data inside the SEQUENCE", "SEQUENCE 中有多余数据")
    if not (1 <= r < N and 1 <= s < N):
        raise InvalidSignature("SM2 signature values out of range [1, n-1]",
                               "SM2 签名值超出范围 [1, n-1]")
    return r, s


def _integer_der(value: int) -> bytes:
    body = value.to_bytes(value.bit_length() // 8 + 1, "big")  # minimal, sign bit 0
    return b"\x02" + bytes([len(body)]) + body


def encode_signature(r: int, s: int) -> bytes:
    """DER SM2Signature of two non-negative integers below 2^263 (range is checked on decode,
    so tests can build out-of-range encodings with this function)."""
    if r < 0 or s < 0 or r.bit_length() > 263 or s.bit_length() > 263:
        raise ValueError("r and s must be non-negative and below 2^263")
    body = _integer_der(r) + _integer_der(s)
    return b"\x30" + bytes([len(body)]) + body

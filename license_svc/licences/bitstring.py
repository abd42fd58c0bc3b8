"""Bitstring status lists (after W3C Bitstring Status List v1.0), two bits per entry.

Why two bits: a relying party offline must tell "suspended" (may come back) from "revoked"
(final) from "superseded" (a newer version exists), and one list with 2-bit entries says all
three with one download.  Why ≥131,072 entries and random indexes: the list is public, so a
small or sequential list would reveal how many licences an issuer made and which index belongs
to whom by issue order (the W3C herd-privacy argument).

Layout: entry i occupies bits 2i (high) and 2i+1 (low), bit 0 being the most significant bit
of byte 0.  Encoding: gzip (mtime 0, so equal lists give equal bytes) then base64 (RFC 4648 §4).
"""

from __future__ import annotations

import base64
import gzip
import io
import zlib

from formats.errors import FormatError

STATUS_SIZE = 2
MIN_ENTRIES = 131_072
# Value of an entry -> status; the same table is published in the signed list.
CODES = {0: "active", 1: "suspended", 2: "revoked", 3: "superseded"}
VALUES = {v: k for k, v in CODES.items()}
MAX_DECODED_BYTES = 16 * 1024 * 1024  # a hostile list must not inflate without bound


class StatusListError(FormatError):
    code = "status-list"


class Bitstring:
    def __init__(self, entries: int = MIN_ENTRIES, data: bytes | None = None):
        if entries < 1 or entries % 4:
            raise StatusListError("entry count must be a positive multiple of 4",
                                  "条目数必须是 4 的正整数倍")
        self.entries = entries
        size = entries * STATUS_SIZE // 8
        if data is not None and len(data) != size:
            raise StatusListError(f"status list has {len(data)} bytes, expected {size}",
                                  f"状态列表长度为 {len(data)} 字节，应为 {size}")
        self._bits = bytearray(data if data is not None else size)

    def _check_index(self, index: int) -> None:
        if not 0 <= index < self.entries:
            raise StatusListError(f"status index {index} outside 0..{self.entries - 1}",
                                  f"状态索引 {index} 超出范围")

    def set(self, index: int, status: str) -> None:
        self._check_index(index)
        value = VALUES[status]
        byte, shift = divmod(index * STATUS_SIZE, 8)
        shift = 8 - STATUS_SIZE - shift
        self._bits[byte] = (self._bits[byte] & ~(0b11 << shift)) | (value << shift)

    def get(self, index: int) -> str:
        self._check_index(index)
        byte, shift = divmod(index * STATUS_SIZE, 8)
        return CODES[(self._bits[byte] >> (8 - STATUS_SIZE - shift)) & 0b11]

    def encode(self) -> str:
        buf = io.BytesIO()
        with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0, compresslevel=9) as gz:
            gz.write(bytes(self._bits))
        return base64.b64encode(buf.getvalue()).decode("ascii")

    @classmethod
    def decode(cls, text: str, entries: int) -> "Bitstring":
        """Inverse of encode(); bounded inflation, bilingual errors for anything malformed."""
        try:
            raw = base64.b64decode(text, validate=True)
            d = zlib.decompressobj(16 + zlib.MAX_WBITS)
            data = d.decompress(raw, MAX_DECODED_BYTES)
            if d.unconsumed_tail or not d.eof:
                raise ValueError("truncated or too large")
        except (ValueError, TypeError, zlib.error) as exc:
            raise StatusListError(f"malformed encoded status list: {exc}",
                                  "状态列表编码格式错误") from None
        return cls(entries, data)

"""Embedded font programs for OFD pages: the PDF renderer's subsets plus a character map.

Why a cmap: a PDF page names glyphs (CIDs, CIDToGIDMap /Identity) and so its subsets carry none,
but an OFD TextCode holds Unicode text and the reader finds each glyph through the font's own
cmap.  The subset keeps the PDF page's glyph numbering (glyph n of the subset is CID n of the
page's `FontUse`), so the cmap is that numbering read backwards; `name` and `OS/2` are copied from
the font file and `post` is written as version 3 (no glyph names: the subset renumbers glyphs).
"""

from __future__ import annotations

import functools
import struct

from signing.render import fonts
from signing.render.pdfdoc import FontUse

_POST_V3 = struct.pack(">IIhhIIIII", 0x00030000, 0, -75, 50, 0, 0, 0, 0, 0)
_CACHE: dict[tuple, bytes] = {}
_CACHE_MAX = 64


def program(use: FontUse) -> bytes:
    """A TrueType file with the glyphs `use` has numbered, mapped from their characters."""
    key = (use.font.name, tuple(use.gids), tuple(use.chars))
    hit = _CACHE.get(key)
    if hit is not None:
        return hit
    f = use.font
    closed = f.closure(use.gids, len(use.base.gids) if use.base is not None else 0)
    extra = {b"cmap": _cmap({ord(ch): cid for cid, ch in enumerate(use.chars)
                             if len(ch) == 1 and ord(ch) < 0xFFFF}),
             b"post": _POST_V3, **_copied(f.name)}
    front, base, rest = f.subset(closed, use.base, extra)
    data = front + (base.glyf if base is not None else b"") + rest
    if use.base is not None and len(use.gids) == len(use.base.gids):  # the template's glyphs only
        _CACHE[key] = data
        while len(_CACHE) > _CACHE_MAX:
            _CACHE.pop(next(iter(_CACHE)))
    return data


@functools.lru_cache(maxsize=4)
def _copied(name: str) -> dict[bytes, bytes]:
    """The `name` and `OS/2` tables of the font file, as they are."""
    data = fonts.PATHS[name].read_bytes()
    count = struct.unpack_from(">H", data, 4)[0]
    out = {}
    for i in range(count):
        tag, _, offset, length = struct.unpack_from(">4sIII", data, 12 + 16 * i)
        if tag in (b"name", b"OS/2"):
            out[tag] = data[offset:offset + length]
    return out


def _cmap(mapping: dict[int, int]) -> bytes:
    """A cmap with one format 4 subtable (Unicode BMP, platform 3 encoding 1 and platform 0),
    one segment per run of consecutive characters with consecutive glyphs."""
    segments: list[list[int]] = []  # [start, end, delta]
    for code in sorted(mapping):
        delta = (mapping[code] - code) % 0x10000
        if segments and segments[-1][1] == code - 1 and segments[-1][2] == delta:
            segments[-1][1] = code
        else:
            segments.append([code, code, delta])
    segments.append([0xFFFF, 0xFFFF, 1])
    n = len(segments)
    power = 1 << (n.bit_length() - 1)
    body = struct.pack(f">HHHH{n}H", 2 * n, 2 * power, power.bit_length() - 1, 2 * n - 2 * power,
                       *(s[1] for s in segments))
    body += struct.pack(f">H{n}H{n}H{n}H", 0, *(s[0] for s in segments),
                        *(s[2] for s in segments), *([0] * n))
    sub = struct.pack(">HHH", 4, 6 + len(body), 0) + body
    return struct.pack(">HHHHIHHI", 0, 2, 0, 3, 20, 3, 1, 20) + sub

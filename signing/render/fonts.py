"""Fonts for licence pages: Droid Sans Fallback for Chinese, Bitstream Vera for Latin text.

Droid Sans Fallback (bundled, Apache-2.0) carries the CJK glyphs but no Latin letters or digits,
so text is drawn in runs: ASCII and Latin-1 in Vera (shipped inside reportlab), the rest in
Droid.  Neither has a bold weight embedded here: the page thickens labels with an outline stroke
instead of embedding a third font.

Both are embedded per page as subsets of just the glyphs the page uses (`TrueTypeFont.subset`),
for PDF CIDFontType2 fonts with CID = glyph index.  Why our own subsetter: the page is on the
issuance hot path, and a general one (reportlab's, fontTools') re-reads tables per document and
costs several milliseconds; here the 4 MB font is parsed once per process (reportlab's
`TTFontFile` reads the metrics and cmap), each glyph's bytes and composite references are cached,
and a subset is a few `struct.pack` calls.  Droid builds half its CJK glyphs from components
(radicals), so a subset includes the components and renumbers their references.

Everything here is immutable after loading and safe to share between threads.
"""

from __future__ import annotations

import functools
import hashlib
import struct
from dataclasses import dataclass
from pathlib import Path

import reportlab
from reportlab.pdfbase.ttfonts import TTFontFile

from formats.errors import SigningError

CJK = "LicenceCJK"
LATIN = "LicenceLatin"
CJK_PATH = Path(__file__).resolve().parent / "fonts" / "DroidSansFallbackFull.ttf"
_RL_FONTS = Path(reportlab.__file__).resolve().parent / "fonts"
LATIN_PATH = _RL_FONTS / "Vera.ttf"
PATHS = {CJK: CJK_PATH, LATIN: LATIN_PATH}

# Tables a CIDFontType2 program needs (ISO 32000-1 §9.9; cmap is not used with CIDToGIDMap).
_COPIED = (b"cvt ", b"fpgm", b"prep")
_ARG_WORDS, _SCALE, _MORE, _XY_SCALE, _TWO_BY_TWO = 0x1, 0x8, 0x20, 0x40, 0x80


class FontError(SigningError):
    code = "font-missing"


def _checksum(data: bytes) -> int:
    if len(data) % 4:
        data += b"\0" * (4 - len(data) % 4)
    return sum(struct.unpack(f">{len(data) // 4}I", data)) & 0xFFFFFFFF


class TrueTypeFont:
    """One parsed TrueType file: metrics for layout and glyph data for subsets."""

    def __init__(self, name: str, path: Path):
        if not path.exists():
            raise FontError(f"font file missing: {path}", f"缺少字体文件：{path}")
        ttf = TTFontFile(str(path))
        self.name = name
        self.base_name = ttf.name.decode("latin-1") if isinstance(ttf.name, bytes) else str(ttf.name)
        data = ttf._ttf_data
        self._data = data
        tables = {t.encode("latin-1") if isinstance(t, str) else t: v for t, v in ttf.table.items()}
        self._glyf_at = tables[b"glyf"]["offset"]
        self._raw = {tag: data[tables[tag]["offset"]:tables[tag]["offset"] + tables[tag]["length"]]
                     for tag in (b"head", b"hhea", b"maxp", *_COPIED) if tag in tables}
        self._pos = ttf.glyphPos
        self._hmetrics = _hmetrics(data, tables, len(ttf.glyphPos) - 1)
        self.cmap: dict[int, int] = dict(ttf.charToGlyph)
        scale = 1000.0 / ttf.unitsPerEm
        # Advance widths in 1/1000 em per glyph and per character, as reportlab measured them.
        self.glyph_widths = [aw * scale for aw, _ in self._hmetrics]
        self.char_widths: dict[int, float] = dict(ttf.charWidths)
        self.default_width = ttf.defaultWidth
        self.bbox = [round(v) for v in ttf.bbox]
        self.ascent, self.descent = round(ttf.ascent), round(ttf.descent)
        self.cap_height, self.stem_v = round(ttf.capHeight), ttf.stemV
        self.italic_angle, self.flags = ttf.italicAngle, ttf.flags
        self._glyphs: dict[int, tuple[bytes, tuple[tuple[int, int], ...]]] = {}

    def glyph(self, gid: int) -> tuple[bytes, tuple[tuple[int, int], ...]]:
        """(glyf bytes, ((offset of a component index in them, component gid), ...))."""
        cached = self._glyphs.get(gid)
        if cached is None:
            start, end = self._pos[gid], self._pos[gid + 1]
            raw = self._data[self._glyf_at + start:self._glyf_at + end]
            cached = self._glyphs[gid] = (raw, _components(raw))
        return cached

    def closure(self, gids, done: int = 0) -> list[int]:
        """`gids` (in order, without duplicates) followed by every component they need;
        `gids[:done]` are known to be closed already."""
        out, seen = list(gids), set(gids)
        i = done
        while i < len(out):
            for _, comp in self.glyph(out[i])[1]:
                if comp not in seen:
                    seen.add(comp)
                    out.append(comp)
            i += 1
        return out

    def _glyf(self, gids, new: dict[int, int], offset: int):
        """glyf bytes of `gids` renumbered by `new`, their loca offsets from `offset`, hmtx."""
        glyf, loca, hmtx = [], [], []
        for old in gids:
            raw, comps = self.glyph(old)
            if comps:
                b = bytearray(raw)
                for at, comp in comps:
                    struct.pack_into(">H", b, at, new[comp])
                raw = bytes(b)
            if len(raw) % 4:
                raw += b"\0" * (4 - len(raw) % 4)
            loca.append(offset)
            glyf.append(raw)
            offset += len(raw)
            hmtx.append(self._hmetrics[old])
        return b"".join(glyf), loca, hmtx

    def base(self, gids) -> "SubsetBase":
        """The first glyphs of many subsets (a template's fixed texts), prepared once."""
        gids = tuple(self.closure(gids))
        glyf, loca, hmtx = self._glyf(gids, {old: n for n, old in enumerate(gids)}, 0)
        return SubsetBase(gids, glyf, tuple(loca), tuple(hmtx), _checksum(glyf))

    def subset(self, gids: list[int], base: "SubsetBase | None" = None,
               extra: dict[bytes, bytes] | None = None):
        """A TrueType program whose glyph n is the original glyph `gids[n]` (gids[0] must be 0,
        .notdef); composite references are renumbered, so `gids` must be closed (`closure`).
        With `base`, `gids` starts with `base.gids` and only the rest is processed.  `extra`:
        more tables (an OFD reader needs a cmap, which a PDF CIDFontType2 does without).

        Returns (front, base, rest): the program is front + base.glyf + rest, the glyf table
        last in the file so a caller can reuse a compressed `base.glyf` (pdfdoc.flate)."""
        new = {old: n for n, old in enumerate(gids)}
        done = len(base.gids) if base is not None else 0
        offset = len(base.glyf) if base is not None else 0
        rest, loca, hmtx = self._glyf(gids[done:], new, offset)
        if base is not None:
            loca = [*base.loca, *loca]
            hmtx = [*base.hmtx, *hmtx]
        loca.append(offset + len(rest))
        n = len(gids)
        head = bytearray(self._raw[b"head"])
        struct.pack_into(">I", head, 8, 0)  # checkSumAdjustment, set in _front
        struct.pack_into(">h", head, 50, 1)  # long loca
        hhea = bytearray(self._raw[b"hhea"])
        struct.pack_into(">H", hhea, 34, n)
        maxp = bytearray(self._raw[b"maxp"])
        struct.pack_into(">H", maxp, 4, n)
        tables = {
            b"head": bytes(head),
            b"hhea": bytes(hhea),
            b"hmtx": struct.pack(f">{2 * n}H", *(v for m in hmtx for v in m)),
            b"loca": struct.pack(f">{n + 1}I", *loca),
            b"maxp": bytes(maxp),
            **{t: self._raw[t] for t in _COPIED if t in self._raw},
            **(extra or {}),
        }
        glyf_sum = _checksum(rest) + (base.glyf_sum if base is not None else 0)
        return _front(tables, offset + len(rest), glyf_sum), base, rest


@dataclass(frozen=True)
class SubsetBase:
    gids: tuple[int, ...]  # closed under composite references
    glyf: bytes  # those glyphs numbered 0..n-1, each padded to 4 bytes
    loca: tuple[int, ...]
    hmtx: tuple[tuple[int, int], ...]
    glyf_sum: int


def _hmetrics(data: bytes, tables: dict, n: int) -> list[tuple[int, int]]:
    """(advance, left side bearing) per glyph as stored (the last advance repeats, per spec)."""
    long = struct.unpack_from(">H", data, tables[b"hhea"]["offset"] + 34)[0]
    at = tables[b"hmtx"]["offset"]
    pairs = list(zip(*[iter(struct.unpack_from(f">{2 * long}H", data, at))] * 2))
    last = pairs[-1][0]
    pairs.extend((last, lsb) for lsb in struct.unpack_from(f">{n - long}H", data, at + 4 * long))
    return pairs


def _components(raw: bytes) -> tuple[tuple[int, int], ...]:
    if len(raw) < 10 or struct.unpack_from(">h", raw, 0)[0] >= 0:
        return ()
    out, pos = [], 10
    while True:
        flags, comp = struct.unpack_from(">HH", raw, pos)
        out.append((pos + 2, comp))
        pos += 4 + (4 if flags & _ARG_WORDS else 2)
        pos += 2 if flags & _SCALE else 4 if flags & _XY_SCALE else 8 if flags & _TWO_BY_TWO else 0
        if not flags & _MORE:
            return tuple(out)


def _front(tables: dict[bytes, bytes], glyf_length: int, glyf_sum: int) -> bytes:
    """An sfnt file up to its glyf table, which comes last (length and checksum given): the
    directory sorted by tag, tables 4-byte aligned, checksums and head.checkSumAdjustment as
    the OpenType spec has them."""
    tags = sorted([*tables, b"glyf"])
    n = len(tags)
    power = 1 << (n.bit_length() - 1)
    header = struct.pack(">IHHHH", 0x00010000, n, power * 16, power.bit_length() - 1,
                         n * 16 - power * 16)
    offset = 12 + 16 * n
    placed = {}
    body = []
    for tag in sorted(tables):
        data = tables[tag]
        placed[tag] = (_checksum(data), offset, len(data))
        body.append(data + b"\0" * (-len(data) % 4))
        offset += len(body[-1])
    placed[b"glyf"] = (glyf_sum & 0xFFFFFFFF, offset, glyf_length)
    directory = b"".join(struct.pack(">4sIII", tag, *placed[tag]) for tag in tags)
    total = _checksum(header + directory) + sum(c for c, _, _ in placed.values())
    front = bytearray(header + directory + b"".join(body))
    struct.pack_into(">I", front, placed[b"head"][1] + 8, (0xB1B0AFBA - total) & 0xFFFFFFFF)
    return bytes(front)


@functools.lru_cache(maxsize=1)
def _fonts() -> dict[str, TrueTypeFont]:
    return {name: TrueTypeFont(name, path) for name, path in PATHS.items()}


def register() -> None:
    """Parse the fonts once per process (~0.2 s); later calls are free."""
    _fonts()


def font(name: str) -> TrueTypeFont:
    return _fonts()[name]


def _is_latin(ch: str) -> bool:
    """Latin-1 always goes to Vera; beyond it, Vera only for what Droid lacks (e.g. “ ”)."""
    code = ord(ch)
    if code < 0x100:
        return True
    f = _fonts()
    return code not in f[CJK].cmap and code in f[LATIN].cmap


@functools.lru_cache(maxsize=4096)
def runs(text: str) -> tuple[tuple[str, str], ...]:
    """Split text into (font name, substring) runs (cached: labels repeat on every page)."""
    out: list[tuple[str, str]] = []
    for ch in text:
        name = LATIN if _is_latin(ch) else CJK
        if out and out[-1][0] == name:
            out[-1] = (name, out[-1][1] + ch)
        else:
            out.append((name, ch))
    return tuple(out)


@functools.lru_cache(maxsize=8192)
def _char_width(ch: str) -> float:
    f = font(LATIN if _is_latin(ch) else CJK)
    return f.char_widths.get(ord(ch), f.default_width)


def width(text: str, size: float) -> float:
    """Advance width of `text` at `size` points (no character spacing)."""
    return sum(map(_char_width, text)) * size / 1000.0


def subset_tag(gids) -> str:
    """Six capital letters naming a subset (ISO 32000-1 §9.6.4), from its glyph list."""
    digest = hashlib.sha1(struct.pack(f">{len(gids)}H", *gids)).digest()
    return "".join(chr(65 + b % 26) for b in digest[:6])

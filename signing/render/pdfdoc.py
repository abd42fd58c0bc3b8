"""The few PDF objects a licence page needs, written directly (ISO 32000-1).

Why not a general PDF library: a page is one of the costs of every issuance, and a general
writer (reportlab's canvas) spends most of its time formatting and re-compressing things that
are the same on every licence.  This module writes numbered objects, flate streams (or streams
compressed once and reused), Type0/CIDFontType2 fonts with ToUnicode maps, images and a classic
cross-reference table — the same object kinds reportlab wrote, in a structure poppler, pdf.js,
Acrobat, qpdf and pyHanko read.
"""

from __future__ import annotations

import zlib
from typing import Iterable

from signing.render.fonts import TrueTypeFont, subset_tag

FONT_LEVEL = 1  # glyph outlines barely compress past level 1 (about 15 % more bytes, 5x faster)
CONTENT_LEVEL = 6


def num(x: float) -> str:
    """A PDF number: integers bare, others with at most 4 decimals."""
    if x == int(x):
        return str(int(x))
    return f"{x:.4f}".rstrip("0").rstrip(".")


def text_string(s: str) -> bytes:
    """A PDF text string: literal for printable ASCII, UTF-16BE with BOM otherwise."""
    if s.isascii() and s.isprintable():
        return b"(" + s.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)").encode() + b")"
    return b"<feff" + s.encode("utf-16-be").hex().encode() + b">"


class PdfDocument:
    """Objects are numbered as they are added; `write` lays them out with a classic xref."""

    def __init__(self):
        self._bodies: list[bytes | None] = []

    def reserve(self) -> int:
        self._bodies.append(None)
        return len(self._bodies)

    def put(self, number: int, body: bytes) -> int:
        self._bodies[number - 1] = body
        return number

    def add(self, body: bytes) -> int:
        self._bodies.append(body)
        return len(self._bodies)

    def stream(self, data: bytes, entries: bytes = b"", *, level: int | None = CONTENT_LEVEL,
               compressed: bytes | None = None) -> int:
        """A stream object; `compressed` is data already flate-encoded (a cached part)."""
        if compressed is None and level is not None:
            compressed = zlib.compress(data, level)
        if compressed is not None:
            entries += b"/Filter/FlateDecode"
            data = compressed
        return self.add(b"<<" + entries + b"/Length " + str(len(data)).encode() + b">>stream\n"
                        + data + b"\nendstream")

    def write(self, root: int, info: int, file_id: bytes) -> bytes:
        out = [b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"]
        offsets = []
        pos = len(out[0])
        for i, body in enumerate(self._bodies, 1):
            if body is None:
                raise ValueError(f"PDF object {i} reserved but never written")
            chunk = b"%d 0 obj\n" % i + body + b"\nendobj\n"
            offsets.append(pos)
            out.append(chunk)
            pos += len(chunk)
        size = len(self._bodies) + 1
        xref = [b"xref\n0 %d\n0000000000 65535 f \n" % size]
        xref.extend(b"%010d 00000 n \n" % o for o in offsets)
        hexid = file_id.hex().encode()
        out.extend(xref)
        out.append(b"trailer\n<</Size %d/Root %d 0 R/Info %d 0 R/ID[<%s><%s>]>>\nstartxref\n%d\n%%%%EOF\n"
                   % (size, root, info, hexid, hexid, pos))
        return b"".join(out)


class FontUse:
    """The glyphs of one font used on one page, numbered as they first appear: CID n is glyph n
    of the page's subset (CIDToGIDMap /Identity), so text can be encoded in one pass."""

    __slots__ = ("font", "gid_to_cid", "gids", "chars")

    def __init__(self, font: TrueTypeFont):
        self.font = font
        self.gid_to_cid = {0: 0}
        self.gids = [0]
        self.chars = [""]

    def copy(self) -> "FontUse":
        c = FontUse.__new__(FontUse)
        c.font, c.gid_to_cid, c.gids, c.chars = self.font, dict(self.gid_to_cid), list(self.gids), list(self.chars)
        return c

    def encode(self, text: str) -> str:
        """Hex of the 2-byte codes (Identity-H) for `text`."""
        cmap, gid_to_cid = self.font.cmap, self.gid_to_cid
        out = []
        for ch in text:
            gid = cmap.get(ord(ch), 0)
            cid = gid_to_cid.get(gid)
            if cid is None:
                cid = gid_to_cid[gid] = len(self.gids)
                self.gids.append(gid)
                self.chars.append(ch)
            out.append(f"{cid:04x}")
        return "".join(out)

    @property
    def used(self) -> bool:
        return len(self.gids) > 1

    def embed(self, doc: PdfDocument) -> int:
        """Type0 font → CIDFontType2 → descriptor → subset program + ToUnicode; returns the
        Type0 font's object number."""
        f = self.font
        closed = f.closure(self.gids)
        program = f.subset(closed)
        name = f"{subset_tag(closed)}+{f.base_name}".encode()
        file_obj = doc.stream(program, b"/Length1 %d" % len(program), level=FONT_LEVEL)
        descriptor = doc.add(
            b"<</Type/FontDescriptor/FontName/" + name
            + b"/Flags %d/FontBBox[%s]/ItalicAngle %s/Ascent %d/Descent %d/CapHeight %d/StemV %d"
            % (f.flags, " ".join(map(str, f.bbox)).encode(), num(f.italic_angle).encode(),
               f.ascent, f.descent, f.cap_height, f.stem_v)
            + b"/FontFile2 %d 0 R>>" % file_obj)
        widths = " ".join(num(round(f.glyph_widths[g], 3)) for g in self.gids[1:]).encode()
        cid_font = doc.add(
            b"<</Type/Font/Subtype/CIDFontType2/BaseFont/" + name
            + b"/CIDSystemInfo<</Registry(Adobe)/Ordering(Identity)/Supplement 0>>"
            + b"/FontDescriptor %d 0 R/DW %s/W[1[%s]]/CIDToGIDMap/Identity>>"
            % (descriptor, num(round(f.glyph_widths[0], 3)).encode(), widths))
        to_unicode = doc.stream(_to_unicode(self.chars))
        return doc.add(b"<</Type/Font/Subtype/Type0/BaseFont/" + name
                       + b"/Encoding/Identity-H/DescendantFonts[%d 0 R]/ToUnicode %d 0 R>>"
                       % (cid_font, to_unicode))


def _to_unicode(chars: list[str]) -> bytes:
    entries = [f"<{cid:04x}><{ch.encode('utf-16-be').hex()}>" for cid, ch in enumerate(chars) if ch]
    blocks = []
    for i in range(0, len(entries), 100):
        part = entries[i:i + 100]
        blocks.append(f"{len(part)} beginbfchar\n" + "\n".join(part) + "\nendbfchar")
    return ("/CIDInit/ProcSet findresource begin\n12 dict begin\nbegincmap\n"
            "/CIDSystemInfo<</Registry(Adobe)/Ordering(UCS)/Supplement 0>>def\n"
            "/CMapName/Adobe-Identity-UCS def\n/CMapType 2 def\n"
            "1 begincodespacerange\n<0000><ffff>\nendcodespacerange\n"
            + "\n".join(blocks)
            + "\nendcmap\nCMapName currentdict/CMap defineresource pop\nend\nend").encode()


def dictionary(pairs: Iterable[tuple[str, bytes]]) -> bytes:
    return b"<<" + b"".join(b"/" + k.encode() + b" " + v for k, v in pairs) + b">>"

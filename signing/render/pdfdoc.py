"""The few PDF objects a licence page needs, written directly (ISO 32000-1).

Why not a general PDF library: a page is one of the costs of every issuance, and a general
writer (reportlab's canvas) spends most of its time formatting and re-compressing things that
are the same on every licence.  This module writes numbered objects, flate streams (or streams
compressed once and reused), Type0/CIDFontType2 fonts with ToUnicode maps, images and a classic
cross-reference table — the same object kinds reportlab wrote, in a structure poppler, pdf.js,
Acrobat, qpdf and pyHanko read.
"""

from __future__ import annotations

import struct
import zlib

from signing.pdf_syntax import num
from signing.render.fonts import SubsetBase, TrueTypeFont, subset_tag

# zlib levels: past level 1, glyph outlines shrink ~6 % more and a QR's rectangles ~25 % more
# (4.5 KB instead of 5.9 KB), at 5-7x the time — a millisecond per page on the issuance path.
FONT_LEVEL = 1
CONTENT_LEVEL = 1


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
    of the page's subset (CIDToGIDMap /Identity), so text can be encoded in one pass.

    A template's fixed texts are encoded first, once (`freeze`); every page continues from
    that numbering, so those glyphs' outlines are renumbered and compressed once per template,
    and a page whose text needs nothing more (Latin text in ASCII, usually) reuses the whole
    embedded font."""

    __slots__ = ("font", "gid_to_cid", "gids", "chars", "base", "deflated", "prefix")

    def __init__(self, font: TrueTypeFont):
        self.font = font
        self.gid_to_cid = {0: 0}
        self.gids = [0]
        self.chars = [""]
        self.base: SubsetBase | None = None
        self.deflated = b""
        self.prefix: tuple[list[str], list[str]] = ([], [])  # W and ToUnicode entries of `base`

    def copy(self) -> "FontUse":
        c = FontUse.__new__(FontUse)
        c.font, c.base, c.deflated, c.prefix = self.font, self.base, self.deflated, self.prefix
        c.gid_to_cid, c.gids, c.chars = dict(self.gid_to_cid), list(self.gids), list(self.chars)
        return c

    def freeze(self) -> None:
        """Close the glyphs so far under composite references (the components get CIDs no text
        uses) and prepare them as the first part of every later subset."""
        for gid in self.font.closure(self.gids)[len(self.gids):]:
            self.gid_to_cid[gid] = len(self.gids)
            self.gids.append(gid)
            self.chars.append("")
        self.base = self.font.base(self.gids)
        self.deflated = deflate_segment(self.base.glyf)
        self.prefix = (_widths(self.font, self.gids, 1), _bfchars(self.chars, 0))

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
        return any(self.chars)

    def embed(self, doc: PdfDocument) -> int:
        """Type0 font → CIDFontType2 → descriptor → subset program + ToUnicode; returns the
        Type0 font's object number."""
        key = (self.font.name, tuple(self.gids), tuple(self.chars))
        parts = _EMBEDDED.get(key)
        if parts is None:
            parts = self._parts()
            if self.base is not None and len(self.gids) == len(self.base.gids):
                _EMBEDDED[key] = parts  # nothing beyond the template's glyphs: reusable
                while len(_EMBEDDED) > 64:
                    _EMBEDDED.pop(next(iter(_EMBEDDED)))
        name, length1, program, descriptor, cid_font, to_unicode = parts
        file_obj = doc.add(b"<</Length1 %d/Filter/FlateDecode/Length %d>>stream\n"
                           % (length1, len(program)) + program + b"\nendstream")
        desc_obj = doc.add(descriptor + b"/FontFile2 %d 0 R>>" % file_obj)
        cid_obj = doc.add(cid_font % desc_obj)
        tu_obj = doc.add(b"<</Filter/FlateDecode/Length %d>>stream\n" % len(to_unicode) + to_unicode
                         + b"\nendstream")
        return doc.add(b"<</Type/Font/Subtype/Type0/BaseFont/" + name
                       + b"/Encoding/Identity-H/DescendantFonts[%d 0 R]/ToUnicode %d 0 R>>"
                       % (cid_obj, tu_obj))

    def _parts(self):
        f = self.font
        closed = f.closure(self.gids, len(self.base.gids) if self.base is not None else 0)
        front, base, rest = f.subset(closed, self.base)
        segments = [front] + ([(base.glyf, self.deflated)] if base is not None else []) + [rest]
        program = flate(segments)
        length1 = len(front) + (len(base.glyf) if base is not None else 0) + len(rest)
        name = f"{subset_tag(closed)}+{f.base_name}".encode()
        descriptor = (b"<</Type/FontDescriptor/FontName/" + name
                      + b"/Flags %d/FontBBox[%s]/ItalicAngle %s/Ascent %d/Descent %d/CapHeight %d"
                      b"/StemV %d" % (f.flags, " ".join(map(str, f.bbox)).encode(),
                                      num(f.italic_angle).encode(), f.ascent, f.descent,
                                      f.cap_height, f.stem_v))
        done = len(self.base.gids) if self.base is not None else 1
        w_prefix, u_prefix = self.prefix if self.base is not None else ([], [])
        widths = " ".join(w_prefix + _widths(f, self.gids, done)).encode()
        cid_font = (b"<</Type/Font/Subtype/CIDFontType2/BaseFont/" + name
                    + b"/CIDSystemInfo<</Registry(Adobe)/Ordering(Identity)/Supplement 0>>"
                    + b"/FontDescriptor %d 0 R/DW " + num(round(f.glyph_widths[0], 3)).encode()
                    + b"/W[1[" + widths.replace(b"%", b"%%") + b"]]/CIDToGIDMap/Identity>>")
        to_unicode = zlib.compress(_to_unicode(u_prefix + _bfchars(self.chars, done)), CONTENT_LEVEL)
        return name, length1, program, descriptor, cid_font, to_unicode


_EMBEDDED: dict[tuple, tuple] = {}


def deflate_segment(data: bytes, level: int = 9) -> bytes:
    """Raw deflate of `data` ending on a byte boundary without the final-block flag: a piece
    `flate` can splice between others (how pigz compresses in parallel).  Made once per
    template, so it can afford the best level."""
    c = zlib.compressobj(level, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush(zlib.Z_SYNC_FLUSH)


def flate(segments) -> bytes:
    """A zlib stream (FlateDecode) of the concatenated segments; a segment is bytes to compress
    here or a (bytes, deflate_segment(bytes)) pair compressed earlier.  The last must be bytes."""
    out, adler = [b"\x78\x01"], 1
    for i, seg in enumerate(segments):
        if isinstance(seg, tuple):
            raw, deflated = seg
        else:
            raw = seg
            c = zlib.compressobj(FONT_LEVEL, zlib.DEFLATED, -15)
            last = i == len(segments) - 1
            deflated = c.compress(raw) + c.flush(zlib.Z_FINISH if last else zlib.Z_SYNC_FLUSH)
        adler = zlib.adler32(raw, adler)
        out.append(deflated)
    out.append(struct.pack(">I", adler))
    return b"".join(out)


def _widths(font: TrueTypeFont, gids: list[int], start: int) -> list[str]:
    return [num(round(font.glyph_widths[g], 3)) for g in gids[start:]]


def _bfchars(chars: list[str], start: int) -> list[str]:
    return [f"<{cid:04x}><{ch.encode('utf-16-be').hex()}>"
            for cid, ch in enumerate(chars[start:], start) if ch]


def _to_unicode(entries: list[str]) -> bytes:
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

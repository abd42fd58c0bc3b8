"""A licence page as OFD page content, translated from the very drawing the PDF is made from.

Why a translation instead of a second renderer: `signing.render.pdf` already turns a template's
layout.json into page-description operators (text runs, paths, the QR's rectangles, pictures),
and it is the one place that knows the layout.  `draw_licence` hands those operators over before
they become PDF, and this module reads the small operator set that renderer writes (q Q cm w RG
rg G g m l c h re S f B, BT Tr Tc Tm Tf Tj ET, Do) and writes the same marks as OFD objects
(GB/T 33190 §9–§13): millimetres from the top-left corner instead of points from the
bottom-left, colours 0–255, one TextObject per font run with the glyph advances (DeltaX) the PDF
uses.  The template's fixed part is translated once per layout, like the PDF's static stream.
"""

from __future__ import annotations

import functools
import io
import json
import re
import threading
import zlib
from collections import OrderedDict
from dataclasses import dataclass
from typing import Mapping

from signing.render import fonts
from signing.render.pdf import MM, draw_licence

FONT_IDS = {"F1": 1, "F2": 2}                     # page font resource → OFD font ID
FONT_NAMES = {"F1": fonts.CJK, "F2": fonts.LATIN}
FIRST_OBJECT_ID = 10
_QR_HEAD = re.compile(r"q 0 g ([0-9.]+) 0 0 -\1 ([-0-9.]+) ([-0-9.]+) cm\n")
_QR_RUN = re.compile(r"^(\d+) (\d+) (\d+) 1\.02 re$", re.M)
# Every operator the licence renderer writes; any other token is an operand.
_OPERATORS = frozenset("q Q cm w RG rg G g m l c h re S f B BT Tr Tc Tm Tf Tj ET Do".split())


@functools.lru_cache(maxsize=8192)
def mm(v: float) -> str:
    """A length in mm as OFD writes it (3 decimals, no trailing zeros).  Cached: a QR code's
    thousands of rectangles share a few hundred grid coordinates."""
    text = f"{v:.3f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


@dataclass
class Image:
    id: int
    file_name: str          # under the document's Res/
    data: bytes
    format: str             # PNG | JPEG


@dataclass
class PageContent:
    width_mm: float
    height_mm: float
    xml: str                # the objects, to go inside one <ofd:Layer>
    uses: dict              # "F1"/"F2" → signing.render.pdfdoc.FontUse: glyphs to embed
    images: list[Image]
    next_id: int


class _State:
    __slots__ = ("ctm", "fill", "stroke", "width")

    def __init__(self):
        self.ctm = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)
        self.fill = "0 0 0"
        self.stroke = "0 0 0"
        self.width = 1.0

    def copy(self) -> "_State":
        s = _State()
        s.ctm, s.fill, s.stroke, s.width = self.ctm, self.fill, self.stroke, self.width
        return s


def _color(values: list[str]) -> str:
    return " ".join(str(round(float(v) * 255)) for v in values)


class _Translator:
    """Reads operators (the renderer's, never a stranger's) and writes OFD objects."""

    def __init__(self, height_pt: float, uses: Mapping, next_id: int):
        self.h = height_pt
        self.uses = uses
        self.next_id = next_id
        self.out: list[str] = []
        self.images: dict[str, tuple[float, float, float, float]] = {}  # name → box (mm)

    def _id(self) -> int:
        self.next_id += 1
        return self.next_id - 1

    def _point(self, st: _State, x: float, y: float) -> str:
        a, b, c, d, e, f = st.ctm
        px, py = a * x + c * y + e, b * x + d * y + f
        return f"{mm(px / MM)} {mm((self.h - py) / MM)}"

    def _rect(self, st: _State, x: float, y: float, w: float, hh: float) -> str:
        a, b, c, d, e, f = st.ctm
        if b or c:
            return (f"M {self._point(st, x, y)} L {self._point(st, x + w, y)} "
                    f"L {self._point(st, x + w, y + hh)} L {self._point(st, x, y + hh)} C")
        x0, x1 = mm((a * x + e) / MM), mm((a * (x + w) + e) / MM)
        y0, y1 = mm((self.h - d * y - f) / MM), mm((self.h - d * (y + hh) - f) / MM)
        return f"M {x0} {y0} L {x1} {y0} L {x1} {y1} L {x0} {y1} C"

    def run(self, text: str, boundary: str) -> None:
        self.boundary = boundary
        st, stack, args, path, path_ctm = _State(), [], [], [], None
        tf = {"font": "F1", "size": 12.0, "tc": 0.0, "tr": 0, "x": 0.0, "y": 0.0}
        for op in text.split():
            if op not in _OPERATORS:
                args.append(op)
                continue
            if op == "re":  # first: a QR code is ~1,500 of them
                if st.ctm[1] or st.ctm[2] or (st.ctm[0], st.ctm[3]) == (1.0, 1.0):
                    path.append(self._rect(st, *map(float, args)))
                else:  # a scaled grid (the QR): kept in its own units, under the path's CTM
                    x, y, w, hh = map(float, args)
                    x0, x1, y0, y1 = mm(x), mm(x + w), mm(y), mm(y + hh)
                    path.append(f"M {x0} {y0} L {x1} {y0} L {x1} {y1} L {x0} {y1} C")
                    path_ctm = st.ctm
            elif op == "q":
                stack.append(st.copy())
            elif op == "Q":
                st = stack.pop() if stack else _State()
            elif op == "cm":
                a, b, c, d, e, f = map(float, args)
                A, B, C, D, E, F = st.ctm
                st.ctm = (a * A + b * C, a * B + b * D, c * A + d * C, c * B + d * D,
                          e * A + f * C + E, e * B + f * D + F)
            elif op == "w":
                st.width = float(args[0])
            elif op == "RG":
                st.stroke = _color(args)
            elif op == "rg":
                st.fill = _color(args)
            elif op == "G":
                st.stroke = _color(args * 3)
            elif op == "g":
                st.fill = _color(args * 3)
            elif op == "m":
                path.append("M " + self._point(st, float(args[0]), float(args[1])))
            elif op == "l":
                path.append("L " + self._point(st, float(args[0]), float(args[1])))
            elif op == "c":
                v = list(map(float, args))
                path.append("B " + " ".join(self._point(st, v[i], v[i + 1]) for i in (0, 2, 4)))
            elif op == "h":
                path.append("C")
            elif op in ("S", "f", "B"):
                self._path(st, path, stroke=op in ("S", "B"), fill=op in ("f", "B"),
                           ctm=path_ctm)
                path, path_ctm = [], None
            elif op == "BT":
                tf["x"] = tf["y"] = 0.0
            elif op == "Tr":
                tf["tr"] = int(args[0])
            elif op == "Tc":
                tf["tc"] = float(args[0])
            elif op == "Tm":
                tf["x"], tf["y"] = float(args[4]), float(args[5])
            elif op == "Tf":
                tf["font"], tf["size"] = args[0][1:], float(args[1])
            elif op == "Tj":
                self._text(st, tf, args[0][1:-1])
            elif op == "Do":
                self._image(st, args[0][1:])
            args = []
        return None

    def qr(self, chunk: str) -> bool:
        """The renderer's QR step (`signing.render.pdf._qr`: a scaled grid, then one "col row
        length 1.02 re" per run of dark modules, then "f Q") as one filled PathObject in module
        units under a CTM — the hot spot of a page, so read with one regular expression.
        False (nothing written) for any other chunk."""
        head = _QR_HEAD.match(chunk)
        if head is None:
            return False
        runs = _QR_RUN.findall(chunk, head.end())
        if chunk.count("\n") != len(runs) + 1 or not chunk.endswith("\nf Q"):
            return False
        m, e, f = (float(v) for v in head.groups())
        # Runs with the same columns in consecutive rows become one taller rectangle: a third
        # fewer rectangles, so less XML to write, hash, deflate and read.
        tall: list[list[int]] = []          # [column, row, length, rows]
        open_runs: dict[tuple[int, int], list[int]] = {}
        for c, r, n in runs:
            c, r, n = int(c), int(r), int(n)
            above = open_runs.get((c, n))
            if above is not None and above[1] + above[3] == r:
                above[3] += 1
            else:
                open_runs[(c, n)] = rect = [c, r, n, 1]
                tall.append(rect)
        parts = [f"M {c} {r} L {c + n} {r} L {c + n} {r + k}.02 L {c} {r + k}.02 C"
                 for c, r, n, k in tall]
        st = _State()
        st.fill = "0 0 0"
        self._path(st, parts, stroke=False, fill=True, ctm=(m, 0.0, 0.0, -m, e, f))
        return True

    def _path(self, st: _State, path: list[str], *, stroke: bool, fill: bool, ctm=None) -> None:
        """`ctm`: the path is in the units of that (scale and translate only) PDF matrix; OFD
        draws it through the equivalent CTM from those units to mm from the top-left."""
        if not path:
            return
        attrs = f'Stroke="{"true" if stroke else "false"}"'
        if ctm is not None:
            a, _, _, d, e, f = ctm
            attrs += f' CTM="{mm(a / MM)} 0 0 {mm(-d / MM)} {mm(e / MM)} {mm((self.h - f) / MM)}"'
        attrs += ' Fill="true"' if fill else ""
        if stroke:
            attrs += f' LineWidth="{mm(st.width / MM)}"'
        colours = (f'<ofd:FillColor Value="{st.fill}"/>' if fill else "") + \
                  (f'<ofd:StrokeColor Value="{st.stroke}"/>' if stroke else "")
        self.out.append(f'<ofd:PathObject ID="{self._id()}" Boundary="{self.boundary}" {attrs}>'
                        f'{colours}<ofd:AbbreviatedData>{" ".join(path)}</ofd:AbbreviatedData>'
                        '</ofd:PathObject>')

    def _text(self, st: _State, tf: dict, hex_codes: str) -> None:
        use = self.uses[FONT_NAMES[tf["font"]]]
        chars = [use.chars[int(hex_codes[i:i + 4], 16)] for i in range(0, len(hex_codes), 4)]
        size, tc = tf["size"], tf["tc"]
        advances = [fonts.width(ch, size) + tc for ch in chars]
        text = "".join(chars)
        bold = tf["tr"] == 2
        attrs = f' Stroke="true" LineWidth="{mm(st.width / MM)}"' if bold else ""
        stroke = f'<ofd:StrokeColor Value="{st.stroke}"/>' if bold else ""
        delta = f' DeltaX="{" ".join(mm(a / MM) for a in advances[:-1])}"' if len(chars) > 1 else ""
        self.out.append(
            f'<ofd:TextObject ID="{self._id()}" Boundary="{self.boundary}" '
            f'Font="{FONT_IDS[tf["font"]]}" Size="{mm(size / MM)}"{attrs}>'
            f'<ofd:FillColor Value="{st.fill}"/>{stroke}<ofd:TextCode X="{mm(tf["x"] / MM)}" '
            f'Y="{mm((self.h - tf["y"]) / MM)}"{delta}>{_escape(text)}</ofd:TextCode>'
            '</ofd:TextObject>')
        tf["x"] += sum(advances)

    def _image(self, st: _State, name: str) -> None:
        a, _, _, d, e, f = st.ctm
        self.images[name] = (e / MM, (self.h - f - d) / MM, a / MM, d / MM)
        self.out.append(f"\0{name}\0")  # filled in once the picture has a resource ID


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@dataclass(frozen=True)
class _StaticPart:
    xml: str
    next_id: int


_STATIC: "OrderedDict[str, _StaticPart]" = OrderedDict()
_STATIC_LOCK = threading.Lock()


def _static_part(layout: Mapping, static, boundary: str) -> _StaticPart:
    key = json.dumps(layout, sort_keys=True, ensure_ascii=False)
    with _STATIC_LOCK:
        hit = _STATIC.get(key)
    if hit is not None:
        return hit
    t = _Translator(static.size[1], static.uses, FIRST_OBJECT_ID)
    t.run(zlib.decompress(static.compressed).decode("latin-1"), boundary)
    part = _StaticPart("".join(t.out), t.next_id)
    with _STATIC_LOCK:
        _STATIC[key] = part
        while len(_STATIC) > 32:
            _STATIC.popitem(last=False)
    return part


def licence_page(layout: Mapping, record: Mapping, qr_text: str, *,
                 data_hash: str | None = None) -> PageContent:
    """The OFD content of the licence page `signing.render.render_licence_pdf` draws (without
    the seal: in OFD the seal picture is the signature's StampAnnot)."""
    static, page, xobjects = draw_licence(layout, record, qr_text, data_hash=data_hash)
    w, h = static.size
    boundary = f"0 0 {mm(w / MM)} {mm(h / MM)}"
    fixed = _static_part(layout, static, boundary)
    t = _Translator(h, page.uses, fixed.next_id)
    t.boundary = boundary
    for chunk in page.ops:  # each drawing step of the renderer sets its own state
        if not t.qr(chunk):
            t.run(chunk, boundary)
    images = []
    xml = "".join(t.out)
    for name, picture in xobjects:
        image_id = t._id()
        data, fmt = _picture_file(picture)
        images.append(Image(image_id, f"image_{image_id}.{fmt.lower()}", data, fmt))
        x, y, iw, ih = t.images[name]
        xml = xml.replace(f"\0{name}\0", (
            f'<ofd:ImageObject ID="{t._id()}" Boundary="{mm(x)} {mm(y)} {mm(iw)} {mm(ih)}" '
            f'CTM="{mm(iw)} 0 0 {mm(ih)} 0 0" ResourceID="{image_id}"/>'))
    return PageContent(w / MM, h / MM, fixed.xml + xml,
                       {res: page.uses[FONT_NAMES[res]] for res in FONT_IDS}, images, t.next_id)


def _picture_file(picture) -> tuple[bytes, str]:
    """The renderer's decoded picture as a file an OFD reader opens: JPEG as it came, anything
    else as PNG (with its transparency)."""
    if picture.entries.endswith(b"/Filter/DCTDecode"):
        return picture.data, "JPEG"
    from PIL import Image as PILImage

    img = PILImage.frombytes("RGB", (picture.width, picture.height), zlib.decompress(picture.data))
    if picture.smask is not None:
        img.putalpha(PILImage.frombytes("L", (picture.width, picture.height),
                                        zlib.decompress(picture.smask)))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue(), "PNG"

"""The printed face of a licence: one A4 PDF page drawn from a template's layout.json.

This runs on the issuance hot path, so the page is written directly as PDF objects
(`signing.render.pdfdoc`) and everything that is the same on every licence of a template — the
security pattern, panels, border, fixed texts, field labels — is drawn once per layout and kept
as a compressed content stream (`_static`); per licence only the values, the QR and the footer
are drawn, into a second content stream of the same page.  Text is set in Droid Sans Fallback and
Bitstream Vera, embedded as per-page subsets (Type0/CIDFontType2 with ToUnicode maps, so
poppler, pdf.js and Acrobat show and extract the Chinese text).  The QR code is drawn as vector
rectangles straight from zxing-cpp's module matrix (one `re` per run of dark modules).

Layout coordinates are millimetres from the page's top-left corner (how designers measure
paper); `seal_rect`/`qr_rect` convert a box to PDF points (origin bottom-left) for the PDF signer,
which places the seal picture as the visible appearance of its signature field.  With
`seal_png=None` the page is rendered without the seal for exactly that purpose.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import io
import json
import math
import threading
import zlib
from collections import OrderedDict
from datetime import date
from typing import Any, Mapping

from formats.errors import SigningError
from signing.pdf_syntax import num, text_string
from signing.qr import image as qr_image
from signing.render import fonts
from signing.render.pdfdoc import CONTENT_LEVEL, FontUse, PdfDocument

MM = 72.0 / 25.4
A4 = (595.2755905511812, 841.8897637795277)  # 210 x 297 mm in points
_INT = [str(i) for i in range(256)]  # QR module coordinates (version 40 is 177 modules)
LINE_HEIGHT = 1.45
MAX_PHOTO_BYTES = 300 * 1024
MAX_IMAGE_PIXELS = 4_000_000  # 2000x2000: far above print resolution for a 42 mm seal or a photo


class RenderError(SigningError):
    code = "render-error"


# -- geometry --------------------------------------------------------------------------------

def page_size(layout: Mapping) -> tuple[float, float]:
    page = layout.get("page", {})
    if page.get("size", "A4") != "A4":
        raise RenderError("only A4 pages are supported", "仅支持 A4 纸张")
    return (A4[1], A4[0]) if page.get("orientation") == "landscape" else A4


def _box(layout: Mapping, name: str) -> tuple[float, float, float, float]:
    """A layout box {x, y, size} or {x, y, w, h} (mm from top-left) as PDF points
    (x1, y1, x2, y2) from bottom-left."""
    box = layout.get(name)
    if not isinstance(box, Mapping):
        raise RenderError(f"layout has no {name!r} box", f"版式缺少 {name!r} 位置")
    w = box.get("w", box.get("size"))
    h = box.get("h", box.get("size"))
    _, page_h = page_size(layout)
    x1 = box["x"] * MM
    y2 = page_h - box["y"] * MM
    return (x1, y2 - h * MM, x1 + w * MM, y2)


def seal_rect(layout: Mapping) -> tuple[float, float, float, float]:
    """Where the seal goes, in PDF points (x1, y1, x2, y2): the signature field rectangle."""
    return _box(layout, "seal")


def qr_rect(layout: Mapping) -> tuple[float, float, float, float]:
    return _box(layout, "qr")


# -- values ----------------------------------------------------------------------------------

def _lookup(record: Any, path: str) -> Any:
    """Follow a dotted path; a ``*`` segment maps the rest of the path over a list
    (``holders.*.name`` -> every holder's name)."""
    cur: Any = record
    parts = path.split(".")
    for i, part in enumerate(parts):
        if part == "*" and isinstance(cur, list):
            rest = ".".join(parts[i + 1:])
            return [v for v in (_lookup(item, rest) if rest else item for item in cur)
                    if v is not None]
        if isinstance(cur, Mapping):
            cur = cur.get(part)
        elif isinstance(cur, list) and part.isdigit() and int(part) < len(cur):
            cur = cur[int(part)]
        else:
            return None
        if cur is None:
            return None
    return cur


def chinese_date(value: str | None) -> str:
    if not value:
        return "长期"
    d = date.fromisoformat(value)
    return f"{d.year}年{d.month:02d}月{d.day:02d}日"


def field_text(record: Mapping, spec: Mapping) -> str:
    """The printed text of one layout field: a record path plus an optional format."""
    fmt = spec.get("format", "text")
    if fmt == "validity":
        return f"{chinese_date(record.get('valid_from'))} 至 {chinese_date(record.get('valid_until'))}"
    value = _lookup(record, spec["value"])
    if (value is None or value == "") and spec.get("or"):
        value = _lookup(record, spec["or"])  # records made before the value's path existed
    if value is None or value == "":
        return spec.get("default", "")
    if fmt == "date":
        return chinese_date(str(value))
    if fmt == "map":
        return spec.get("map", {}).get(str(value), str(value))
    if fmt == "yuan":
        return f"{value}万元人民币" if spec.get("unit") == "wan" else f"{value}元人民币"
    if isinstance(value, list):
        return spec.get("join", "、").join(str(v) for v in value)
    return str(value)


def _wrap(text: str, width_pt: float, size: float, max_lines: int) -> list[str]:
    lines, cur, cur_w = [], "", 0.0
    for ch in text:
        if ch == "\n":
            lines.append(cur)
            cur, cur_w = "", 0.0
            continue
        w = fonts.width(ch, size)
        if cur and cur_w + w > width_pt:
            lines.append(cur)
            cur, cur_w = "", 0.0
        cur += ch
        cur_w += w
    lines.append(cur)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1][:-1] + "…"
    return lines


# -- drawing ---------------------------------------------------------------------------------

@functools.lru_cache(maxsize=64)
def _rgb(color: str) -> str:
    """'#RRGGBB' as PDF operands 'r g b' (ValueError if malformed, as layout errors are)."""
    c = color.lstrip("#")
    if len(c) != 6:
        raise ValueError(f"colour {color!r} is not #RRGGBB")
    return " ".join(num(round(int(c[i:i + 2], 16) / 255, 4)) for i in (0, 2, 4))


class _Page:
    """Content-stream operators plus the font glyphs they use (see `pdfdoc.FontUse`)."""

    def __init__(self, uses: dict[str, FontUse]):
        self.ops: list[str] = []
        self.uses = uses

    def text(self, x: float, y: float, s: str, size: float, *, align: str = "left",
             spacing: float = 0.0, bold: bool = False, color: str = "#000000") -> None:
        if not s:
            return
        width = fonts.width(s, size) + spacing * max(len(s) - 1, 0)
        if align == "center":
            x -= width / 2
        elif align == "right":
            x -= width
        rgb = _rgb(color)
        if bold:  # no bold font embedded: thicken the glyphs with a thin outline stroke
            head = f"{rgb} RG {num(size / 30)} w BT 2 Tr"
        else:
            head = "BT 0 Tr"
        size_s = num(size)
        parts = [f"{head} {num(spacing)} Tc {rgb} rg 1 0 0 1 {num(x)} {num(y)} Tm"]
        for name, run in fonts.runs(s):
            parts.append(f"/{_RESOURCE[name]} {size_s} Tf <{self.uses[name].encode(run)}> Tj")
        parts.append("ET")
        self.ops.append(" ".join(parts))


_RESOURCE = {fonts.CJK: "F1", fonts.LATIN: "F2"}


def _border(p: _Page, layout: Mapping, w: float, h: float) -> None:
    b = layout.get("border")
    if not b:
        return
    outer, inner = b.get("inset", 8) * MM, b.get("inner_inset", 10) * MM
    ops = [f"{_rgb(b.get('color', '#9C2A21'))} RG {num(b.get('width', 2.4))} w",
           f"{num(outer)} {num(outer)} {num(w - 2 * outer)} {num(h - 2 * outer)} re S",
           f"{num(b.get('inner_width', 0.6))} w",
           f"{num(inner)} {num(inner)} {num(w - 2 * inner)} {num(h - 2 * inner)} re S"]
    corner = b.get("corner", 6) * MM
    if corner:  # small squares in the corners, as printed certificates have
        for cx in (inner, w - inner):
            for cy in (inner, h - inner):
                ops.append(f"{num(cx - corner / 4)} {num(cy - corner / 4)} {num(corner / 2)} "
                           f"{num(corner / 2)} re S")
    p.ops.extend(ops)


def _panels(p: _Page, layout: Mapping, h: float) -> None:
    """Plain rounded rectangles behind groups of fields (the card of a driving licence)."""
    for panel in layout.get("panels", []):
        x, y = panel["x"] * MM, h - (panel["y"] + panel["h"]) * MM
        pw, ph = panel["w"] * MM, panel["h"] * MM
        fill = panel.get("fill")
        ops = [f"{num(panel.get('line_width', 0.8))} w {_rgb(panel.get('stroke', '#888888'))} RG"]
        if fill:
            ops.append(f"{_rgb(fill)} rg")
        ops.append(_round_rect(x, y, pw, ph, panel.get("radius", 0) * MM) + (" B" if fill else " S"))
        p.ops.extend(ops)


def _round_rect(x: float, y: float, w: float, h: float, r: float) -> str:
    if r <= 0:
        return f"{num(x)} {num(y)} {num(w)} {num(h)} re"
    r = min(r, w / 2, h / 2)
    k = r * 0.4477  # Bezier handle for a quarter circle (1 - 0.5523)
    x2, y2 = x + w, y + h
    pts = [f"{num(x + r)} {num(y)} m", f"{num(x2 - r)} {num(y)} l",
           f"{num(x2 - k)} {num(y)} {num(x2)} {num(y + k)} {num(x2)} {num(y + r)} c",
           f"{num(x2)} {num(y2 - r)} l",
           f"{num(x2)} {num(y2 - k)} {num(x2 - k)} {num(y2)} {num(x2 - r)} {num(y2)} c",
           f"{num(x + r)} {num(y2)} l",
           f"{num(x + k)} {num(y2)} {num(x)} {num(y2 - k)} {num(x)} {num(y2 - r)} c",
           f"{num(x)} {num(y + r)} l",
           f"{num(x)} {num(y + k)} {num(x + k)} {num(y)} {num(x + r)} {num(y)} c h"]
    return " ".join(pts)


def _guilloche(p: _Page, layout: Mapping, w: float, h: float) -> None:
    g = layout.get("guilloche")
    if not g:
        return
    p.ops.append(_guilloche_ops(w, h, g.get("x", 0.5), g.get("y", 0.5), g.get("radius", 60),
                                g.get("color", "#F2DCD2")))


def _guilloche_ops(w: float, h: float, fx: float, fy: float, radius_mm: float, color: str) -> str:
    """A spirograph rosette (hypotrochoid), the security pattern of printed certificates, as
    vector strokes.  Pure vector rather than a text watermark, so text extraction and search see
    only the licence.  Drawn once per layout (`_static`)."""
    cx, cy, scale = w * fx, h * fy, radius_mm * MM
    big, small, pen, petals, steps = 1.0, 0.145, 0.19, 29, 20
    k = (big - small) / small
    pts = []
    for i in range(petals * steps + 1):
        t = 2 * math.pi * i / steps
        x = (big - small) * math.cos(t) + pen * math.cos(k * t)
        y = (big - small) * math.sin(t) - pen * math.sin(k * t)
        pts.append(f"{cx + x * scale:.1f} {cy + y * scale:.1f}")
    return f"q {_rgb(color)} RG 0.4 w\n" + pts[0] + " m " + " l ".join(pts[1:]) + " l S\nQ"


def _qr(p: _Page, layout: Mapping, qr_text: str) -> None:
    x1, y1, x2, y2 = qr_rect(layout)
    rows = qr_image.modules(qr_text)
    n = len(rows)
    quiet = 4  # ISO/IEC 18004 quiet zone, inside the box so the box is what the scanner needs
    m = (x2 - x1) / (n + 2 * quiet)
    p.ops.append(f"1 1 1 rg {num(x1)} {num(y1)} {num(x2 - x1)} {num(y2 - y1)} re f")
    # Work in module units (y downwards) so each run is a few small integers: the content
    # stream stays ~15 KB and formatting/compressing it costs little.  Runs are 1.02 modules
    # tall so antialiasing renderers leave no hairline gaps between rows.
    ops = [f"q 0 g {m:.4f} 0 0 {-m:.4f} {x1 + quiet * m:.3f} {y2 - quiet * m:.3f} cm"]
    for r, row in enumerate(rows):  # ~1,700 runs on a licence QR: kept to slicing and concatenation
        at, mid = 0, f" {r} "
        for dark in row.split(b"\0"):
            if dark:
                ops.append(_INT[at] + mid + _INT[len(dark)] + " 1.02 re")
            at += len(dark) + 1
    ops.append("f Q")
    p.ops.append("\n".join(ops))


def _qr_caption(p: _Page, layout: Mapping) -> None:
    caption = layout["qr"].get("caption")
    if caption:
        x1, y1, x2, _ = qr_rect(layout)
        p.text((x1 + x2) / 2, y1 - 10, caption, layout["qr"].get("caption_size", 8),
               align="center", color="#333333")


class _Image:
    """A decoded picture ready to become an image XObject (and its soft mask)."""

    def __init__(self, width: int, height: int, entries: bytes, data: bytes,
                 smask: bytes | None = None):
        self.width, self.height, self.entries, self.data, self.smask = width, height, entries, data, smask

    def add_to(self, doc: PdfDocument) -> int:
        extra = b""
        if self.smask is not None:
            mask = doc.stream(b"", b"/Type/XObject/Subtype/Image/Width %d/Height %d"
                              b"/ColorSpace/DeviceGray/BitsPerComponent 8" % (self.width, self.height),
                              compressed=self.smask)
            extra = b"/SMask %d 0 R" % mask
        header = (b"/Type/XObject/Subtype/Image/Width %d/Height %d/BitsPerComponent 8"
                  % (self.width, self.height)) + self.entries + extra
        if self.entries.endswith(b"/Filter/DCTDecode"):
            return doc.add(b"<<" + header + b"/Length %d>>stream\n" % len(self.data) + self.data
                           + b"\nendstream")
        return doc.stream(b"", header, compressed=self.data)


def _decode_image(data: bytes, what_en: str, what_zh: str, keep_alpha: bool) -> _Image:
    from PIL import Image

    try:
        img = Image.open(io.BytesIO(data))
        w, h = img.size
    except Exception as exc:  # PIL raises many types for bad images
        raise RenderError(f"{what_en} is not a readable image: {exc.__class__.__name__}",
                          f"{what_zh}不是可读取的图片") from None
    if w * h > MAX_IMAGE_PIXELS:  # a small file can declare a huge canvas (decompression bomb)
        raise RenderError(f"{what_en} of {w}x{h} pixels is too large",
                          f"{what_zh}像素尺寸过大（{w}×{h}）")
    try:
        if img.format == "JPEG" and img.mode in ("RGB", "L"):
            img.load()  # a truncated file fails here, not in the reader
            space = b"/DeviceRGB" if img.mode == "RGB" else b"/DeviceGray"
            return _Image(w, h, b"/ColorSpace" + space + b"/Filter/DCTDecode", data)
        alpha = img.mode in ("RGBA", "LA", "PA") or "transparency" in img.info
        rgba = img.convert("RGBA") if alpha else None
        if rgba is not None and keep_alpha:
            rgb, smask = rgba.convert("RGB"), zlib.compress(rgba.getchannel("A").tobytes())
        elif rgba is not None:  # no soft mask asked for: flatten on the white paper
            rgb, smask = Image.alpha_composite(Image.new("RGBA", rgba.size, "white"), rgba).convert("RGB"), None
        else:
            rgb, smask = img.convert("RGB"), None
    except Exception as exc:
        raise RenderError(f"{what_en} is not a readable image: {exc.__class__.__name__}",
                          f"{what_zh}不是可读取的图片") from None
    return _Image(w, h, b"/ColorSpace/DeviceRGB", zlib.compress(rgb.tobytes()), smask)


@functools.lru_cache(maxsize=8)
def _seal_image(data: bytes) -> _Image:
    """The seal picture, decoded and compressed once (the same seal stamps many pages)."""
    return _decode_image(data, "seal picture", "印章图片", keep_alpha=True)


def _place(p: _Page, xobjects: list, image: _Image, box) -> None:
    """Draw `image` inside `box`, aspect ratio kept, centred (reportlab's anchor='c')."""
    x1, y1, x2, y2 = box
    scale = min((x2 - x1) / image.width, (y2 - y1) / image.height)
    w, h = image.width * scale, image.height * scale
    name = f"Im{len(xobjects) + 1}"
    xobjects.append((name, image))
    p.ops.append(f"q {num(w)} 0 0 {num(h)} {num(x1 + (x2 - x1 - w) / 2)} "
                 f"{num(y1 + (y2 - y1 - h) / 2)} cm /{name} Do Q")


def _photo(p: _Page, xobjects: list, layout: Mapping, record: Mapping) -> None:
    spec = layout.get("photo")
    if not spec:
        return
    x1, y1, x2, y2 = _box(layout, "photo")
    value = _lookup(record, spec.get("value", "fields.photo"))
    frame = f"0.5333 0.5333 0.5333 RG 0.5 w {num(x1)} {num(y1)} {num(x2 - x1)} {num(y2 - y1)} re S"
    if not value:
        p.ops.append(frame)
        p.text((x1 + x2) / 2, (y1 + y2) / 2 - 4, "照片", 10, align="center", color="#888888")
        return
    try:
        data = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError, TypeError):
        raise RenderError("photo is not valid base64", "照片不是有效的 Base64 编码") from None
    if len(data) > MAX_PHOTO_BYTES:
        raise RenderError("photo larger than 300 KB", "照片超过 300 KB")
    _place(p, xobjects, _decode_image(data, "photo", "照片", keep_alpha=False), (x1, y1, x2, y2))
    p.ops.append(frame)


def _field_label(p: _Page, layout: Mapping, spec: Mapping) -> None:
    size = spec.get("size", 11)
    x, y = spec["x"] * MM, page_size(layout)[1] - spec["y"] * MM
    label = spec.get("label")
    if not label:
        return
    lw = spec.get("label_width", 0) * MM
    if lw:  # distribute label characters over the label width (法 定 代 表 人)
        gap = (lw - fonts.width(label, size)) / max(len(label) - 1, 1)
        p.text(x, y, label, size, spacing=max(gap, 0), bold=True)
    else:
        p.text(x, y, label, size, bold=True)


def _field_value(p: _Page, layout: Mapping, spec: Mapping, record: Mapping) -> None:
    size = spec.get("size", 11)
    x, y = spec["x"] * MM, page_size(layout)[1] - spec["y"] * MM
    label = spec.get("label")
    if label:
        x += (spec.get("label_width", 0) * MM or fonts.width(label, size)) + spec.get("gap", 4) * MM
    text = field_text(record, spec)
    lines = _wrap(text, spec.get("width", 120) * MM, size, spec.get("max_lines", 1))
    for i, line in enumerate(lines):
        p.text(x, y - i * size * LINE_HEIGHT, line, size, align=spec.get("align", "left"),
               color=spec.get("color", "#000000"))


def _fields(layout: Mapping) -> list[dict]:
    d = layout.get("field_defaults", {})
    return [{**d, **spec} for spec in layout.get("fields", [])]


def _text_item(p: _Page, h: float, t: Mapping, s: str) -> None:
    p.text(t["x"] * MM, h - t["y"] * MM, s, t.get("size", 12), align=t.get("align", "left"),
           spacing=t.get("spacing", 0), bold=t.get("bold", False), color=t.get("color", "#000000"))


def _footer(p: _Page, layout: Mapping, record: Mapping, data_hash: str | None) -> None:
    spec = layout.get("identifier")
    if not spec:
        return
    h = page_size(layout)[1]
    size = spec.get("size", 6.5)
    x, y = spec["x"] * MM, h - spec["y"] * MM
    p.text(x, y, f"证照标识：{record.get('identifier', '')}", size, color="#444444")
    if data_hash:
        p.text(x, y - size * LINE_HEIGHT, f"数据摘要（SM3）：{data_hash}", size, color="#444444")


# -- the page --------------------------------------------------------------------------------

class _Static:
    """What every page of one layout shares: its drawing as a compressed content stream, and the
    glyph numbering that stream's text was encoded with (each page continues from it)."""

    def __init__(self, layout: Mapping):
        w, h = page_size(layout)
        p = _Page({name: FontUse(fonts.font(name)) for name in _RESOURCE})
        p.ops.append("q")
        _guilloche(p, layout, w, h)
        _panels(p, layout, h)
        _border(p, layout, w, h)
        for t in layout.get("texts", []):
            if "text" in t:
                _text_item(p, h, t, t["text"])
        for spec in _fields(layout):
            _field_label(p, layout, spec)
        _qr_caption(p, layout)
        p.ops.append("Q")
        # Latin text is mostly ASCII: number all of printable ASCII now, so most pages add no
        # Latin glyph and reuse one embedded Latin font (pdfdoc.FontUse.embed).
        p.uses[fonts.LATIN].encode("".join(map(chr, range(0x20, 0x7F))))
        for use in p.uses.values():
            use.freeze()
        raw = "\n".join(p.ops).encode("latin-1") + b"\n"
        self.size = (w, h)
        self.compressed = zlib.compress(raw, 9)
        self.uses = p.uses


_STATIC: "OrderedDict[str, _Static]" = OrderedDict()
_STATIC_LOCK = threading.Lock()
_STATIC_MAX = 32


def _static(layout: Mapping) -> _Static:
    key = json.dumps(layout, sort_keys=True, ensure_ascii=False)
    with _STATIC_LOCK:
        hit = _STATIC.get(key)
        if hit is not None:
            _STATIC.move_to_end(key)
            return hit
    built = _Static(layout)
    with _STATIC_LOCK:
        _STATIC[key] = built
        while len(_STATIC) > _STATIC_MAX:
            _STATIC.popitem(last=False)
    return built


def render_licence_pdf(layout: Mapping, record: Mapping, qr_text: str,
                       seal_png: bytes | None = None,
                       seal_box: tuple[float, float, float, float] | None = None, *,
                       data_hash: str | None = None) -> bytes:
    """One A4 page for a licence record (shape: docs/formats.md "Templates").

    `seal_png` is drawn at `seal_box` (PDF points) or the layout's seal box; leave it None when
    the PDF signer shows the seal as its signature appearance.  `data_hash` (the SM3 of the
    signed record) is printed in small type next to the identifier and put in the PDF metadata,
    so paper, PDF and QR can be matched.
    """
    try:
        return _render(layout, record, qr_text, seal_png, seal_box, data_hash)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise RenderError(f"cannot render licence: {exc.__class__.__name__}: {exc}",
                          "无法生成证照版式文件（版式或数据错误）") from None


def draw_licence(layout: Mapping, record: Mapping, qr_text: str, *,
                 data_hash: str | None = None):
    """The page as drawn, before it becomes PDF: (static, page, images) — the layout's shared
    drawing (`_Static`: size, compressed operators, glyph numbering), this licence's operators
    and glyphs (`_Page`) and its pictures ([(name, _Image)]).  The OFD writer
    (`signing.ofd.page`) translates exactly these, so both files show one layout."""
    try:
        return _draw(layout, record, qr_text, None, None, data_hash)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise RenderError(f"cannot render licence: {exc.__class__.__name__}: {exc}",
                          "无法生成证照版式文件（版式或数据错误）") from None


def _draw(layout, record, qr_text, seal_png, seal_box, data_hash):
    static = _static(layout)
    w, h = static.size
    p = _Page({name: use.copy() for name, use in static.uses.items()})
    xobjects: list[tuple[str, _Image]] = []
    p.ops.append("q")
    for t in layout.get("texts", []):
        if "text" not in t:
            _text_item(p, h, t, field_text(record, t))
    for spec in _fields(layout):
        _field_value(p, layout, spec, record)
    _photo(p, xobjects, layout, record)
    _qr(p, layout, qr_text)
    _footer(p, layout, record, data_hash)
    if seal_png is not None:
        _place(p, xobjects, _seal_image(seal_png), seal_box or seal_rect(layout))
    p.ops.append("Q")
    return static, p, xobjects


def _render(layout, record, qr_text, seal_png, seal_box, data_hash) -> bytes:
    static, p, xobjects = _draw(layout, record, qr_text, seal_png, seal_box, data_hash)
    w, h = static.size
    dynamic = "\n".join(p.ops).encode("latin-1")

    doc = PdfDocument()
    catalog, pages, page = doc.reserve(), doc.reserve(), doc.reserve()
    first = doc.stream(b"", compressed=static.compressed)
    second = doc.stream(dynamic, level=CONTENT_LEVEL)
    font_refs = b"".join(b"/%s %d 0 R" % (_RESOURCE[name].encode(), use.embed(doc))
                         for name, use in p.uses.items() if use.used)
    image_refs = b"".join(b"/%s %d 0 R" % (name.encode(), image.add_to(doc)) for name, image in xobjects)
    resources = b"<</ProcSet[/PDF/Text/ImageB/ImageC/ImageI]/Font<<" + font_refs + b">>"
    if image_refs:
        resources += b"/XObject<<" + image_refs + b">>"
    resources += b">>"
    doc.put(page, b"<</Type/Page/Parent %d 0 R/MediaBox[0 0 %s %s]/Resources " % (
        pages, num(w).encode(), num(h).encode()) + resources + b"/Contents[%d 0 R %d 0 R]>>" % (first, second))
    doc.put(pages, b"<</Type/Pages/Kids[%d 0 R]/Count 1>>" % page)
    doc.put(catalog, b"<</Type/Catalog/Pages %d 0 R>>" % pages)
    info = [("Title", f"{record.get('type_name', '')} {record.get('number', '')}".strip()),
            ("Subject", str(record.get("identifier", ""))),
            ("Author", str(_lookup(record, "issuer.name") or "")),
            ("Creator", "license-svc"), ("Producer", "license-svc")]
    if data_hash:
        info.append(("Keywords", f"data-hash-sm3:{data_hash}"))
    info_obj = doc.add(b"<<" + b"".join(b"/" + k.encode() + text_string(v) for k, v in info) + b">>")
    file_id = hashlib.md5(dynamic + str(record.get("identifier", "")).encode()).digest()
    return doc.write(catalog, info_obj, file_id)

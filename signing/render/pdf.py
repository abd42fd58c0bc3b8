"""The printed face of a licence: one A4 PDF page drawn from a template's layout.json.

This runs on the issuance hot path, so everything that can be prepared once is (see
`signing.render.fonts`): fonts are parsed once per process and reportlab embeds only the glyphs a
page uses, as subsets that poppler, pdf.js and Acrobat render.  The QR code is drawn as vector
rectangles straight from zxing-cpp's module matrix, written as raw path operators (one `re` per
run of dark modules) because reportlab's per-call path API costs more than the rest of the page.

Layout coordinates are millimetres from the page's top-left corner (how designers measure
paper); `seal_rect`/`qr_rect` convert a box to PDF points (origin bottom-left) for the PDF signer,
which places the seal picture as the visible appearance of its signature field.  With
`seal_png=None` the page is rendered without the seal for exactly that purpose.
"""

from __future__ import annotations

import base64
import binascii
import functools
import io
import math
import re
from datetime import date
from typing import Any, Mapping

from reportlab.lib.colors import HexColor
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas

from signing.errors import SigningError
from signing.qr import image as qr_image
from signing.render import fonts

MM = 72.0 / 25.4
_DARK_RUN = re.compile(b"\x01+")
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
    return landscape(A4) if page.get("orientation") == "landscape" else A4


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

def _text(c: canvas.Canvas, x: float, y: float, s: str, size: float, *, align: str = "left",
          spacing: float = 0.0, bold: bool = False, color: str = "#000000") -> None:
    width = fonts.width(s, size) + spacing * max(len(s) - 1, 0)
    if align == "center":
        x -= width / 2
    elif align == "right":
        x -= width
    t = c.beginText(x, y)
    t.setCharSpace(spacing)
    t.setFillColor(HexColor(color))
    if bold:  # no bold font embedded: thicken the glyphs with a thin outline stroke
        t.setTextRenderMode(2)
        c.setStrokeColor(HexColor(color))
        c.setLineWidth(size / 30)
    for name, run in fonts.runs(s):
        t.setFont(name, size)
        t.textOut(run)
    c.drawText(t)


def _border(c: canvas.Canvas, layout: Mapping, w: float, h: float) -> None:
    b = layout.get("border")
    if not b:
        return
    c.setStrokeColor(HexColor(b.get("color", "#9C2A21")))
    outer, inner = b.get("inset", 8) * MM, b.get("inner_inset", 10) * MM
    c.setLineWidth(b.get("width", 2.4))
    c.rect(outer, outer, w - 2 * outer, h - 2 * outer)
    c.setLineWidth(b.get("inner_width", 0.6))
    c.rect(inner, inner, w - 2 * inner, h - 2 * inner)
    corner = b.get("corner", 6) * MM
    if corner:  # small squares in the corners, as printed certificates have
        for cx in (inner, w - inner):
            for cy in (inner, h - inner):
                c.rect(cx - corner / 4, cy - corner / 4, corner / 2, corner / 2, fill=0)


def _panels(c: canvas.Canvas, layout: Mapping, h: float) -> None:
    """Plain rounded rectangles behind groups of fields (the card of a driving licence)."""
    for p in layout.get("panels", []):
        c.setLineWidth(p.get("line_width", 0.8))
        c.setStrokeColor(HexColor(p.get("stroke", "#888888")))
        fill = p.get("fill")
        if fill:
            c.setFillColor(HexColor(fill))
        c.roundRect(p["x"] * MM, h - (p["y"] + p["h"]) * MM, p["w"] * MM, p["h"] * MM,
                    p.get("radius", 0) * MM, stroke=1, fill=1 if fill else 0)


def _guilloche(c: canvas.Canvas, layout: Mapping, w: float, h: float) -> None:
    g = layout.get("guilloche")
    if not g:
        return
    c.addLiteral(_guilloche_ops(w, h, g.get("x", 0.5), g.get("y", 0.5), g.get("radius", 60),
                                g.get("color", "#F2DCD2")))


@functools.lru_cache(maxsize=32)
def _guilloche_ops(w: float, h: float, fx: float, fy: float, radius_mm: float, color: str) -> str:
    """A spirograph rosette (hypotrochoid), the security pattern of printed certificates, as
    vector strokes.  Pure vector rather than a text watermark, so text extraction and search see
    only the licence.  Computed once per layout; kept to ~600 points because the page stream is
    compressed again for every licence."""
    rgb = HexColor(color)
    cx, cy, scale = w * fx, h * fy, radius_mm * MM
    big, small, pen, petals, steps = 1.0, 0.145, 0.19, 29, 20
    k = (big - small) / small
    pts = []
    for i in range(petals * steps + 1):
        t = 2 * math.pi * i / steps
        x = (big - small) * math.cos(t) + pen * math.cos(k * t)
        y = (big - small) * math.sin(t) - pen * math.sin(k * t)
        pts.append(f"{cx + x * scale:.1f} {cy + y * scale:.1f}")
    return (f"q {rgb.red:.3f} {rgb.green:.3f} {rgb.blue:.3f} RG 0.4 w\n"
            + pts[0] + " m " + " l ".join(pts[1:]) + " l S\nQ")


def _qr(c: canvas.Canvas, layout: Mapping, qr_text: str) -> None:
    x1, y1, x2, y2 = qr_rect(layout)
    rows = qr_image.modules(qr_text)
    n = len(rows)
    quiet = 4  # ISO/IEC 18004 quiet zone, inside the box so the box is what the scanner needs
    m = (x2 - x1) / (n + 2 * quiet)
    c.setFillColor(HexColor("#FFFFFF"))
    c.rect(x1, y1, x2 - x1, y2 - y1, stroke=0, fill=1)
    # Work in module units (y downwards) so each run is a few small integers: the content
    # stream stays ~15 KB and formatting/compressing it costs little.  Runs are 1.02 modules
    # tall so antialiasing renderers leave no hairline gaps between rows.
    ops = [f"q 0 g {m:.4f} 0 0 {-m:.4f} {x1 + quiet * m:.3f} {y2 - quiet * m:.3f} cm"]
    for r, row in enumerate(rows):
        for run in _DARK_RUN.finditer(row):
            ops.append(f"{run.start()} {r} {run.end() - run.start()} 1.02 re")
    ops.append("f Q")
    c.addLiteral("\n".join(ops))
    caption = layout["qr"].get("caption")
    if caption:
        _text(c, (x1 + x2) / 2, y1 - 10, caption, layout["qr"].get("caption_size", 8),
              align="center", color="#333333")


def _image_reader(data: bytes, what_en: str, what_zh: str) -> ImageReader:
    try:
        reader = ImageReader(io.BytesIO(data))
        w, h = reader.getSize()
    except Exception as exc:  # PIL raises many types for bad images
        raise RenderError(f"{what_en} is not a readable image: {exc.__class__.__name__}",
                          f"{what_zh}不是可读取的图片") from None
    if w * h > MAX_IMAGE_PIXELS:  # a small file can declare a huge canvas (decompression bomb)
        raise RenderError(f"{what_en} of {w}x{h} pixels is too large",
                          f"{what_zh}像素尺寸过大（{w}×{h}）")
    return reader


def _photo(c: canvas.Canvas, layout: Mapping, record: Mapping) -> None:
    spec = layout.get("photo")
    if not spec:
        return
    x1, y1, x2, y2 = _box(layout, "photo")
    value = _lookup(record, spec.get("value", "fields.photo"))
    c.setStrokeColor(HexColor("#888888"))
    c.setLineWidth(0.5)
    if not value:
        c.rect(x1, y1, x2 - x1, y2 - y1)
        _text(c, (x1 + x2) / 2, (y1 + y2) / 2 - 4, "照片", 10, align="center", color="#888888")
        return
    try:
        data = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError, TypeError):
        raise RenderError("photo is not valid base64", "照片不是有效的 Base64 编码") from None
    if len(data) > MAX_PHOTO_BYTES:
        raise RenderError("photo larger than 300 KB", "照片超过 300 KB")
    c.drawImage(_image_reader(data, "photo", "照片"), x1, y1, x2 - x1, y2 - y1,
                preserveAspectRatio=True, anchor="c")
    c.rect(x1, y1, x2 - x1, y2 - y1)


def _fields(c: canvas.Canvas, layout: Mapping, record: Mapping) -> None:
    d = layout.get("field_defaults", {})
    for spec in layout.get("fields", []):
        spec = {**d, **spec}
        size = spec.get("size", 11)
        x, y = spec["x"] * MM, page_size(layout)[1] - spec["y"] * MM
        label = spec.get("label")
        if label:
            lw = spec.get("label_width", 0) * MM
            if lw:  # distribute label characters over the label width (法 定 代 表 人)
                gap = (lw - fonts.width(label, size)) / max(len(label) - 1, 1)
                _text(c, x, y, label, size, spacing=max(gap, 0), bold=True)
            else:
                _text(c, x, y, label, size, bold=True)
            x += (lw or fonts.width(label, size)) + spec.get("gap", 4) * MM
        text = field_text(record, spec)
        lines = _wrap(text, spec.get("width", 120) * MM, size, spec.get("max_lines", 1))
        for i, line in enumerate(lines):
            _text(c, x, y - i * size * LINE_HEIGHT, line, size, align=spec.get("align", "left"),
                  color=spec.get("color", "#000000"))


def _texts(c: canvas.Canvas, layout: Mapping, record: Mapping) -> None:
    h = page_size(layout)[1]
    for t in layout.get("texts", []):
        s = t["text"] if "text" in t else field_text(record, t)
        _text(c, t["x"] * MM, h - t["y"] * MM, s, t.get("size", 12), align=t.get("align", "left"),
              spacing=t.get("spacing", 0), bold=t.get("bold", False), color=t.get("color", "#000000"))


def _footer(c: canvas.Canvas, layout: Mapping, record: Mapping, data_hash: str | None) -> None:
    spec = layout.get("identifier")
    if not spec:
        return
    h = page_size(layout)[1]
    size = spec.get("size", 6.5)
    x, y = spec["x"] * MM, h - spec["y"] * MM
    _text(c, x, y, f"证照标识：{record.get('identifier', '')}", size, color="#444444")
    if data_hash:
        _text(c, x, y - size * LINE_HEIGHT, f"数据摘要（SM3）：{data_hash}", size, color="#444444")


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
    fonts.register()
    with fonts.RENDER_LOCK:
        return _render(layout, record, qr_text, seal_png, seal_box, data_hash)


def _render(layout, record, qr_text, seal_png, seal_box, data_hash) -> bytes:
    w, h = page_size(layout)
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=(w, h), pageCompression=1, initialFontName=fonts.CJK,
                      initialFontSize=10)
    c.setTitle(f"{record.get('type_name', '')} {record.get('number', '')}".strip())
    c.setSubject(str(record.get("identifier", "")))
    c.setAuthor(str(_lookup(record, "issuer.name") or ""))
    c.setCreator("license-svc")
    if data_hash:
        c.setKeywords(f"data-hash-sm3:{data_hash}")
    try:
        _guilloche(c, layout, w, h)
        _panels(c, layout, h)
        _border(c, layout, w, h)
        _texts(c, layout, record)
        _fields(c, layout, record)
        _photo(c, layout, record)
        _qr(c, layout, qr_text)
        _footer(c, layout, record, data_hash)
        if seal_png is not None:
            x1, y1, x2, y2 = seal_box or seal_rect(layout)
            c.drawImage(_image_reader(seal_png, "seal picture", "印章图片"), x1, y1, x2 - x1,
                        y2 - y1, mask="auto", preserveAspectRatio=True, anchor="c")
        c.showPage()
        c.save()
    except (KeyError, TypeError, ValueError) as exc:
        raise RenderError(f"cannot render licence: {exc.__class__.__name__}: {exc}",
                          "无法生成证照版式文件（版式或数据错误）") from None
    return buf.getvalue()

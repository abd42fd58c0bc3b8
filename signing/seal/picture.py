"""Seal pictures (印模): red ink on a transparent background, as PNG, sized in millimetres.

Three shapes, after the usual layout of Chinese seals:
- round official seal (公章): organisation name clockwise along the upper arc, a five-pointed star
  in the centre, the seal name under the star, an optional seal number along the lower arc;
- square personal seal (名章): four characters in a 2×2 grid read in columns right to left;
- oval special-purpose seal (合同专用章, 发票专用章…): name along the upper arc of the ellipse, an
  optional number (e.g. the tax number) across the middle, the seal name below.

Everything is drawn into one 8-bit ink mask that becomes the alpha of a red-only palette, so the
background is exactly transparent and the colour exactly red.  The PNG carries no metadata,
so the same inputs give the same bytes (useful for tests and for content-addressed storage).
"""

from __future__ import annotations

import io
import math
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from formats.errors import SigningError
from signing.seal.build import SealPicture

RED = (230, 0, 18)
ALPHA_LEVELS = 16  # edge smoothing steps; more are invisible at print size and cost bytes
# 12 px/mm ≈ 305 dpi: print resolution for a seal, and the picture travels inside every SESeal,
# every seal signature and every licence PDF (twice: page image and signed attribute), so each
# pixel is paid for in storage and in hashing; 40 px/mm (1,016 dpi) made a 42 mm seal 69 KB,
# 12 px/mm makes it 17 KB with no visible difference on paper or on screen at 100 %.
DEFAULT_PX_PER_MM = 12

_FONT_CANDIDATES = (
    Path(__file__).resolve().parent.parent / "render" / "fonts" / "DroidSansFallbackFull.ttf",
    Path("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf"),
)
# Droid Sans Fallback has CJK but no Latin digits or letters (they come out as boxes): seal numbers
# and tax numbers are drawn with DejaVu Sans Bold (Debian fonts-dejavu-core), when present.
_LATIN_FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")


class SealPictureError(SigningError):
    code = "seal-picture"


@lru_cache(maxsize=1)
def font_path() -> Path:
    """The CJK font: the repository's copy first, then Debian's fonts-droid-fallback."""
    for p in _FONT_CANDIDATES:
        if p.is_file():
            return p
    raise SealPictureError("no CJK font found (DroidSansFallbackFull.ttf)",
                           "找不到中文字体 DroidSansFallbackFull.ttf")


@lru_cache(maxsize=64)
def _font(px: int, latin: bool = False) -> ImageFont.FreeTypeFont:
    if latin and _LATIN_FONT.is_file():
        return ImageFont.truetype(str(_LATIN_FONT), px)
    return ImageFont.truetype(str(font_path()), px)


def _font_for(ch: str, px: int) -> ImageFont.FreeTypeFont:
    return _font(px, latin=ch.isascii())


def _has_glyph(ch: str) -> bool:
    """False when the font would draw its "missing glyph" box for ch."""
    face = _font_for(ch, 24)
    return bytes(face.getmask(ch)) != bytes(face.getmask("\U0010FFFD"))


def render_round_seal(org_name: str, seal_name: str = "", number: str = "", *,
                      diameter_mm: int = 42, px_per_mm: int = DEFAULT_PX_PER_MM) -> SealPicture:
    """公章: 42 mm by default (the usual size for organisations; 38–40 mm is common too)."""
    _require_text(org_name, "organisation name", "单位名称", 1, 40)
    d = diameter_mm * px_per_mm
    canvas = _Canvas(d, d)
    c = d / 2
    border = 0.03 * d
    canvas.ellipse(c, c, c - border / 2 - 1, c - border / 2 - 1, border)
    h = 0.155 * d
    r_text = c - border - 0.035 * d - h / 2
    canvas.arc_text(org_name, c, c, r_text, r_text, h, max_span_deg=250, top=True)
    canvas.star(c, c, 0.165 * d)
    if seal_name:
        _require_text(seal_name, "seal name", "印章名称", 1, 12)
        canvas.line_text(seal_name, c, c + 0.27 * d, 0.105 * d, max_width=0.56 * d)
    if number:
        _require_text(number, "seal number", "印章编码", 1, 24)
        hn = 0.05 * d
        rn = c - border - 0.025 * d - hn / 2
        canvas.arc_text(number, c, c, rn, rn, hn, max_span_deg=110, top=False, width_ratio=0.6)
    return SealPicture(canvas.png(), diameter_mm, diameter_mm)


def render_square_seal(name: str, *, size_mm: int = 20,
                       px_per_mm: int = DEFAULT_PX_PER_MM) -> SealPicture:
    """名章: a personal name of 2–4 characters; 2 become 「X Y之印」, 3 「X Y Z印」."""
    _require_text(name, "personal name", "姓名", 2, 4)
    chars = name + {2: "之印", 3: "印", 4: ""}[len(name)]
    s = size_mm * px_per_mm
    canvas = _Canvas(s, s)
    margin, border = 0.02 * s, 0.07 * s  # a hair of clear edge; corners slightly rounded
    canvas.frame(margin, margin, s - margin, s - margin, border, radius=0.06 * s)
    inner = s - 2 * (margin + border)
    cell = inner / 2
    # Columns read right to left, top to bottom: the right column holds chars 0 and 1.
    for i, ch in enumerate(chars):
        col = 1 - i // 2
        row = i % 2
        cx = margin + border + cell * col + cell / 2
        cy = margin + border + cell * row + cell / 2
        canvas.glyph(ch, cx, cy, cell * 0.92, cell * 0.86, 0.0)
    return SealPicture(canvas.png(), size_mm, size_mm)


def render_oval_seal(org_name: str, seal_name: str, number: str = "", *, width_mm: int = 45,
                     height_mm: int = 30, px_per_mm: int = DEFAULT_PX_PER_MM) -> SealPicture:
    """专用章 in the oval form (发票专用章 is 40×30 mm with the tax number across the middle)."""
    _require_text(org_name, "organisation name", "单位名称", 1, 40)
    _require_text(seal_name, "seal name", "印章名称", 1, 12)
    w, h = width_mm * px_per_mm, height_mm * px_per_mm
    canvas = _Canvas(w, h)
    border = 0.035 * h
    canvas.ellipse(w / 2, h / 2, w / 2 - border / 2 - 1, h / 2 - border / 2 - 1, border)
    ch = 0.16 * h
    gap = border + 0.04 * h + ch / 2
    canvas.arc_text(org_name, w / 2, h / 2, w / 2 - gap, h / 2 - gap, ch, max_span_deg=230,
                    top=True)
    if number:
        _require_text(number, "number", "编码", 1, 24)
        canvas.line_text(number, w / 2, h * 0.53, 0.12 * h, max_width=0.66 * w, width_ratio=0.55)
    canvas.line_text(seal_name, w / 2, h * 0.75, 0.13 * h, max_width=0.42 * w)
    return SealPicture(canvas.png(), width_mm, height_mm)


# ---------------------------------------------------------------------------------------------
def _require_text(text: str, en: str, zh: str, lo: int, hi: int) -> None:
    if not isinstance(text, str) or not lo <= len(text.strip()) <= hi or text != text.strip():
        raise SealPictureError(f"{en} must be {lo}–{hi} characters without outer spaces",
                               f"{zh}须为 {lo}–{hi} 个字符，首尾不能有空格")
    missing = [ch for ch in text if not ch.isspace() and not _has_glyph(ch)]
    if missing:
        raise SealPictureError(f"{en}: the font has no glyph for {''.join(missing)!r}",
                               f"{zh}中有字体无法显示的字符：{''.join(missing)}")


class _Canvas:
    """An ink mask (L) with the few drawing moves seals need."""

    def __init__(self, w: float, h: float):
        self.mask = Image.new("L", (round(w), round(h)), 0)
        self.draw = ImageDraw.Draw(self.mask)

    def png(self) -> bytes:
        """An indexed PNG whose 16 palette entries are all the seal red with rising alpha (tRNS):
        transparent like RGBA, a third of its size — the picture travels inside every SESeal,
        SES_Signature and PDF signature that uses the seal."""
        levels = ALPHA_LEVELS - 1
        index = self.mask.point(lambda v: (v * levels + 127) // 255)
        img = Image.frombytes("P", index.size, index.tobytes())
        img.putpalette(bytes(RED) * ALPHA_LEVELS)
        buf = io.BytesIO()
        # No pnginfo: no time, no software name, so equal inputs give equal bytes.
        img.save(buf, format="PNG", optimize=True, bits=4,
                 transparency=bytes(round(i * 255 / levels) for i in range(ALPHA_LEVELS)))
        return buf.getvalue()

    def ellipse(self, cx, cy, rx, ry, width) -> None:
        self.draw.ellipse((cx - rx, cy - ry, cx + rx, cy + ry), outline=255, width=round(width))

    def frame(self, x0, y0, x1, y1, width, radius) -> None:
        """A rectangular border whose outer edge is the box (x0, y0)–(x1, y1)."""
        self.draw.rounded_rectangle((x0, y0, x1, y1), radius=radius, outline=255,
                                    width=round(width))

    def star(self, cx, cy, r) -> None:
        points = []
        for i in range(10):
            rad = r if i % 2 == 0 else r * 0.382
            a = math.pi * i / 5
            points.append((cx + rad * math.sin(a), cy - rad * math.cos(a)))
        self.draw.polygon(points, fill=255)

    def glyph(self, ch: str, x: float, y: float, w: float, h: float, angle_deg: float) -> None:
        """One character of height h squeezed to width w, centred on (x, y), turned clockwise."""
        size = max(2, round(h))
        tile = Image.new("L", (size * 2, size * 2), 0)
        # A thin stroke thickens the regular face towards the weight of engraved seal type.
        ImageDraw.Draw(tile).text((size, size), ch, font=_font_for(ch, size), fill=255,
                                  anchor="mm", stroke_width=max(1, round(size * 0.025)),
                                  stroke_fill=255)
        tile = tile.resize((max(2, round(size * 2 * w / h)), size * 2), Image.LANCZOS)
        if angle_deg:
            tile = tile.rotate(-angle_deg, resample=Image.BICUBIC, expand=True)
        self.mask.paste(255, (round(x - tile.width / 2), round(y - tile.height / 2)), tile)

    def line_text(self, text: str, cx: float, cy: float, h: float, *, max_width: float,
                  width_ratio: float = 0.9) -> None:
        w = min(h * width_ratio, max_width / len(text))
        pitch = w * 1.05
        x0 = cx - pitch * (len(text) - 1) / 2
        for i, ch in enumerate(text):
            self.glyph(ch, x0 + i * pitch, cy, w, h, 0.0)

    def arc_text(self, text: str, cx: float, cy: float, rx: float, ry: float, h: float, *,
                 max_span_deg: float, top: bool, width_ratio: float = 0.85) -> None:
        """Characters evenly spaced by arc length along the upper (clockwise, heads outward) or
        lower (left to right, heads inward) part of an ellipse, centred on its vertical axis."""
        n = len(text)
        # Arc length as a function of the angle from the vertical axis, sampled finely.
        steps = 720
        thetas = [math.radians(max_span_deg) / 2 * i / steps for i in range(steps + 1)]
        lengths = [0.0]
        for a, b in zip(thetas, thetas[1:]):
            lengths.append(lengths[-1] + math.hypot(rx * (math.sin(b) - math.sin(a)),
                                                    ry * (math.cos(b) - math.cos(a))))
        half_max = lengths[-1]
        pitch = min(h * width_ratio * 1.12, 2 * half_max / n)
        w = min(h * width_ratio, pitch * 0.92)
        for i, ch in enumerate(text):
            s = (i - (n - 1) / 2) * pitch
            t = _angle_at(abs(s), thetas, lengths) * (1 if s >= 0 else -1)
            if top:
                x, y = cx + rx * math.sin(t), cy - ry * math.cos(t)
                rot = math.degrees(math.atan2(math.sin(t) / rx, math.cos(t) / ry))
            else:
                x, y = cx + rx * math.sin(t), cy + ry * math.cos(t)
                rot = math.degrees(math.atan2(-math.sin(t) / rx, math.cos(t) / ry))
            self.glyph(ch, x, y, w, h, rot)


def _angle_at(length: float, thetas: list[float], lengths: list[float]) -> float:
    lo, hi = 0, len(lengths) - 1
    while lo < hi:
        mid = (lo + hi) // 2
        if lengths[mid] < length:
            lo = mid + 1
        else:
            hi = mid
    return thetas[lo]

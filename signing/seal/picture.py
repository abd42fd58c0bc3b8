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
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont

from formats.errors import SigningError
from signing.seal.build import SealPicture

RED = (230, 0, 18)
ALPHA_LEVELS = 16  # edge smoothing steps; more are invisible at print size and cost bytes
# 12 px/mm ≈ 305 dpi: print resolution for a seal, and the picture travels inside every SESeal,
# every seal signature and every licence PDF (twice: page image and signed attribute), so each
# pixel is paid for in storage and in hashing; 40 px/mm (1,016 dpi) made a 42 mm seal 69 KB,
# 12 px/mm makes it 17 KB with no visible difference on paper or on screen at 100 %.
DEFAULT_PX_PER_MM = 12
# Round seals, as fractions of the diameter: a clear edge, the ring (1.26 mm at 42 mm, as
# engraved 公章 have 1–1.2 mm), and the clear space between the ring and the lettering (0.84 mm).
RING_INSET = 0.015
RING_WIDTH = 0.03
LETTER_MARGIN = 0.02
OVAL_RING = 0.035  # of an oval seal's height (1.05 mm at 30 mm)
# Some characters reach past the reference cell (国) by up to 5 % of its height (合, 察, 管),
# and resampling and rounding a turned character's tile by up to a couple of pixels.
OVERSHOOT = 0.05
RESAMPLING_PX = 2.5
SEAL_PARTS = frozenset({"ring", "star", "lettering"})

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


@dataclass(frozen=True)
class RoundRings:
    """A round seal's zones, as radii in pixels from the centre: ink of the ring lies between
    `inner` and `outer`; lettering stays within `limit` (the ring's inner edge less the clear
    margin engraved seals keep, so the letters never touch the ring)."""

    outer: float
    inner: float
    limit: float


def round_rings(diameter_px: float) -> RoundRings:
    outer = diameter_px * (0.5 - RING_INSET)
    inner = outer - RING_WIDTH * diameter_px
    return RoundRings(outer, inner, inner - LETTER_MARGIN * diameter_px)


def render_round_seal(org_name: str, seal_name: str = "", number: str = "", *,
                      diameter_mm: int = 42, px_per_mm: int = DEFAULT_PX_PER_MM) -> SealPicture:
    """公章: 42 mm by default (the usual size for organisations; 38–40 mm is common too)."""
    mask = round_seal_mask(org_name, seal_name, number, diameter_mm=diameter_mm,
                           px_per_mm=px_per_mm)
    return SealPicture(_png(mask), diameter_mm, diameter_mm)


def round_seal_mask(org_name: str, seal_name: str = "", number: str = "", *,
                    diameter_mm: int = 42, px_per_mm: int = DEFAULT_PX_PER_MM,
                    parts: frozenset[str] = SEAL_PARTS) -> Image.Image:
    """The ink mask of a round seal, or of some of its parts ("ring", "star", "lettering"):
    drawn apart, the lettering can be checked to stay clear of the ring pixel by pixel.

    The organisation name is fitted to the upper arc as seal engravers do: the longer the
    name, the wider the arc (up to 250°, 220° when a seal name or number shares the circle),
    then the narrower each character (down to 0.6 of its height), then the smaller the
    characters; every character's outer corners stay within `round_rings(...).limit`."""
    _require_text(org_name, "organisation name", "单位名称", 1, 40)
    if seal_name:
        _require_text(seal_name, "seal name", "印章名称", 1, 12)
    if number:
        _require_text(number, "seal number", "印章编码", 1, 24)
    d = diameter_mm * px_per_mm
    canvas = _Canvas(d, d)
    c = d / 2
    rings = round_rings(d)
    if "ring" in parts:
        canvas.ellipse(c, c, rings.outer, rings.outer, rings.outer - rings.inner)
    if "star" in parts:
        canvas.star(c, c, 0.165 * d)
    if "lettering" not in parts:
        return canvas.mask
    inner_limit = rings.limit  # what the seal name under the star must stay within
    if number:
        hn = 0.05 * d
        wn = 0.6 * hn
        rn = _radius_for(rings.limit, wn, hn)
        canvas.arc_text(number, c, c, rn, rn, hn, wn, wn * 1.1, top=False)
        inner_limit = rn - hn / 2 - LETTER_MARGIN * d
    span = 220 if seal_name or number else 250
    h, w, r, pitch = _fit_arc(len(org_name), rings.limit, span, d)
    canvas.arc_text(org_name, c, c, r, r, h, w, pitch, top=True)
    if seal_name:
        hs, ys = 0.105 * d, 0.27 * d
        bottom = ys + hs / 2
        half = math.sqrt(max(inner_limit ** 2 - bottom ** 2, 0.0))
        canvas.line_text(seal_name, c, c + ys, hs, max_width=2 * half)
    return canvas.mask


def _radius_for(limit: float, w: float, h: float) -> float:
    """The radius of the centre of a w × h character cell set radially whose outer corners,
    with what some characters draw past the cell and pixels of resampling, touch `limit`."""
    reach = limit - OVERSHOOT * h - RESAMPLING_PX
    return math.sqrt(reach ** 2 - (w / 2) ** 2) - h / 2


def _fit_arc(n: int, limit: float, span_deg: float, d: float) -> tuple[float, float, float, float]:
    """Height, width, centre radius and pitch (arc length between centres) for n characters
    along the upper arc: the largest height, then the least compression, whose line fits in
    `span_deg`; short names are spread (up to 1.45 character widths apart) rather than bunched
    at the top.  Neighbours are kept apart at a quarter height inwards, where radial characters
    come closest."""
    heights = [d * (0.15 - 0.005 * i) for i in range(13)]  # 0.15 d … 0.09 d
    ratios = [0.85 - 0.05 * i for i in range(6)]  # 0.85 … 0.6 of the height
    tries = [(h, q) for h in heights for q in ratios] + [(heights[-1], q) for q in (0.55, 0.5)]
    for h, q in tries:
        w = q * h
        r = _radius_for(limit, w, h)
        tight = w * 1.06 * r / (r - h / 4)
        room = r * math.radians(span_deg) - w
        if n == 1 or (n - 1) * tight <= room:
            pitch = tight if n == 1 else max(tight, min(w * 1.45, room / (n - 1)))
            return h, w, r, pitch
    raise SealPictureError(f"the organisation name is too long for a {d:.0f} px seal ({n} characters)",
                           f"单位名称过长（{n} 个字），无法排入印章")


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
    mask = oval_seal_mask(org_name, seal_name, number, width_mm=width_mm, height_mm=height_mm,
                          px_per_mm=px_per_mm)
    return SealPicture(_png(mask), width_mm, height_mm)


def oval_rings(width_px: float, height_px: float) -> tuple[tuple[float, float], ...]:
    """An oval seal's ring, as (outer, inner, limit) semi-axes in pixels: ring ink between
    outer and inner, lettering within limit (the inner edge less the margin round seals keep)."""
    border = OVAL_RING * height_px
    outer = (width_px / 2 - 1, height_px / 2 - 1)
    inner = (outer[0] - border, outer[1] - border)
    m = LETTER_MARGIN * 42 / 30 * height_px  # the same 0.84 mm as a 42 mm round seal at 30 mm
    return outer, inner, (inner[0] - m, inner[1] - m)


def oval_seal_mask(org_name: str, seal_name: str, number: str = "", *, width_mm: int = 45,
                   height_mm: int = 30, px_per_mm: int = DEFAULT_PX_PER_MM,
                   parts: frozenset[str] = SEAL_PARTS) -> Image.Image:
    """The ink mask of an oval seal or of some of its parts ("ring", "lettering").  The name
    runs along an ellipse moved inwards until every character's cell, turned as drawn, lies
    within the lettering limit (`oval_rings`): along an ellipse the cells' corners, not their
    centres, come nearest the ring, and most at the ends of the arc."""
    _require_text(org_name, "organisation name", "单位名称", 1, 40)
    _require_text(seal_name, "seal name", "印章名称", 1, 12)
    if number:
        _require_text(number, "number", "编码", 1, 24)
    w, h = width_mm * px_per_mm, height_mm * px_per_mm
    canvas = _Canvas(w, h)
    outer, inner, limit = oval_rings(w, h)
    if "ring" in parts:
        canvas.ellipse(w / 2, h / 2, outer[0], outer[1], outer[1] - inner[1])
    if "lettering" not in parts:
        return canvas.mask
    inset, shrink = 0.08 * h, 1.0
    while True:
        rx, ry = limit[0] - inset, limit[1] - inset
        half_max = _arc_lengths(rx, ry, 220)[1][-1]
        pitch = min(0.16 * h * 0.85 * 1.12, 2 * half_max / len(org_name))
        cw = min(0.16 * h * 0.85, pitch * 0.92)
        ch = min(0.16 * h, cw / 0.55) * shrink  # long names: narrower, then smaller characters
        placed = _arc_positions(len(org_name), rx, ry, pitch, top=True)
        if not all(_cell_inside(x, y, rot, cw, ch, limit) for x, y, rot in placed):
            inset += 1
        elif _inner_gap(placed, ch) < 0.8 * cw:  # where the ellipse bends most, feet collide
            shrink *= 0.95
        else:
            break
    canvas.arc_text(org_name, w / 2, h / 2, rx, ry, ch, cw, pitch, top=True)
    if number:
        canvas.line_text(number, w / 2, h * 0.53, 0.12 * h, max_width=0.66 * w, width_ratio=0.55)
    canvas.line_text(seal_name, w / 2, h * 0.75, 0.13 * h, max_width=0.42 * w)
    return canvas.mask


def _inner_gap(placed: list[tuple[float, float, float]], h: float) -> float:
    """The least distance between the inner edges' midpoints of neighbouring characters."""
    feet = [(x - h / 2 * math.sin(math.radians(rot)), y + h / 2 * math.cos(math.radians(rot)))
            for x, y, rot in placed]
    return min((math.dist(a, b) for a, b in zip(feet, feet[1:])), default=math.inf)


def _cell_inside(x: float, y: float, rot_deg: float, w: float, h: float,
                 axes: tuple[float, float]) -> bool:
    """Whether a w × h cell centred (x, y) from the seal's centre, turned rot_deg clockwise,
    with the reach past the cell `_radius_for` allows for, lies within the ellipse `axes`."""
    a, b = math.radians(rot_deg), RESAMPLING_PX
    hh, hw = h / 2 + OVERSHOOT * h + b, w / 2 + b
    for dx, dy in ((-hw, -hh), (hw, -hh), (-hw, hh), (hw, hh)):
        px = x + dx * math.cos(a) - dy * math.sin(a)
        py = y + dx * math.sin(a) + dy * math.cos(a)
        if (px / axes[0]) ** 2 + (py / axes[1]) ** 2 > 1:
            return False
    return True


# ---------------------------------------------------------------------------------------------
def _require_text(text: str, en: str, zh: str, lo: int, hi: int) -> None:
    if not isinstance(text, str) or not lo <= len(text.strip()) <= hi or text != text.strip():
        raise SealPictureError(f"{en} must be {lo}–{hi} characters without outer spaces",
                               f"{zh}须为 {lo}–{hi} 个字符，首尾不能有空格")
    missing = [ch for ch in text if not ch.isspace() and not _has_glyph(ch)]
    if missing:
        raise SealPictureError(f"{en}: the font has no glyph for {''.join(missing)!r}",
                               f"{zh}中有字体无法显示的字符：{''.join(missing)}")


def _png(mask: Image.Image) -> bytes:
    """An indexed PNG whose 16 palette entries are all the seal red with rising alpha (tRNS):
    transparent like RGBA, a third of its size — the picture travels inside every SESeal,
    SES_Signature and PDF signature that uses the seal."""
    levels = ALPHA_LEVELS - 1
    index = mask.point(lambda v: (v * levels + 127) // 255)
    img = Image.frombytes("P", index.size, index.tobytes())
    img.putpalette(bytes(RED) * ALPHA_LEVELS)
    buf = io.BytesIO()
    # No pnginfo: no time, no software name, so equal inputs give equal bytes.
    img.save(buf, format="PNG", optimize=True, bits=4,
             transparency=bytes(round(i * 255 / levels) for i in range(ALPHA_LEVELS)))
    return buf.getvalue()


class _Canvas:
    """An ink mask (L) with the few drawing moves seals need."""

    def __init__(self, w: float, h: float):
        self.mask = Image.new("L", (round(w), round(h)), 0)
        self.draw = ImageDraw.Draw(self.mask)

    def png(self) -> bytes:
        return _png(self.mask)

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
        """One character in a w × h cell centred on (x, y), turned clockwise.  The cell is the
        ink box of a full-width reference character (国, or 0 for digits and letters), so
        characters share one baseline and the cell bounds what is drawn: a layout that keeps
        the cell inside the seal keeps the ink there too."""
        latin = ch.isascii()
        bx0, by0, bx1, by1 = _reference_box(latin)
        size = max(2, round(h * _REF_PX / (by1 - by0)))
        k = size / _REF_PX
        cell_w, cell_h = (bx1 - bx0) * k, (by1 - by0) * k
        pad = 0.2 * size
        tile = Image.new("L", (round(cell_w + 2 * pad), round(cell_h + 2 * pad)), 0)
        ImageDraw.Draw(tile).text((pad - bx0 * k, pad - by0 * k), ch, font=_font(size, latin),
                                  fill=255, anchor="mm")
        # Thickened towards the weight of engraved seal type by dilation, not FreeType's
        # stroker: that fills the space between overlapping contours (警 became a block).
        # More than about 1/80 of the size closes the gaps of dense characters too.
        if _stroke(size):
            tile = tile.filter(ImageFilter.MaxFilter(2 * _stroke(size) + 1))
        sx, sy = w / cell_w, h / cell_h
        tile = tile.resize((max(2, round(tile.width * sx)), max(2, round(tile.height * sy))),
                           Image.LANCZOS)
        if angle_deg:
            tile = tile.rotate(-angle_deg, resample=Image.BICUBIC, expand=True)
        self.mask.paste(255, (round(x - tile.width / 2), round(y - tile.height / 2)), tile)

    def line_text(self, text: str, cx: float, cy: float, h: float, *, max_width: float,
                  width_ratio: float = 0.9) -> None:
        """A centred line; when it would exceed max_width the characters narrow first, down to
        half their height, then shrink."""
        w = min(h * width_ratio, max_width / (len(text) * 1.05))
        h = min(h, 2 * w)
        pitch = w * 1.05
        x0 = cx - pitch * (len(text) - 1) / 2
        for i, ch in enumerate(text):
            self.glyph(ch, x0 + i * pitch, cy, w, h, 0.0)

    def arc_text(self, text: str, cx: float, cy: float, rx: float, ry: float, h: float,
                 w: float, pitch: float, *, top: bool) -> None:
        for ch, (x, y, rot) in zip(text, _arc_positions(len(text), rx, ry, pitch, top=top)):
            self.glyph(ch, cx + x, cy + y, w, h, rot)


def _arc_positions(n: int, rx: float, ry: float, pitch: float, *,
                   top: bool) -> list[tuple[float, float, float]]:
    """Centres (from the ellipse's centre) and clockwise turns of n characters `pitch` apart by
    arc length along the upper (clockwise, heads outward) or lower (left to right, heads
    inward) half of an ellipse, centred on its vertical axis."""
    thetas, lengths = _arc_lengths(rx, ry, 360)
    out = []
    for i in range(n):
        s = (i - (n - 1) / 2) * pitch
        t = _angle_at(abs(s), thetas, lengths) * (1 if s >= 0 else -1)
        if top:
            out.append((rx * math.sin(t), -ry * math.cos(t),
                        math.degrees(math.atan2(math.sin(t) / rx, math.cos(t) / ry))))
        else:
            out.append((rx * math.sin(t), ry * math.cos(t),
                        math.degrees(math.atan2(-math.sin(t) / rx, math.cos(t) / ry))))
    return out


_REF_PX = 200


@lru_cache(maxsize=2)
def _reference_box(latin: bool) -> tuple[float, float, float, float]:
    """The ink box of the reference character at _REF_PX, relative to its middle anchor, with
    the thickening `glyph` adds."""
    x0, y0, x1, y1 = _font(_REF_PX, latin).getbbox("0" if latin else "国", anchor="mm")
    t = _stroke(_REF_PX)
    return x0 - t, y0 - t, x1 + t, y1 + t


def _stroke(size: int) -> int:
    return round(size * 0.0125)


def _arc_lengths(rx: float, ry: float, max_deg: float) -> tuple[list[float], list[float]]:
    """Angles from the vertical axis up to max_deg / 2 and the arc length to each, sampled
    finely (an ellipse's arc length has no closed form)."""
    steps = 720
    thetas = [math.radians(max_deg) / 2 * i / steps for i in range(steps + 1)]
    lengths = [0.0]
    for a, b in zip(thetas, thetas[1:]):
        lengths.append(lengths[-1] + math.hypot(rx * (math.sin(b) - math.sin(a)),
                                                ry * (math.cos(b) - math.cos(a))))
    return thetas, lengths


def _angle_at(length: float, thetas: list[float], lengths: list[float]) -> float:
    lo, hi = 0, len(lengths) - 1
    while lo < hi:
        mid = (lo + hi) // 2
        if lengths[mid] < length:
            lo = mid + 1
        else:
            hi = mid
    return thetas[lo]

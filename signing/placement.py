"""Where a seal goes on a document (电子签章 placement), the same for PDF and OFD.

Three ways a counter clerk or an approval system names the spot, exactly one per stamp:

- **position** — page (1-based) and x/y in millimetres of the seal's *top-left corner* from the
  page's top-left corner (the visible page: PDF CropBox, OFD PhysicalBox), x to the right, y down;
- **keyword** (关键字定位) — the seal centred over the first occurrence of a text on any page;
- **straddle** (骑缝章) — the seal cut into one vertical slice per page, each slice at the right
  edge of its page, so that the pages laid side by side show the whole seal; y_mm optionally
  puts the seal's top (default: centred vertically).

Why millimetres from the top-left: that is how a clerk measures a printed page and how OFD
boxes are written; PDF's origin (bottom-left, points) is converted here and nowhere else.
`Placement.as_kwargs()` are the keyword arguments of both `signing.pdf.stamp_document` and
`signing.ofd.stamp.stamp_ofd`, so the service passes one placement to either unchanged.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from formats.errors import SigningError

MM = 72 / 25.4  # PDF points per millimetre
MAX_KEYWORD = 64
MAX_SIZE_MM = 120.0
MIN_SIZE_MM = 10.0
MAX_PAGE = 100_000


class PlacementError(SigningError):
    """The caller asked for a spot that does not exist or is not one spot."""

    code = "seal-placement"
    title_zh = "盖章位置无效"
    title_en = "Invalid seal placement"


@dataclass(frozen=True)
class Placement:
    page: int | None = None
    x_mm: float | None = None
    y_mm: float | None = None
    keyword: str | None = None
    straddle: bool = False
    size_mm: float | None = None  # the seal's width; default: the width the seal declares

    def __post_init__(self):
        position = self.page is not None or self.x_mm is not None
        modes = sum((position, bool(self.keyword), bool(self.straddle)))
        if modes != 1 or (self.keyword is not None and not self.keyword):
            raise PlacementError(
                "give exactly one of page+x+y, keyword or straddle",
                "须且只能给出一种位置：页码+x+y、关键字或骑缝章")
        if position and (self.page is None or self.x_mm is None or self.y_mm is None):
            raise PlacementError("a position needs page, x and y", "按坐标盖章须同时给出页码、x 和 y")
        if self.page is not None and not 1 <= self.page <= MAX_PAGE:
            raise PlacementError("page numbers start at 1", "页码从 1 开始")
        for name, value in (("x", self.x_mm), ("y", self.y_mm), ("size", self.size_mm)):
            if value is not None and not (math.isfinite(value) and 0 <= value <= 10_000):
                raise PlacementError(f"{name} must be a number of millimetres from 0 to 10000",
                                     f"{name} 须为 0 至 10000 之间的毫米数")
        if self.size_mm is not None and not MIN_SIZE_MM <= self.size_mm <= MAX_SIZE_MM:
            raise PlacementError(f"the seal size must be {MIN_SIZE_MM:g}–{MAX_SIZE_MM:g} mm",
                                 f"印章尺寸须在 {MIN_SIZE_MM:g}–{MAX_SIZE_MM:g} 毫米之间")
        if self.keyword is not None and (len(self.keyword) > MAX_KEYWORD
                                         or not self.keyword.isprintable()
                                         or not self.keyword.strip()):
            raise PlacementError(f"the keyword must be printable text of at most {MAX_KEYWORD} "
                                 "characters", f"关键字须为不超过 {MAX_KEYWORD} 个字符的可打印文字")

    @property
    def mode(self) -> str:
        return "straddle" if self.straddle else "keyword" if self.keyword else "position"

    def as_kwargs(self) -> dict:
        return {"page": self.page, "x_mm": self.x_mm, "y_mm": self.y_mm,
                "keyword": self.keyword, "straddle": self.straddle, "size_mm": self.size_mm}

    def describe(self) -> dict:
        """What the audit entry records (no document text beyond the keyword asked for)."""
        return {k: v for k, v in self.as_kwargs().items() if v not in (None, False)}


# -- geometry in PDF user space (points, origin bottom-left of the page's box) --------------

Box = tuple[float, float, float, float]  # x1, y1, x2, y2


def seal_size(declared_mm: tuple[float, float], size_mm: float | None) -> tuple[float, float]:
    """Width and height in points: the seal's declared size, or scaled to `size_mm` wide."""
    w, h = (float(v) for v in declared_mm)
    if w <= 0 or h <= 0:
        w = h = 42.0  # a seal without a size: the usual round official seal
    if size_mm is not None:
        w, h = size_mm, h * size_mm / w
    return w * MM, h * MM


def box_at(page: Box, x_mm: float, y_mm: float, size: tuple[float, float]) -> Box:
    """The seal's rectangle with its top-left corner at (x_mm, y_mm) from the page's top-left;
    it must lie on the page."""
    w, h = size
    x1 = page[0] + x_mm * MM
    y2 = page[3] - y_mm * MM
    box = (x1, y2 - h, x1 + w, y2)
    _inside(page, box)
    return box


def box_centred(page: Box, centre: tuple[float, float], size: tuple[float, float]) -> Box:
    """The seal centred on `centre`, moved inside the page if it would stick out."""
    w, h = size
    x1 = min(max(centre[0] - w / 2, page[0]), page[2] - w)
    y1 = min(max(centre[1] - h / 2, page[1]), page[3] - h)
    box = (x1, y1, x1 + w, y1 + h)
    _inside(page, box)
    return box


def straddle_boxes(pages: list[Box], size: tuple[float, float],
                   y_mm: float | None = None) -> list[Box]:
    """One slice per page, flush with the right edge: slice i shows the i-th of len(pages)
    equal vertical strips of the seal."""
    if len(pages) < 2:
        raise PlacementError("a straddling seal (骑缝章) needs at least two pages",
                             "骑缝章至少需要两页")
    w, h = size
    part = w / len(pages)
    boxes = []
    for page in pages:
        top = page[3] - y_mm * MM if y_mm is not None else (page[1] + page[3] + h) / 2
        box = (page[2] - part, top - h, page[2], top)
        _inside(page, box)
        boxes.append(box)
    return boxes


def _inside(page: Box, box: Box) -> None:
    eps = 0.01
    if (box[0] < page[0] - eps or box[1] < page[1] - eps or box[2] > page[2] + eps
            or box[3] > page[3] + eps):
        pw, ph = (page[2] - page[0]) / MM, (page[3] - page[1]) / MM
        raise PlacementError(
            f"the seal ({(box[2] - box[0]) / MM:.0f}×{(box[3] - box[1]) / MM:.0f} mm) does not fit "
            f"on the page ({pw:.0f}×{ph:.0f} mm) there",
            f"印章（{(box[2] - box[0]) / MM:.0f}×{(box[3] - box[1]) / MM:.0f} 毫米）在该位置超出页面"
            f"（{pw:.0f}×{ph:.0f} 毫米）")

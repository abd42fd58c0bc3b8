"""Fonts for licence pages: Droid Sans Fallback for Chinese, Bitstream Vera for Latin text.

Droid Sans Fallback (bundled, Apache-2.0) carries the CJK glyphs but no Latin letters or digits,
so text is drawn in runs: ASCII and Latin-1 in Vera (shipped inside reportlab), the rest in
Droid.  Both are embedded as subsets.  Neither has a bold weight embedded here: the page thickens
labels with an outline stroke instead of embedding a third font (one more subset per page).

Two process-wide preparations keep a page under 10 ms: the 4 MB font is parsed once, and its
tables are cached, because reportlab's subsetter slices the 3.9 MB `glyf` table out of the file
on every document.  reportlab's font objects keep a file cursor while subsetting, so rendering
holds `RENDER_LOCK`; pure-Python rendering gains nothing from threads anyway.
"""

from __future__ import annotations

import functools
import threading
from pathlib import Path

import reportlab
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

from signing.errors import SigningError

CJK = "LicenceCJK"
LATIN = "LicenceLatin"
CJK_PATH = Path(__file__).resolve().parent / "fonts" / "DroidSansFallbackFull.ttf"
_RL_FONTS = Path(reportlab.__file__).resolve().parent / "fonts"
LATIN_PATH = _RL_FONTS / "Vera.ttf"

RENDER_LOCK = threading.RLock()


class FontError(SigningError):
    code = "font-missing"


_COVERAGE: dict[str, frozenset[int]] = {}


@functools.lru_cache(maxsize=1)
def register() -> None:
    """Parse and register the fonts once per process (~0.1 s)."""
    for name, path in ((CJK, CJK_PATH), (LATIN, LATIN_PATH)):
        if not path.exists():
            raise FontError(f"font file missing: {path}", f"缺少字体文件：{path}")
        font = TTFont(name, str(path))
        font.face.get_table = functools.lru_cache(maxsize=None)(font.face.get_table)
        pdfmetrics.registerFont(font)
        _COVERAGE[name] = frozenset(font.face.charToGlyph)


def _is_latin(ch: str) -> bool:
    """Latin-1 always goes to Vera; beyond it, Vera only for what Droid lacks (e.g. “ ”)."""
    code = ord(ch)
    if code < 0x100:
        return True
    return code not in _COVERAGE[CJK] and code in _COVERAGE[LATIN]


@functools.lru_cache(maxsize=4096)
def runs(text: str) -> tuple[tuple[str, str], ...]:
    """Split text into (font name, substring) runs (cached: labels repeat on every page)."""
    register()
    out: list[tuple[str, str]] = []
    for ch in text:
        name = LATIN if _is_latin(ch) else CJK
        if out and out[-1][0] == name:
            out[-1] = (name, out[-1][1] + ch)
        else:
            out.append((name, ch))
    return tuple(out)


def width(text: str, size: float) -> float:
    return sum(pdfmetrics.stringWidth(s, name, size) for name, s in runs(text))

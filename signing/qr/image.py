"""QR symbols for EL1/EP1/EP2 text: alphanumeric mode, encoded by zxing-cpp; error correction Q
for the printed EL1 (paper gets creased and dirty), M for the 亮证 code on a clean phone screen
(`EC_SCREEN`: four versions smaller for the same text, so bigger modules at the same width).

zxing-cpp (C++) encodes a ~400-character EL1 much faster than the pure-Python encoders
(docs/dependencies.md), which matters on the issuance hot path.  Its encoder picks the alphanumeric mode by
itself for text within that alphabet; `modules()` refuses anything else so a caller cannot
silently fall back to the larger byte mode.

Data mask.  ISO/IEC 18004 §7.8.3 has the encoder try the eight data masks and keep the one with
the lowest penalty score.  zxing-cpp's own evaluation takes ~1.3 ms of a ~1.5 ms encode, so we
let it encode once with mask 0 and evaluate the masks here: for one version and error
correction level, the symbol with mask m differs from the symbol with mask 0 by a fixed pattern
(the two masks XORed over the data region, and the two format-information words), whatever the
data.  That pattern is learnt once per version (`_mask_deltas`) by asking zxing-cpp for all
eight; per symbol we XOR, score the eight candidates on the whole symbol packed into one integer
(`penalty`: rules N1–N4 as bit operations, each on all rows or all columns at once) and keep the
lowest (ties: the lower mask number).  tests/signing/test_qr_mask.py checks the result against
zxing-cpp's symbols and a plain module-by-module penalty.
"""

from __future__ import annotations

import functools
import io
import re

import zxingcpp

from formats.errors import FormatError

_ALPHANUMERIC = re.compile(r"^[0-9A-Z $%*+\-./:]+$")
MAX_ALPHANUMERIC_Q = 1852  # version 40-Q capacity in alphanumeric mode (ISO/IEC 18004 Table 7)
_TO_DARK = bytes([1] + [0] * 255)  # zxing-cpp draws dark modules as 0x00
_TO_DIGIT = bytes.maketrans(b"\x00\x01", b"01")
_FROM_DIGIT = bytes.maketrans(b"01", b"\x00\x01")
# ISO/IEC 18004 §7.8.3.1 weights, and the 1:1:3:1:1 finder-like pattern with 4 light modules.
N1, N2, N3, N4 = 3, 3, 40, 10
_FINDER_LIKE = ("10111010000", "00001011101")
EC_PRINT, EC_SCREEN = "Q", "M"


class QRImageError(FormatError):
    code = "qr-image"


def _check(text: str) -> None:
    if not _ALPHANUMERIC.match(text or ""):
        raise QRImageError("QR text must use the QR alphanumeric alphabet (0-9 A-Z space $%*+-./:)",
                           "二维码内容必须只含 QR 字母数字模式字符")
    if len(text) > MAX_ALPHANUMERIC_Q:
        raise QRImageError(f"QR text of {len(text)} characters exceeds {MAX_ALPHANUMERIC_Q}",
                           f"二维码内容 {len(text)} 个字符，超过上限 {MAX_ALPHANUMERIC_Q}")


def _rows(text: str, mask: int, ec_level: str = EC_PRINT) -> list[bytes]:
    """zxing-cpp's symbol with data mask `mask` as rows of 0/1 bytes (1 = dark)."""
    img = zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.QRCode, ec_level=ec_level,
                                  data_mask=mask).to_image(scale=1, add_quiet_zones=False)
    n = img.shape[1]
    dark = bytes(memoryview(img)).translate(_TO_DARK)
    return [dark[i:i + n] for i in range(0, len(dark), n)]


# -- the symbol as one integer: module (r, c) is bit r*(n+1) + c; bit c = n of a row stays 0 ----

def _pack(rows: list[bytes]) -> int:
    return int(b"".join(b"0" + r.translate(_TO_DIGIT)[::-1] for r in reversed(rows)), 2)


def _unpack(x: int, n: int) -> list[bytes]:
    stride = n + 1
    bits = format(x, "b").zfill(n * stride).encode()[::-1]
    return [bits[r * stride:r * stride + n].translate(_FROM_DIGIT) for r in range(n)]


@functools.lru_cache(maxsize=64)
def _regions(n: int) -> dict[str, int]:
    """Bit masks of the module positions where each rule may start, for an n x n symbol."""
    stride = n + 1

    def where(rows: int, cols: int) -> int:
        row = (1 << cols) - 1
        return sum(row << (r * stride) for r in range(rows))

    return {"all": where(n, n), "h2": where(n, n - 1), "v2": where(n - 1, n),
            "h11": where(n, max(n - 10, 0)), "v11": where(max(n - 10, 0), n)}


def penalty(x: int, n: int) -> int:
    """ISO/IEC 18004 §7.8.3.1 penalty of the packed n x n symbol `x` (pattern rule N3 counted
    within the symbol, each 11-module pattern once, as zxing does)."""
    s, reg = n + 1, _regions(n)
    eq_h = ~(x ^ (x >> 1)) & reg["h2"]  # module == its right neighbour
    eq_v = ~(x ^ (x >> s)) & reg["v2"]  # module == the one below
    score = N2 * (eq_h & (eq_h >> s) & eq_v).bit_count()  # 2x2 blocks of one colour
    for eq, step in ((eq_h, 1), (eq_v, s)):
        # A run of k >= 5 equal modules scores 3 + (k - 5) = (k - 4 windows of 5) + 2.
        w5 = eq & (eq >> step) & (eq >> 2 * step) & (eq >> 3 * step)
        score += w5.bit_count() + (N1 - 1) * (w5 & ~(w5 << step)).bit_count()
    for start, step in ((reg["h11"], 1), (reg["v11"], s)):
        for pattern in _FINDER_LIKE:
            m = start
            for j, bit in enumerate(pattern):
                m &= (x >> (j * step)) if bit == "1" else ~(x >> (j * step))
            score += N3 * m.bit_count()
    dark, total = x.bit_count(), n * n
    return score + N4 * (abs(100 * dark - 50 * total) // (5 * total))


_DELTAS: dict[tuple[int, str], tuple[int, ...]] = {}


def _mask_deltas(text: str, base: int, n: int, ec_level: str) -> tuple[int, ...]:
    """Per mask m, the packed XOR between the symbols with mask m and mask 0 of this version
    and error correction level (the format information differs per level)."""
    deltas = _DELTAS.get((n, ec_level))
    if deltas is None:
        deltas = _DELTAS[(n, ec_level)] = (
            0, *(_pack(_rows(text, m, ec_level)) ^ base for m in range(1, 8)))
    return deltas


def modules(text: str, ec_level: str = EC_PRINT) -> list[bytes]:
    """The symbol as rows of 0/1 bytes (1 = dark), without quiet zone: for vector drawing."""
    _check(text)
    if ec_level not in (EC_PRINT, EC_SCREEN):
        raise QRImageError(f"unsupported error correction level {ec_level!r}",
                           f"不支持的纠错等级 {ec_level!r}")
    rows = _rows(text, 0, ec_level)
    n = len(rows)
    base = _pack(rows)
    candidates = [base ^ d for d in _mask_deltas(text, base, n, ec_level)]
    best = min(range(8), key=lambda m: (penalty(candidates[m], n), m))
    return rows if best == 0 else _unpack(candidates[best], n)


def png(text: str, scale: int = 6, ec_level: str = EC_PRINT) -> bytes:
    """A black-on-white PNG of the same symbol, with the 4-module quiet zone the standard
    requires."""
    from PIL import Image

    if not 1 <= scale <= 40:
        raise QRImageError("QR scale must be 1..40 pixels per module", "二维码缩放倍数必须在 1 到 40 之间")
    rows = modules(text, ec_level)
    n = len(rows)
    img = Image.frombytes("L", (n, n), b"".join(rows).translate(bytes([255, 0] + [0] * 254)))
    side = (n + 8) * scale
    out = Image.new("L", (side, side), 255)
    out.paste(img.resize((n * scale, n * scale), Image.NEAREST), (4 * scale, 4 * scale))
    buf = io.BytesIO()
    out.convert("1").save(buf, "PNG", optimize=False)
    return buf.getvalue()

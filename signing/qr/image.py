"""QR symbols for EL1/EP1 text: error correction Q, alphanumeric mode, encoded by zxing-cpp.

zxing-cpp (C++) encodes a ~400-character EL1 in about a millisecond, against ~17 ms for the
pure-Python encoders (DESIGN §2), which matters on the issuance hot path.  Its encoder picks the
alphanumeric mode by itself for text within that alphabet; `modules()` refuses anything else so a
caller cannot silently fall back to the larger byte mode.
"""

from __future__ import annotations

import io
import re

import zxingcpp

from signing.errors import SigningError

_ALPHANUMERIC = re.compile(r"^[0-9A-Z $%*+\-./:]+$")
MAX_ALPHANUMERIC_Q = 1852  # version 40-Q capacity in alphanumeric mode (ISO/IEC 18004 Table 7)


class QRImageError(SigningError):
    code = "qr-image"


def _barcode(text: str):
    if not _ALPHANUMERIC.match(text or ""):
        raise QRImageError("QR text must use the QR alphanumeric alphabet (0-9 A-Z space $%*+-./:)",
                           "二维码内容必须只含 QR 字母数字模式字符")
    if len(text) > MAX_ALPHANUMERIC_Q:
        raise QRImageError(f"QR text of {len(text)} characters exceeds {MAX_ALPHANUMERIC_Q}",
                           f"二维码内容 {len(text)} 个字符，超过上限 {MAX_ALPHANUMERIC_Q}")
    return zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.QRCode, ec_level="Q")


def modules(text: str) -> list[bytes]:
    """The symbol as rows of 0/1 bytes (1 = dark), without quiet zone: for vector drawing."""
    img = _barcode(text).to_image(scale=1, add_quiet_zones=False)
    n = img.shape[1]
    raw = bytes(memoryview(img))
    dark = raw.translate(bytes([1] + [0] * 255))  # zxing-cpp draws dark modules as 0x00
    return [dark[i:i + n] for i in range(0, len(dark), n)]


def png(text: str, scale: int = 6) -> bytes:
    """A black-on-white PNG with the 4-module quiet zone the standard requires."""
    from PIL import Image

    if not 1 <= scale <= 40:
        raise QRImageError("QR scale must be 1..40 pixels per module", "二维码缩放倍数必须在 1 到 40 之间")
    img = _barcode(text).to_image(scale=scale, add_quiet_zones=True)
    h, w = img.shape
    out = io.BytesIO()
    Image.frombytes("L", (w, h), bytes(memoryview(img))).convert("1").save(out, "PNG", optimize=False)
    return out.getvalue()

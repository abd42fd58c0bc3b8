"""The printed QR's data mask: `signing.qr.image.modules` lets zxing-cpp encode with mask 0 and
picks the mask itself (ISO/IEC 18004 §7.8.3).  Checked here against zxing-cpp's own symbols for
every mask, a plain module-by-module penalty written independently of the bit-parallel one, and
a zxing-cpp read of the result."""

import random

import pytest
import zxingcpp
from PIL import Image

from signing.qr import image

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"


def _zxing(text: str, mask: int, ec_level: str = "Q") -> list[bytes]:
    img = zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.QRCode, ec_level=ec_level,
                                  data_mask=mask).to_image(scale=1, add_quiet_zones=False)
    n = img.shape[1]
    raw = bytes(memoryview(img))
    return [bytes(1 if b == 0 else 0 for b in raw[i:i + n]) for i in range(0, len(raw), n)]


def _reference_penalty(rows: list[bytes]) -> int:
    n = len(rows)
    grid = [list(r) for r in rows]
    lines = grid + [list(col) for col in zip(*grid)]
    score = 0
    for line in lines:  # N1: runs of 5 or more
        run = 1
        for i in range(1, n + 1):
            if i < n and line[i] == line[i - 1]:
                run += 1
                continue
            if run >= 5:
                score += 3 + (run - 5)
            run = 1
    for r in range(n - 1):  # N2: 2x2 blocks
        for c in range(n - 1):
            if grid[r][c] == grid[r][c + 1] == grid[r + 1][c] == grid[r + 1][c + 1]:
                score += 3
    patterns = {(1, 0, 1, 1, 1, 0, 1, 0, 0, 0, 0), (0, 0, 0, 0, 1, 0, 1, 1, 1, 0, 1)}
    for line in lines:  # N3: finder-like 1:1:3:1:1 with 4 light modules
        score += 40 * sum(tuple(line[c:c + 11]) in patterns for c in range(n - 10))
    dark, total = sum(map(sum, grid)), n * n  # N4: dark proportion
    return score + 10 * (abs(100 * dark - 50 * total) // (5 * total))


def _texts():
    rnd = random.Random(7)
    out = ["EL1:" + "".join(rnd.choice(ALPHABET[:36]) for _ in range(k)) for k in (30, 200, 380, 420, 470)]
    out.append("EL1:" + "0" * 300)  # long uniform runs: the penalty decides
    return out


@pytest.mark.parametrize("text", _texts())
def test_mask_is_zxings_symbol_with_the_lowest_penalty(text):
    image._DELTAS.clear()
    symbols = [_zxing(text, m) for m in range(8)]
    scores = [_reference_penalty(s) for s in symbols]
    best = min(range(8), key=lambda m: (scores[m], m))
    got = image.modules(text)
    assert got == symbols[best]
    n = len(got)
    assert [image.penalty(image._pack(s), n) for s in symbols] == scores


def test_screen_symbols_at_level_m_choose_zxings_lowest_penalty_mask():
    """The 亮证 code is drawn at level M: its deltas are learnt per level, not shared with Q."""
    text, same_version_at_q = "EP2:" + "K3" * 220, "EL1:" + "A" * 320
    assert len(_zxing(text, 0, "M")) == len(_zxing(same_version_at_q, 0, "Q"))
    image._DELTAS.clear()
    image.modules(same_version_at_q)  # learns level Q's deltas of this version first
    symbols = [_zxing(text, m, "M") for m in range(8)]
    scores = [_reference_penalty(s) for s in symbols]
    assert image.modules(text, image.EC_SCREEN) == symbols[min(range(8), key=lambda m: (scores[m], m))]
    assert len(symbols[0]) < len(_zxing(text, 0, "Q"))


def test_mask_deltas_learnt_from_one_text_fit_another_of_the_same_version():
    image._DELTAS.clear()
    a, b = "EL1:" + "A" * 380, "EL1:" + "7Z" * 190
    assert len(_zxing(a, 0)) == len(_zxing(b, 0))
    image.modules(a)  # learns this version's deltas from `a`
    base = image._pack(_zxing(b, 0))
    n = len(_zxing(b, 0))
    for m, delta in enumerate(image._DELTAS[(n, "Q")]):
        assert image._unpack(base ^ delta, n) == _zxing(b, m)


def test_chosen_symbol_reads_back_with_ec_level_q():
    text = "EL1:" + "Q7" * 200
    rows = image.modules(text)
    n = len(rows)
    img = Image.frombytes("L", (n, n), b"".join(rows).translate(bytes([255, 0] + [0] * 254)))
    page = Image.new("L", ((n + 8) * 4, (n + 8) * 4), 255)
    page.paste(img.resize((n * 4, n * 4), Image.NEAREST), (16, 16))
    found = zxingcpp.read_barcodes(page, formats=zxingcpp.BarcodeFormat.QRCode)
    assert [b.text for b in found] == [text] and found[0].ec_level == "Q"
    png = Image.open(__import__("io").BytesIO(image.png(text, scale=3)))
    assert [b.text for b in zxingcpp.read_barcodes(
        png.convert("L"), formats=zxingcpp.BarcodeFormat.QRCode)] == [text]

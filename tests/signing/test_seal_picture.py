"""Seal pictures: red ink, transparent background, size in millimetres, same bytes every time."""

import io

import pytest
from PIL import Image

from signing.seal.picture import (_LATIN_FONT, DEFAULT_PX_PER_MM, RED, SealPictureError, render_oval_seal,
                                  render_round_seal, render_square_seal)
from tests.support.seal import ROOT

PX = 10  # px per mm: enough for these properties, fast


def rgba(png: bytes) -> Image.Image:
    img = Image.open(io.BytesIO(png))
    assert img.format == "PNG"
    return img.convert("RGBA")


def assert_seal_like(png: bytes, w_mm: int, h_mm: int, px: int = PX) -> Image.Image:
    img = rgba(png)
    assert img.size == (w_mm * px, h_mm * px)
    w, h = img.size
    for corner in ((0, 0), (w - 1, 0), (0, h - 1), (w - 1, h - 1)):
        assert img.getpixel(corner)[3] == 0  # transparent background
    # Red, nothing else: every pixel's colour is the seal red (ink differs only in alpha).
    assert [img.getchannel(i).getextrema() for i in "RGB"] == [(v, v) for v in RED]
    alpha = img.getchannel("A").tobytes()
    inked = sum(1 for a in alpha if a)
    assert 0.08 < inked / (w * h) < 0.6  # there is a design, not a blob
    return img


def test_round_seal():
    pic = render_round_seal("上海市市场监督管理局", "合同专用章", "3101000012345", px_per_mm=PX)
    assert (pic.width_mm, pic.height_mm, pic.type) == (42, 42, "PNG")
    img = assert_seal_like(pic.data, 42, 42)
    c = img.width // 2
    assert img.getpixel((c, c))[3] == 255  # the star fills the centre
    assert img.getpixel((c, round(0.03 * img.width)))[3] == 255  # the ring near the edge


def test_square_and_oval_seals():
    sq = render_square_seal("王小明", px_per_mm=PX)
    assert (sq.width_mm, sq.height_mm) == (20, 20)
    img = assert_seal_like(sq.data, 20, 20)
    assert img.getpixel((round(0.05 * img.width), img.height // 2))[3] == 255  # the frame
    ov = render_oval_seal("江苏省苏州市财政局", "发票专用章", "91320500MA1W2X3Y4Z", px_per_mm=PX)
    assert (ov.width_mm, ov.height_mm) == (45, 30)
    assert_seal_like(ov.data, 45, 30)


def test_deterministic_and_metadata_free():
    a = render_round_seal("浙江省杭州市行政审批局", "电子证照专用章", px_per_mm=PX).data
    b = render_round_seal("浙江省杭州市行政审批局", "电子证照专用章", px_per_mm=PX).data
    assert a == b
    assert not any(chunk in a for chunk in (b"tIME", b"tEXt", b"iTXt", b"zTXt"))
    assert a != render_round_seal("浙江省杭州市行政审批局", "合同专用章", px_per_mm=PX).data


def test_chinese_glyphs_are_drawn_not_boxes():
    # The same layout with different characters must differ where the characters are: a font
    # without those glyphs would draw identical "missing" boxes.
    a = rgba(render_square_seal("张三丰", px_per_mm=PX).data)
    b = rgba(render_square_seal("李四光", px_per_mm=PX).data)
    assert a.tobytes() != b.tobytes()
    with pytest.raises(SealPictureError):
        render_round_seal("\U0010fffd公司", px_per_mm=PX)


def test_rejects_bad_text():
    for bad in ("", " 公司", "x" * 41):
        with pytest.raises(SealPictureError):
            render_round_seal(bad, px_per_mm=PX)
    with pytest.raises(SealPictureError):
        render_square_seal("王", px_per_mm=PX)


def test_default_resolution_round_seal_and_committed_sample():
    pic = render_round_seal("上海市市场监督管理局", "电子证照专用章", "3101000000001")
    assert_seal_like(pic.data, 42, 42, px=DEFAULT_PX_PER_MM)
    assert DEFAULT_PX_PER_MM * 25.4 >= 300  # print resolution
    assert len(pic.data) < 30_000  # it travels inside every seal, signature and licence PDF
    sample = ROOT / "docs" / "images" / "seal-round.png"
    assert_seal_like(sample.read_bytes(), 42, 42, px=DEFAULT_PX_PER_MM)
    if not _LATIN_FONT.is_file():
        pytest.skip("fonts-dejavu-core absent: the seal number is drawn with another font")
    assert sample.read_bytes() == pic.data  # the committed sample is what the code draws now

"""Round seals: the lettering stays inside the ring with a clear margin, pixel by pixel, for every
organisation and registry office of the development PKI and for long names (issue 16 item 8:
管理局, 警察总队 touched or crossed the ring).

The lettering is drawn alone (`round_seal_mask(parts=...)`) and every ink pixel — one that
survives the PNG's 16 alpha levels — must lie within `round_rings(...).limit`, the ring's inner
edge less the margin; the ring drawn alone must lie in its band, and the whole picture has no ink
outside the ring.
"""

import io
import json
import math

import pytest
from PIL import Image

from signing.seal.picture import (ALPHA_LEVELS, LETTER_MARGIN, RING_WIDTH, oval_rings,
                                  oval_seal_mask, render_round_seal, round_rings, round_seal_mask)
from tests.support.seal import ROOT

PX = 10  # px per mm: a 42 mm seal is 420 px, 0.84 mm of margin is 8 px
INK = 255 // (2 * (ALPHA_LEVELS - 1)) + 1  # the least mask value the PNG keeps as ink

LONG = ["上海市浦东新区市场监督管理局",                                   # 14
        "上海市公安局浦东分局交通警察支队",                                 # 16
        "长三角生态绿色一体化发展示范区执行委员会",                         # 20
        "江苏省南京市江北新区管理委员会行政审批局综合窗口",                  # 24 (the most)
        "国"]


def dev_names() -> list[str]:
    """Every organisation named in keys_dev (certificate subjects, issuing organisations, their
    registry offices): each may be drawn on a seal, by the registry or `license-svc seal`."""
    manifest = json.loads((ROOT / "keys_dev" / "manifest.json").read_text(encoding="utf-8"))
    names = {i["org_name"] for i in manifest["items"]}
    for org in manifest["organisations"]:
        names.add(org["name"])
        names.update(org.get("offices", {}).values())
    return sorted(names)


def radii(mask: Image.Image) -> list[float]:
    """The distance from the centre of the far corner of every ink pixel."""
    w, h = mask.size
    cx, cy = w / 2, h / 2
    data = mask.tobytes()
    out = []
    for i, v in enumerate(data):
        if v >= INK:
            x, y = i % w + 0.5, i // w + 0.5
            out.append(math.hypot(abs(x - cx) + 0.5, abs(y - cy) + 0.5))
    return out


LAYOUTS = [("", ""), ("婚姻登记专用章", ""), ("合同专用章", "3101000012345")]


@pytest.mark.parametrize("name", dev_names() + LONG)
def test_lettering_inside_the_ring_with_margin(name):
    rings = round_rings(42 * PX)
    assert rings.inner - rings.limit == pytest.approx(LETTER_MARGIN * 42 * PX)
    for seal_name, number in LAYOUTS:
        mask = round_seal_mask(name, seal_name, number, px_per_mm=PX, parts=frozenset({"lettering"}))
        r = radii(mask)
        assert r, "no lettering drawn"
        assert max(r) <= rings.limit, (name, seal_name, number, max(r), rings.limit)


def test_ring_in_its_band_and_nothing_outside():
    rings = round_rings(42 * PX)
    assert rings.outer - rings.inner == pytest.approx(RING_WIDTH * 42 * PX)
    ring = radii(round_seal_mask("国", px_per_mm=PX, parts=frozenset({"ring"})))
    assert rings.inner - 1 <= min(ring) and max(ring) <= rings.outer + 1.5
    for name in LONG[:4]:
        png = render_round_seal(name, "婚姻登记专用章", "3101000012345", px_per_mm=PX).data
        alpha = Image.open(io.BytesIO(png)).convert("RGBA").getchannel("A")
        assert max(radii(alpha)) <= rings.outer + 1.5


def test_test_catches_lettering_over_the_ring():
    """The check sees a crossing: ring ink where lettering belongs fails it."""
    ring = round_seal_mask("国", px_per_mm=PX, parts=frozenset({"ring"}))
    assert max(radii(ring)) > round_rings(42 * PX).limit


def test_long_names_are_compressed_not_shrunk_first():
    """Engravers narrow the characters of a long name before making them smaller: a 9- and a
    12-character name get letters of the same height (the ink's radial extent)."""
    def depth(name):
        r = radii(round_seal_mask(name, px_per_mm=PX, parts=frozenset({"lettering"})))
        return max(r) - min(r)
    assert depth("上海市黄浦区民政局") == pytest.approx(depth("上海市公安局交通警察总队"), abs=3)
    assert depth(LONG[3]) < depth("上海市黄浦区民政局")  # 24 characters: smaller as well


def test_too_long_for_the_seal_is_refused():
    from signing.seal.picture import SealPictureError

    with pytest.raises(SealPictureError) as exc:
        render_round_seal("国" * 40, px_per_mm=PX)
    assert "过长" in exc.value.message_zh


def outside_ellipse(mask: Image.Image, axes: tuple[float, float]) -> int:
    """How many ink pixels have a corner outside the ellipse `axes` (centred on the picture)."""
    w, h = mask.size
    data = mask.tobytes()
    a, b = axes
    count = 0
    for i, v in enumerate(data):
        if v >= INK:
            x, y = abs(i % w + 0.5 - w / 2) + 0.5, abs(i // w + 0.5 - h / 2) + 0.5
            count += (x / a) ** 2 + (y / b) ** 2 > 1
    return count


@pytest.mark.parametrize("name", ["江苏省苏州市财政局", "上海市公安局交通警察总队"] + LONG)
def test_oval_lettering_inside_the_ring_with_margin(name):
    outer, inner, limit = oval_rings(45 * PX, 30 * PX)
    for number in ("", "91320500MA1W2X3Y4Z"):
        mask = oval_seal_mask(name, "发票专用章", number, px_per_mm=PX,
                              parts=frozenset({"lettering"}))
        assert outside_ellipse(mask, limit) == 0, (name, number)
    ring = oval_seal_mask(name, "发票专用章", px_per_mm=PX, parts=frozenset({"ring"}))
    assert outside_ellipse(ring, limit) > 0 and outside_ellipse(ring, (outer[0] + 3, outer[1] + 3)) == 0

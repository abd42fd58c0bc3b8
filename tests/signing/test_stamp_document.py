"""电子签章 on a department's own PDF (signing.pdf.stamp_document, signing.placement): where the
seal lands (rendered by poppler and looked for in red pixels), several organisations in turn
(our verifier and pyHanko's validator both pass every signature), refusals, hostile input."""

from __future__ import annotations

import io
import re
import shutil
import subprocess

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from formats.errors import ServiceError
from signing.pdf.stamp_document import DocumentStamper, StampRefused
from signing.placement import MM, Placement, PlacementError, box_at, straddle_boxes
from tests.support.documents import KEYWORD, notice
from tests.support.material import hierarchy, seal_der
from tests.support.pdf import AT, genuine, timestamper
from verification.pdf import PdfTrust, verify_pdf

A4 = (0.0, 0.0, 595.276, 841.89)


def stamper(algorithm: str = "sm2") -> DocumentStamper:
    h = hierarchy(algorithm)
    return DocumentStamper(h.signer, seal_der(algorithm), timestamper=timestamper(algorithm))


def trust(*algorithms: str) -> PdfTrust:
    roots = [hierarchy(a).root for a in algorithms]
    return PdfTrust(signer_roots=roots, tsa_roots=roots, seal_maker_roots=roots)


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} not installed (poppler-utils)")
    return path


def render(pdf: bytes, page: int, tmp_path) -> "Image.Image":
    """The page at 72 dpi (one pixel per point, origin top-left), by poppler's pdftoppm."""
    from PIL import Image

    f = tmp_path / "r.pdf"
    f.write_bytes(pdf)
    subprocess.run([_tool("pdftoppm"), "-r", "72", "-f", str(page), "-l", str(page), "-png",
                    str(f), str(tmp_path / "p")], check=True, timeout=60)
    (png,) = tmp_path.glob("p-*.png")
    img = Image.open(png).convert("RGB")
    png.unlink()
    return img


def red_pixels(img, box) -> int:
    """Seal-red pixels (the test seal is (220, 0, 0)) inside `box` = (x0, y0, x1, y1)."""
    rgb = img.crop(tuple(int(round(v)) for v in box)).tobytes()
    return sum(1 for i in range(0, len(rgb), 3)
               if rgb[i] > 150 and rgb[i + 1] < 90 and rgb[i + 2] < 90)


def keyword_box(pdf: bytes, tmp_path) -> tuple[float, float, float, float]:
    """The keyword's box on page 1 from poppler's text layer (pdftotext -bbox), top-left origin:
    an independent reader of the text positions the stamper took from pdfminer.six."""
    f = tmp_path / "k.pdf"
    f.write_bytes(pdf)
    html = subprocess.run([_tool("pdftotext"), "-bbox", "-f", "1", "-l", "1", str(f), "-"],
                          capture_output=True, text=True, check=True, timeout=60).stdout
    for m in re.finditer(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" '
                         r'yMax="([\d.]+)">([^<]*)</word>', html):
        if "盖章" in m.group(5):
            return tuple(float(m.group(i)) for i in range(1, 5))
    raise AssertionError(f"pdftotext found no keyword: {html[:500]}")


# -- placement ---------------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs", [
    {}, {"page": 1, "x_mm": 10}, {"page": 1, "x_mm": 1, "y_mm": 1, "keyword": "x"},
    {"keyword": "x", "straddle": True}, {"page": 0, "x_mm": 1, "y_mm": 1},
    {"page": 1, "x_mm": float("nan"), "y_mm": 1}, {"page": 1, "x_mm": -1, "y_mm": 1},
    {"keyword": ""}, {"keyword": "   "}, {"keyword": "a\x00b"}, {"keyword": "字" * 65},
    {"straddle": True, "size_mm": 500},
])
def test_placement_needs_exactly_one_valid_spot(kwargs):
    with pytest.raises(PlacementError) as exc:
        Placement(**kwargs)
    assert exc.value.message_zh != exc.value.message_en


def test_placement_keywords_are_stamp_ofd_arguments():
    p = Placement(page=2, x_mm=10.5, y_mm=20)
    assert p.as_kwargs() == {"page": 2, "x_mm": 10.5, "y_mm": 20, "keyword": None,
                             "straddle": False, "size_mm": None}
    assert Placement(keyword="盖章").mode == "keyword" and Placement(straddle=True).mode == "straddle"


def test_geometry_top_left_millimetres():
    size = (42 * MM, 42 * MM)
    x1, y1, x2, y2 = box_at(A4, 0, 0, size)
    assert (x1, y2) == (0, A4[3]) and x2 == pytest.approx(42 * MM)
    x1, _y1, _x2, y2 = box_at(A4, 100, 50, size)
    assert x1 == pytest.approx(100 * MM) and y2 == pytest.approx(A4[3] - 50 * MM)
    with pytest.raises(PlacementError):
        box_at(A4, 180, 0, size)  # 180 + 42 mm > 210 mm
    slices = straddle_boxes([A4] * 3, size)
    assert all(b[2] == A4[2] and b[2] - b[0] == pytest.approx(14 * MM) for b in slices)
    with pytest.raises(PlacementError):
        straddle_boxes([A4], size)


# -- where the seal lands (rendered) ---------------------------------------------------------

def test_position_puts_the_seal_there(tmp_path):
    stamped = stamper().stamp(notice(), Placement(page=2, x_mm=30, y_mm=40))
    img = render(stamped, 2, tmp_path)
    seal = (30 * MM, 40 * MM, 72 * MM, 82 * MM)  # 42 mm seal, top-left at (30, 40) mm
    assert red_pixels(img, seal) > 500
    assert red_pixels(img, (0, 0, img.width, seal[1] - 2)) == 0  # nothing above it
    assert red_pixels(render(stamped, 1, tmp_path), (0, 0, *render(stamped, 1, tmp_path).size)) == 0


def test_keyword_puts_the_seal_over_the_keyword(tmp_path):
    doc = notice()
    box = keyword_box(doc, tmp_path)
    assert red_pixels(render(doc, 1, tmp_path), box) == 0
    stamped = stamper().stamp(doc, Placement(keyword=KEYWORD))
    img = render(stamped, 1, tmp_path)
    assert red_pixels(img, box) > 20, box
    # centred: the seal's red reaches about 21 mm (60 pt) either side of the keyword's centre
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    assert red_pixels(img, (cx - 62, cy - 5, cx - 50, cy + 5)) > 0
    assert red_pixels(img, (cx + 50, cy - 5, cx + 62, cy + 5)) > 0
    assert red_pixels(img, (cx + 70, cy - 70, img.width, cy + 70)) == 0


def test_straddle_shows_a_slice_on_every_page(tmp_path):
    pages = 3
    stamped = stamper().stamp(notice(pages), Placement(straddle=True))
    strips = []
    for n in range(1, pages + 1):
        img = render(stamped, n, tmp_path)
        part = 42 * MM / pages
        strip = (img.width - part, img.height / 2 - 21 * MM, img.width, img.height / 2 + 21 * MM)
        assert red_pixels(img, strip) > 100, n
        assert red_pixels(img, (0, 0, img.width - part - 1, img.height)) == 0, n
        strips.append(img.crop(tuple(int(v) for v in strip)).tobytes())
    assert len(set(strips)) == pages  # each page its own slice of the seal
    report = verify_pdf(stamped, trust("sm2"), AT)
    assert report.indication == "TOTAL_PASSED", report.to_text()


# -- several organisations in turn -------------------------------------------------------------

def _pyhanko_statuses(pdf: bytes):
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature

    from verification.certpath import make_validation_context

    vc = make_validation_context(trust_roots=[hierarchy("sm2").root, hierarchy("rsa").root], at=AT)
    return [validate_pdf_signature(emb, vc, ts_validation_context=vc)
            for emb in PdfFileReader(io.BytesIO(pdf)).embedded_signatures]


def test_two_organisations_in_turn_both_valid():
    first = stamper("sm2").stamp(notice(), Placement(keyword=KEYWORD))
    second = stamper("rsa").stamp(first, Placement(straddle=True))
    assert second.startswith(first)
    report = verify_pdf(second, trust("sm2", "rsa"), AT)
    assert report.indication == "TOTAL_PASSED", report.to_text()
    assert [c.passed for c in report.checks if c.name == "pdf.modifications"] == [True, True]
    statuses = _pyhanko_statuses(second)
    assert len(statuses) == 2
    for st in statuses:
        assert st.bottom_line and st.intact and st.valid and st.trusted, st.pretty_print_details()
        assert st.docmdp_ok
    assert statuses[0].modification_level.name == "FORM_FILLING"  # a signature field added


def test_an_empty_field_after_a_stamp_still_fails():
    """What the verifier now lets through after a signature is filled signature fields only: an
    empty visible field (its appearance could overlay the page) still fails the first one."""
    from tests.support import pdf_attacks as g

    once = stamper("sm2").stamp(notice(), Placement(page=1, x_mm=20, y_mm=20))
    sneaky = stamper("rsa").stamp(g.add_signature_field(once), Placement(page=2, x_mm=20, y_mm=20))
    report = verify_pdf(sneaky, trust("sm2", "rsa"), AT)
    assert report.indication == "TOTAL_FAILED", report.to_text()
    assert [c.passed for c in report.checks if c.name == "pdf.modifications"] == [False, True]


def test_a_copied_seal_in_an_earlier_stamp_fails():
    """Every signature's SESeal is checked, not only the last one's: a trusted key that the
    seal does not list (someone else's seal copied in) fails `pdf.seal_binding` even when a
    genuine stamp follows."""
    h = hierarchy("sm2")
    borrowed = DocumentStamper(h.short_signer, seal_der("sm2"), timestamper=timestamper("sm2"))
    first = borrowed.stamp(notice(), Placement(page=1, x_mm=20, y_mm=20))
    both = stamper("rsa").stamp(first, Placement(page=2, x_mm=20, y_mm=20))
    report = verify_pdf(both, trust("sm2", "rsa"), AT)
    assert report.indication == "TOTAL_FAILED", report.to_text()
    assert [c.passed for c in report.checks if c.name == "pdf.seal_binding"] == [False, True]


# -- refusals and hostile input ----------------------------------------------------------------

def test_certified_no_changes_is_refused():
    with pytest.raises(StampRefused) as exc:
        stamper().stamp(genuine("sm2"), Placement(page=1, x_mm=10, y_mm=10))
    assert "DocMDP P=1" in exc.value.message_en and "不允许任何更改" in exc.value.message_zh


def test_certify_only_first():
    certified = stamper("sm2").stamp(notice(), Placement(page=1, x_mm=10, y_mm=10), certify=True)
    report = verify_pdf(certified, trust("sm2"), AT)
    assert report.indication == "TOTAL_PASSED" and report.signer["certification"] == "NO_CHANGES"
    approved = stamper("sm2").stamp(notice(), Placement(page=1, x_mm=10, y_mm=10))
    with pytest.raises(StampRefused):
        stamper("rsa").stamp(approved, Placement(page=1, x_mm=10, y_mm=80), certify=True)


def _truncations():
    doc = notice(1)
    return [doc[:n] for n in (0, 5, 100, len(doc) // 2, len(doc) - 10)]


@pytest.mark.parametrize("data", [b"", b"hello", b"%PDF-1.7\n%%EOF", b"%PDF-1.7\n" + bytes(500),
                                  *_truncations()])
def test_hostile_input_is_a_clear_error(data):
    with pytest.raises(ServiceError) as exc:
        stamper().stamp(data, Placement(page=1, x_mm=10, y_mm=10))
    assert exc.value.message_zh and exc.value.message_en


def test_keyword_absent_or_page_missing():
    with pytest.raises(PlacementError, match="not in the document"):
        stamper().stamp(notice(), Placement(keyword="不存在"))
    with pytest.raises(PlacementError, match="3 page"):
        stamper().stamp(notice(), Placement(page=4, x_mm=10, y_mm=10))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow],
          phases=[Phase.explicit, Phase.reuse, Phase.generate])  # shrinking a PDF takes minutes
@given(flips=st.lists(st.tuples(st.integers(0, 10**9), st.integers(1, 255)), min_size=1,
                      max_size=4),
       how=st.sampled_from(["position", "keyword", "straddle"]))
def test_damaged_documents_never_crash(flips, how):
    """Bytes changed anywhere in the document: a stamped PDF or a ServiceError, nothing else."""
    data = bytearray(notice(2))
    for at, xor in flips:
        data[at % len(data)] ^= xor
    placement = {"position": Placement(page=1, x_mm=10, y_mm=10),
                 "keyword": Placement(keyword=KEYWORD), "straddle": Placement(straddle=True)}[how]
    try:
        out = stamper().stamp(bytes(data), placement)
    except ServiceError as exc:
        assert exc.message_zh and exc.message_en
    else:
        assert out.startswith(bytes(data))

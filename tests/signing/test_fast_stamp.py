"""The directly written certification revision (`signing.pdf.fast_stamp`) against pyHanko's:
which inputs take it, and that what it writes verifies exactly as pyHanko's output does."""

import io

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader

from signing.pdf import fast_stamp
from signing.render import render_licence_pdf
from tests.support.material import licence_page
from tests.support.pdf import AT, LICENCE, stamper, trust
from verification.pdf import verify_pdf
from verification.report import TOTAL_PASSED


def _pyhanko_path(st, page):
    """The same stamper with the direct path switched off."""
    saved, st._appearance = st._appearance, None
    try:
        return st.sign(page, LICENCE)
    finally:
        st._appearance = saved


def _summary(data: bytes) -> dict:
    r = PdfFileReader(io.BytesIO(data), strict=True)
    (emb,) = r.embedded_signatures
    sig = emb.sig_object
    start, a, b, c = [int(x) for x in sig["/ByteRange"]]
    return {
        "revisions": r.xrefs.total_revisions,
        "catalog": sorted(r.root.keys()),
        "licence": {k: str(v) for k, v in r.root["/LicenseSvc"].items()},
        "page": sorted(r.root["/Pages"]["/Kids"][0].get_object().keys()),
        "sig": sorted(k for k in sig.keys()),
        "field": (emb.field_name, sorted(emb.sig_field.keys()), [float(v) for v in emb.sig_field["/Rect"]]),
        "docmdp": emb.docmdp_level.name,
        "covers_all_but_contents": start == 0 and b + c == len(data)
        and data[a:a + 1] == b"<" and data[b - 1:b] == b">",
    }


@pytest.mark.parametrize("algorithm", ["sm2", "rsa"])
def test_direct_revision_matches_pyhankos_and_verifies(algorithm):
    st = stamper(algorithm)
    page = licence_page()
    assert fast_stamp.page_layout(page) is not None
    fast, slow = st.sign(page, LICENCE), _pyhanko_path(st, page)
    assert _summary(fast) == _summary(slow)
    for data in (fast, slow):
        report = verify_pdf(data, trust(algorithm), AT)
        assert report.indication == TOTAL_PASSED, report.to_text()


def _rendered_page() -> bytes:
    from datetime import date

    from license_svc.templates import load_templates

    t = load_templates()["business_licence"]
    rec = t.make_record({**t.example, "issuer_code": "11310000MB0000010A"},
                        identifier="1.2.156.3005.2.X", number="SH1",
                        issuer_name="上海市市场监督管理局", region="sh", issued_on=date(2026, 1, 15))
    return render_licence_pdf(t.layout, rec, "EL1:" + "A" * 100)


def test_only_fresh_single_page_documents_take_the_direct_path():
    page = _rendered_page()
    assert fast_stamp.page_layout(page) is not None
    signed = stamper("rsa").sign(page, LICENCE)
    assert fast_stamp.page_layout(signed) is None  # an earlier revision: pyHanko adds the next
    with_annots = page.replace(b"/Type/Page/Parent", b"/Type/Page/Annots[]/Parent", 1)
    assert with_annots != page and fast_stamp.page_layout(with_annots) is None
    with_form = page.replace(b"/Type/Catalog", b"/Type/Catalog/AcroForm<<>>", 1)
    assert with_form != page and fast_stamp.page_layout(with_form) is None
    assert fast_stamp.page_layout(page[:-20]) is None  # truncated tail
    assert fast_stamp.page_layout(b"%PDF-1.4\n") is None


def test_rendered_licence_page_takes_the_direct_path():
    layout = fast_stamp.page_layout(_rendered_page())
    assert layout is not None and layout.info is not None and layout.page[0] != layout.catalog[0]

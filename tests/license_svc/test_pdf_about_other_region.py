"""A genuine PDF licence verified by another region's node, which does not hold its record: the
EL1 the PDF carries in its catalog (`/Code`) names holder (masked), number and validity — but
only when it verifies under the issuer's signature and names this very licence.  A PDF without
`/Code` (made before it existed) verifies exactly as before and names type, issuer and region.
The licence's OFD carries the same code (CustomData `license-svc.code`) and says the same.

Licences are issued on the Shanghai node (`ctx`) and verified offline with `region="js"`, no
register session, the key store's trust and the issuer's signed status answers — the situation
of the Jiangsu node (as in tests/license_svc/test_verdict_reports.py)."""

import io
import json

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader

from license_svc.licences import issue as issuing
from license_svc.licences import lifecycle
from license_svc.licences.artefacts import stored_ofd
from license_svc.licences.resources import org_signing
from license_svc.licences.seals import licence_seal, seal_der
from license_svc.templates import load_templates
from license_svc.verify_service import verify_offline
from signing.pdf import fast_stamp
from signing.render import render_licence_pdf
from tests.support.issuing import TRAFFIC_SH, example
from tests.support.pdf import LICENCE, stamper
from tests.support.remote_status import remote_status
from verification.report import TOTAL_PASSED

HOLDER_ID = "310101199003071230"  # the driving licence example's holder


def _issue(ctx, issuers, **changes):
    ident = issuing.issue(ctx, issuers[TRAFFIC_SH][0],
                          example("driving_licence", **changes)).identifiers[0]
    with ctx.unit_of_work() as s:
        v = lifecycle.load_version(s, ident)
        return ident, v.pdf, v.el1


def _verify_in_jiangsu(ctx, clock, data: bytes):
    trust, cache = remote_status(ctx, clock)
    return verify_offline(ctx.keystore, data, at=clock(), region="js", remote=cache, trust=trust)


def _resigned(ctx, ident: str, code: str | None) -> bytes:
    """Licence `ident`'s page signed again by its issuer's own stamper and seal, with `code` as
    the catalog's /Code (None: none, as PDFs made before /Code existed)."""
    template = load_templates()["driving_licence"]
    with ctx.unit_of_work() as s:
        v = lifecycle.load_version(s, ident)
        record = json.loads(v.record)
        org = next(o for o in ctx.keystore.organisations(ctx.region) if o.code == TRAFFIC_SH)
        es_id = licence_seal(ctx, s, org, template, record)
        signing = org_signing(ctx, org.code, v.algorithm, template, es_id,
                              lambda: seal_der(s, es_id))
        page = render_licence_pdf(template.layout, record, v.el1, data_hash=v.data_hash)
        licence = {"id": ident, "data_hash": v.data_hash, "version": v.version}
        return signing.stamper.sign(page, {**licence, "code": code} if code else licence)


def _catalog_code(pdf: bytes) -> str | None:
    d = PdfFileReader(io.BytesIO(pdf), strict=True).root["/LicenseSvc"]
    return str(d["/Code"]) if "/Code" in d else None


def test_another_regions_pdf_names_holder_number_and_validity(ctx, issuers, clock):
    ident, pdf, el1 = _issue(ctx, issuers)
    assert _catalog_code(pdf) == el1
    report = _verify_in_jiangsu(ctx, clock, pdf)
    assert report.indication == TOTAL_PASSED, report.to_text()
    assert report.verdict.code == "valid"
    about = report.about
    assert about["source"] == "pdf_code" and about["identifier"] == ident
    assert about["type_name"] == "机动车驾驶证" and about["region_name"] == "上海"
    assert about["holder"] == "张*"                       # masked as the printed EL1 is
    assert about["number"] == "3101**********1230"
    assert about["validity"] == "2026-01-15 至 2032-01-15"
    assert "code" not in report.licence and report.licence["code_claims"]["id"] == ident
    assert HOLDER_ID not in report.to_json() + report.to_text()
    modifications = report.check("pdf.modifications").detail
    assert modifications.startswith("签名后无任何修改") and "NONE" not in modifications


def test_the_codes_own_expiry_is_not_called_the_licences(ctx, issuers, clock):
    _ident, _pdf, el1 = _issue(ctx, issuers)
    report = verify_offline(ctx.keystore, text=el1, at=clock())
    detail = report.check("el1.licence_validity").detail
    assert detail.startswith("证照有效期至 2032-01-15") and "二维码本身有效至" in detail
    assert "（不是证照有效期）" in detail and "code valid until" not in detail


def test_another_regions_ofd_says_the_same(ctx, issuers, clock):
    ident, pdf, _el1 = _issue(ctx, issuers)
    with ctx.unit_of_work() as s:
        ofd = stored_ofd(ctx, s, lifecycle.load_version(s, ident))
    of_ofd, of_pdf = _verify_in_jiangsu(ctx, clock, ofd), _verify_in_jiangsu(ctx, clock, pdf)
    assert of_ofd.indication == TOTAL_PASSED, of_ofd.to_text()
    assert of_ofd.about == of_pdf.about and of_ofd.about["holder"] == "张*"
    assert of_ofd.licence["code_claims"] == of_pdf.licence["code_claims"]


def test_a_pdf_without_code_verifies_as_before(ctx, issuers, clock):
    ident, _pdf, _el1 = _issue(ctx, issuers)
    old = _resigned(ctx, ident, None)
    assert _catalog_code(old) is None
    report = _verify_in_jiangsu(ctx, clock, old)
    assert report.indication == TOTAL_PASSED, report.to_text()
    assert report.about["type_name"] == "机动车驾驶证" and report.about["region_name"] == "上海"
    assert "holder" not in report.about and "number" not in report.about
    assert report.about["validity"].startswith("未知")
    assert not any("证照码" in n for n in report.notes), report.notes


def test_another_licences_code_lends_nothing(ctx, issuers, clock):
    ident, _pdf, _el1 = _issue(ctx, issuers)
    _other, _other_pdf, other_el1 = _issue(ctx, issuers, nth=1, valid_until="2030-01-01")  # another holder
    swapped = _resigned(ctx, ident, other_el1)
    assert _catalog_code(swapped) == other_el1
    report = _verify_in_jiangsu(ctx, clock, swapped)
    assert report.indication == TOTAL_PASSED, report.to_text()  # the file itself is genuine
    assert "code_claims" not in report.licence and "code" not in report.licence
    assert "holder" not in report.about and report.about["validity"].startswith("未知")
    assert any("属于另一证照" in n for n in report.notes), report.notes


def test_a_code_that_does_not_verify_lends_nothing(ctx, issuers, clock):
    ident, _pdf, el1 = _issue(ctx, issuers)
    broken = el1[:-4] + ("AAAA" if not el1.endswith("AAAA") else "BBBB")
    report = _verify_in_jiangsu(ctx, clock, _resigned(ctx, ident, broken))
    assert report.indication == TOTAL_PASSED, report.to_text()
    assert "holder" not in report.about and "code_claims" not in report.licence
    assert any("证照码未通过验证" in n for n in report.notes), report.notes


@pytest.mark.parametrize("algorithm", ["sm2", "rsa"])
def test_both_writers_write_the_code(algorithm):
    """The direct revision (fast_stamp) and pyHanko's write the same /Code."""
    st = stamper(algorithm)
    page = render_licence_pdf(load_templates()["business_licence"].layout,
                              _record(), "EL1:" + "A" * 100)
    assert fast_stamp.page_layout(page) is not None
    licence = {**LICENCE, "code": "EL1:6BF+-./ :$%*"}
    fast = st.sign(page, licence)
    saved, st._appearance = st._appearance, None
    try:
        slow = st.sign(page, licence)
    finally:
        st._appearance = saved
    assert _catalog_code(fast) == _catalog_code(slow) == licence["code"]


def _record() -> dict:
    from datetime import date

    t = load_templates()["business_licence"]
    return t.make_record({**t.example, "issuer_code": "11310000MB0000010A"},
                         identifier="1.2.156.3005.2.X", number="SH1",
                         issuer_name="上海市市场监督管理局", region="sh",
                         issued_on=date(2026, 1, 15))

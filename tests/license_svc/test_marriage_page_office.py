"""The marriage certificate's page names the office that registered the marriage under 登记机关 —
the district registry whose 婚姻登记专用章 it bears (tests/license_svc/test_office_seal.py), not
the city bureau that signs.  Read back from the issued PDF's text, as a reader copies it."""

import copy
import io
import json
from datetime import date

import pytest
from pdfminer.high_level import extract_text

from license_svc.licences import lifecycle
from license_svc.seals.models import SealRow
from license_svc.templates import load_templates
from license_svc.verify_service import verify_offline
from signing.render import render_licence_pdf
from tests.support.grants import issue_licence
from tests.support.issuing import CIVIL_SH
from verification.seal import parse_seal

MARRIAGE = "marriage_certificate"
SEAL_SUFFIX = "婚姻登记专用章"


def _issued(ctx, area: str):
    example = load_templates()[MARRIAGE].example
    ident = issue_licence(ctx, MARRIAGE, CIVIL_SH, [MARRIAGE],
                          fields={**copy.deepcopy(example["fields"]), "area_code": area})
    with ctx.unit_of_work() as session:
        version = lifecycle.load_version(session, ident)
        report = verify_offline(ctx.keystore, version.pdf, at=ctx.now())
        seal = parse_seal(session.get(SealRow, report.seal["es_id"]).der)
        return json.loads(version.record), version.pdf, seal


def _registry_line(pdf: bytes) -> str:
    """The line printed under the 登记机关 heading."""
    lines = [ln.strip() for ln in extract_text(io.BytesIO(pdf)).splitlines() if ln.strip()]
    return lines[lines.index("登记机关") + 1]


@pytest.mark.parametrize("area, office", [("310101", "上海市黄浦区民政局"),
                                          ("310104", "上海市徐汇区民政局")])
def test_the_page_names_the_district_registry_of_its_seal(ctx, area, office):
    record, pdf, seal = _issued(ctx, area)
    assert record["issuer"]["office"] == office            # signed in the record
    assert record["issuer"]["name"] == "上海市民政局"        # the city bureau still signs
    assert seal.name == f"{office}{SEAL_SUFFIX}"
    assert _registry_line(pdf) == seal.name.removesuffix(SEAL_SUFFIX) == office


def test_an_area_without_an_office_names_the_bureau_itself(ctx):
    record, pdf, _seal = _issued(ctx, "320102")
    assert "office" not in record["issuer"]
    assert _registry_line(pdf) == "上海市民政局"


def test_a_record_made_before_the_office_was_recorded_still_names_its_issuer():
    """Stored records without `issuer.office` (their OFD is made from them later) print the
    issuer's name, as before."""
    t = load_templates()[MARRIAGE]
    record = t.make_record({**t.example, "issuer_code": CIVIL_SH}, identifier="1.2.156.3005.2.X",
                           number="J310101-2026-000001", issuer_name="上海市民政局", region="sh",
                           issued_on=date(2026, 2, 14))
    assert "office" not in record["issuer"]
    assert _registry_line(render_licence_pdf(t.layout, record, "EL1:" + "A" * 40)) == "上海市民政局"

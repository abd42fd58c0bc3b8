"""A licence is sealed with its issuing office's own seal (issue 16 item 8): a marriage
certificate with the 婚姻登记专用章 of the district registry its 字号 names, not the city bureau's
seal; a licence type without an office setting with the organisation's own seal."""

import copy
import itertools
import json

import pytest

from license_svc.licences import lifecycle
from license_svc.licences.seals import seal_for, seal_setting
from license_svc.seals.models import SealRow
from license_svc.templates import TemplateError, load_templates
from license_svc.verify_service import verify_offline
from signing.seal import SEAL_TYPE_ORGANISATION, SEAL_TYPE_SPECIAL
from signing.seal.picture import render_round_seal
from tests.support.grants import issue_licence
from tests.support.issuing import AMR_SH, CIVIL_SH
from verification.seal import parse_seal

MARRIAGE = "marriage_certificate"


_COUPLES = itertools.count()


def _issued(ctx, **fields):
    example = load_templates()[MARRIAGE].example
    ident = issue_licence(ctx, MARRIAGE, CIVIL_SH, [MARRIAGE], nth=next(_COUPLES),  # not one twice
                          fields={**copy.deepcopy(example["fields"]), **fields})
    with ctx.unit_of_work() as session:
        version = lifecycle.load_version(session, ident)
        record = json.loads(version.record)
        report = verify_offline(ctx.keystore, version.pdf, at=ctx.now())
        seal_der = session.get(SealRow, report.seal["es_id"]).der
    return record, report, seal_der


@pytest.mark.parametrize("area, district", [("310101", "黄浦区"), ("310115", "浦东新区")])
def test_marriage_certificate_carries_the_district_registry_seal(ctx, area, district):
    record, report, seal_der = _issued(ctx, area_code=area)
    assert record["number"].startswith(f"J{area}-")  # the 字号 names the registry's district
    office = ctx.keystore.organisation(CIVIL_SH).offices[record["number"][1:7]]
    assert office == f"上海市{district}民政局"
    assert report.seal["name"] == f"{office}婚姻登记专用章"
    assert report.seal["type"] == SEAL_TYPE_SPECIAL
    seal_checks = [c for c in report.checks if str(c.name).startswith("pdf.seal")]
    assert {str(c.name) for c in seal_checks} == {"pdf.seal", "pdf.seal_binding"}
    assert all(c.passed for c in seal_checks), seal_checks  # listed signer, valid seal
    # The picture in the seal is the district's: its name along the ring, 婚姻登记专用章 below.
    assert parse_seal(seal_der).picture == render_round_seal(office, "婚姻登记专用章").data
    assert record["issuer"]["code"] == CIVIL_SH  # the city bureau still signs


def test_same_district_reuses_its_seal_another_gets_its_own(ctx):
    _, first, _ = _issued(ctx, area_code="310101")
    _, again, _ = _issued(ctx, area_code="310101")
    _, other, _ = _issued(ctx, area_code="310104")
    assert first.seal["es_id"] == again.seal["es_id"] != other.seal["es_id"]
    assert other.seal["name"] == "上海市徐汇区民政局婚姻登记专用章"


def test_area_without_an_office_is_the_bureau_itself(ctx):
    """An area the bureau has no registry office for (a provincial bureau registers marriages
    with foreigners itself) is registered, and sealed, by the bureau."""
    _, report, _ = _issued(ctx, area_code="320102")
    assert report.seal["name"] == "上海市民政局婚姻登记专用章"
    assert report.seal["type"] == SEAL_TYPE_ORGANISATION


def test_types_without_an_office_setting_use_the_organisation_seal(ctx):
    templates = load_templates()
    org = ctx.keystore.organisation(AMR_SH)
    seal = seal_for(org, templates["business_licence"], templates["business_licence"].example)
    assert (seal.name, seal.seal_type, seal.office) == (
        "上海市市场监督管理局电子证照专用章", SEAL_TYPE_ORGANISATION, None)


def test_every_template_seal_setting_is_valid_and_bad_ones_are_refused():
    templates = load_templates()
    assert seal_setting(templates[MARRIAGE])["office_field"] == "area_code"
    for t in templates.values():
        seal_setting(t)
    t = templates[MARRIAGE]
    for bad in ({"office_field": "nope", "name": "婚姻登记专用章", "type": 3},
                {"office_field": "area_code", "name": "", "type": 3},
                {"office_field": "area_code", "name": "婚姻登记专用章", "type": 9},
                {"office_field": "area_code", "name": "婚姻登记专用章", "type": 3, "shape": "star"}):
        broken = type(t)(t.folder, {**t.meta, "seal": bad}, t.schema, t.layout, t.qr, t.example)
        with pytest.raises(TemplateError) as exc:
            seal_setting(broken)
        assert "seal" in exc.value.message_zh

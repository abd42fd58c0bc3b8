"""The verdict rule (verification/verdict.py) on reports built check by check: every verdict,
its sentence, its exit code, and the ETSI indication left as it was."""

from datetime import datetime, timezone

import pytest

from verification.checks import PdfCheck, QrCheck, ServiceCheck, StatusCheck
from verification.html import REGION_ZH, VALUE_ZH, display, to_html
from verification.report import INDETERMINATE, TOTAL_FAILED, TOTAL_PASSED, Report, exit_code
from verification.verdict import (EXPIRED, INVALID, NO_REASON, REVOKED, SUSPENDED, UNDETERMINED,
                                  VALID, VERDICT_ZH, VERDICTS, day, verdict_of)

AT = datetime(2026, 6, 1, 8, 0, tzinfo=timezone.utc)
IDENT = "1.2.156.3005.2.11100000MB0000001T001.11310000MB0000010A.HHQ0OJ25SHP2N07NA54U.001.S"


def _genuine(status: str | None = "active", **about) -> Report:
    """A QR report whose signature checks all passed, with the status check as given."""
    r = Report(subject="qr-el1", at=AT)
    r.licence["id"] = IDENT
    for name in (QrCheck.EL1_FORMAT, QrCheck.EL1_SIGNATURE, QrCheck.EL1_LICENCE_VALIDITY):
        r.add(name, True, "ok")
    if status is not None:
        r.licence["status"] = status
        failure = {"revoked": "REVOKED", "expired": "EXPIRED", "suspended": "TRY_LATER"}.get(status)
        r.add(StatusCheck.LICENCE, failure is None, status, failure=failure,
              indeterminate=status == "suspended")
    r.about.update(about)
    return r


def test_valid():
    r = _genuine(validity="2026-01-15 至 长期", valid_until=None)
    v = verdict_of(r)
    assert (v.code, r.indication, exit_code(r)) == (VALID, TOTAL_PASSED, 0)
    assert v.text.startswith("有效。") and "可以受理" in v.text


def test_superseded_is_valid_and_names_the_new_version():
    r = _genuine("superseded")
    r.licence["superseded_by"] = IDENT.replace(".001.", ".002.")
    v = verdict_of(r)
    assert v.code == VALID and "新版本" in v.text and r.licence["superseded_by"] in v.text


def test_suspended_with_reason_and_date():
    r = _genuine("suspended", status_reason="年报核查", status_since="2026-05-31T20:00:00Z")
    v = verdict_of(r)
    assert (v.code, r.indication, r.sub_indication) == (SUSPENDED, INDETERMINATE, "TRY_LATER")
    # 20:00 UTC is the next day in China.
    assert v.text.startswith("已暂停。") and "年报核查" in v.text and "2026-06-01" in v.text
    assert exit_code(r) == 1


def test_revoked_without_a_published_reason():
    r = _genuine("revoked", status_since="2026-05-01T00:00:00+00:00")
    v = verdict_of(r)
    assert (v.code, r.indication) == (REVOKED, TOTAL_FAILED)
    assert v.text.startswith("已撤销。") and NO_REASON in v.text and "2026-05-01" in v.text
    assert exit_code(r) == 1


def test_expired_by_status_and_by_date_alone():
    r = _genuine("expired", valid_until="2026-05-01")
    assert verdict_of(r).code == EXPIRED and "2026-05-01" in verdict_of(r).text
    # A status list says "active" for an expired licence (its codes have no expiry): the
    # licence's own end date decides, judged on the China day of `report.at`.
    r = _genuine("active", valid_until="2026-05-31")
    assert verdict_of(r).code == EXPIRED and r.indication == TOTAL_PASSED and exit_code(r) == 1
    r = _genuine("active", valid_until="2026-06-01")
    assert verdict_of(r).code == VALID


def test_invalid_beats_any_status():
    r = _genuine("revoked")
    r.add(QrCheck.EL1_ISSUER_BINDING, False, "x", failure="SIG_CONSTRAINTS_FAILURE")
    v = verdict_of(r)
    assert v.code == INVALID and v.text.startswith("无效。") and "签发机构与签名者一致" in v.text
    assert exit_code(r) == 1


def test_stale_or_replayed_presentation_asks_for_a_fresh_code():
    r = _genuine()
    r.add(QrCheck.EP1_FRESHNESS, False, "old", failure="EXPIRED")
    r.add(ServiceCheck.PRESENTATION_REPLAY, False, "again", failure="SIG_CONSTRAINTS_FAILURE")
    v = verdict_of(r)
    assert v.code == INVALID and "刷新" in v.text


def test_undetermined():
    r = _genuine(None)
    r.add(StatusCheck.LICENCE, False, "unreachable", failure="TRY_LATER", indeterminate=True)
    v = verdict_of(r)
    assert v.code == UNDETERMINED and "稍后重试" in v.text and exit_code(r) == 2
    assert verdict_of(Report()).code == UNDETERMINED
    r = Report(subject="not-a-licence")
    r.add("qr.licence_code", False, "x", failure="SIGNED_DATA_NOT_FOUND", indeterminate=True)
    assert verdict_of(r).code == UNDETERMINED and exit_code(r) == 2


def test_a_document_without_licence_status_is_not_told_to_check_one():
    r = Report(subject="pdf")
    r.add(PdfCheck.SIGNATURE_VALUE, True, "ok")
    assert verdict_of(r).text == "有效。签名真实、内容未被篡改。"


def test_every_verdict_has_chinese_and_the_json_starts_with_it():
    assert set(VERDICT_ZH) == set(VERDICTS)
    body = _genuine("suspended", status_reason="年报核查").as_dict()
    assert list(body)[:3] == ["verdict", "verdict_text", "about"]
    assert {"indication", "sub_indication", "subject", "checks", "licence", "signer", "seal",
            "notes"} <= set(body)


def test_text_and_html_start_with_the_verdict_and_about():
    r = _genuine("suspended", status_reason="年报核查", type_name="营业执照", number="SH1",
                 holder="上海示例科技有限公司", region_name="上海", validity="2026-01-15 至 长期")
    lines = r.to_text().splitlines()
    assert lines[0].startswith("结论：已暂停。") and "年报核查" in lines[0]
    assert "证照类型：营业执照" in lines and "有效期：2026-01-15 至 长期" in lines
    assert any(x.startswith("ETSI 结论：无法确定（INDETERMINATE）") for x in lines)
    page = to_html(r)
    assert page.index("年报核查") < page.index("逐项检查") and "证照概要" in page


def test_people_never_see_raw_values():
    assert display("certification", "NO_CHANGES") == "认证签名：签名后不允许任何修改"
    assert display("subfilter", "ETSI.CAdES.detached").startswith("PAdES")
    assert display("picture_mm", [42, 42]) == "42 × 42 毫米"
    assert display("type", 1) == "单位印章" and display("replayed", False) == "否"
    assert display("region", "sh") == "上海" and display("status", "suspended") == "已暂停"
    shown = display("presentation", {"region": "sh", "replayed": False})
    assert "False" not in shown and "上海" in shown and "是否重复扫描" in shown
    r = _genuine()
    r.signer.update({"subfilter": "ETSI.CAdES.detached", "certification": "NO_CHANGES",
                     "trust_lists": [{"region": "sh", "sequence": 3}]})
    r.seal.update({"type": 1, "picture_mm": [42, 42], "cert_list_type": 1})
    page = to_html(r)
    for raw in ("NO_CHANGES", "ETSI.CAdES.detached", "[42, 42]", "{'", "False", "True"):
        assert raw not in page, raw
    assert "上海信任列表第 3 版" in page


def test_names_agree_with_the_service():
    from license_svc.config import REGIONS
    from signing.seal import SEAL_TYPES

    assert REGION_ZH == REGIONS
    assert VALUE_ZH["type"] == {str(k): v for k, v in SEAL_TYPES.items()}


@pytest.mark.parametrize("value,expected", [("2026-06-01", "2026-06-01"),
                                            ("2026-05-31T16:00:00Z", "2026-06-01"),
                                            ("garbage", None), (None, None)])
def test_day_is_the_china_calendar_day(value, expected):
    assert day(value) == expected


def test_an_el1_lapsing_with_its_licence_is_expired_not_invalid():
    def lapsed(valid_until):
        r = _genuine(None, valid_until=valid_until)
        r.add(QrCheck.EL1_LICENCE_VALIDITY, False, "code expired", failure="EXPIRED")
        return verdict_of(r).code
    assert lapsed("2026-05-01") == EXPIRED
    assert lapsed("2031-01-01") == INVALID  # the code ran out, the licence did not


def test_certificate_names_in_chinese():
    shown = display("subject", "Common Name: 上海市市场监督管理局 电子证照签名 SM2, Organization "
                               "Identifier: 11310000MB0000010A, Organization: 上海市市场监督管理局")
    assert shown == "名称：上海市市场监督管理局 电子证照签名 SM2, 机构代码：11310000MB0000010A, 机构：上海市市场监督管理局"

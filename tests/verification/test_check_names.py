"""Check names are one vocabulary (verification/checks.py): one style, each with Chinese text,
no literal names left in the code, and the documentation's table generated from it.

That every name emitted anywhere in the suite has Chinese text is checked after each test by the
autouse fixture in tests/conftest.py (tests/support/check_names.py); the tests here show that the
recorder sees what a verifier emits."""

import re
from datetime import datetime, timezone
from pathlib import Path

import pytest

from verification import checks
from verification.checks import (ENUMS, OFD_SEAL, PDF_SEAL, OfdCheck, QrCheck, SealCheck, chinese,
                                 embedded, markdown_table, member)
from verification.qr import QrTrust, verify_qr_text
from verification.report import Report
from tests.support import check_names

ROOT = Path(__file__).resolve().parents[2]
STYLE = re.compile(r"^[a-z0-9_]+(\.[a-z0-9_\[\]0-9]+)+$")
CJK = re.compile(r"[\u4e00-\u9fff]")
ALL = [m for e in ENUMS for m in e]


def test_every_name_has_the_style_and_chinese_text():
    assert [m.value for m in ALL if not STYLE.match(m.value)] == []
    assert [m.value for m in ALL if not CJK.search(m.zh)] == []
    assert len({m.value for m in ALL}) == len(ALL), "a name declared twice"


def test_each_enumeration_keeps_to_its_areas():
    areas = {e.__name__: sorted({m.value.split(".")[0] for m in e}) for e in ENUMS}
    assert areas == {
        "PdfCheck": ["pdf"], "SealCheck": ["seal", "signature"], "QrCheck": ["el1", "ep1", "qr"],
        "OfdCheck": ["ofd"], "TrustListCheck": ["trust_list"], "ListingCheck": ["binding", "trust"],
        "StatusCheck": ["status"],
        "AuditCheck": ["audit"], "ServiceCheck": ["service"], "LimitCheck": ["limits"]}


def test_indexed_and_embedded_names_find_their_text():
    assert OfdCheck.SIG_STAMP.at(2) == "ofd.sig[2].stamp"
    assert chinese("ofd.sig[2].stamp") == OfdCheck.SIG_STAMP.zh
    ref = OfdCheck.SIG_REFERENCE.at(1, "/Doc_0/Res[1].xml")
    assert ref == "ofd.sig[1].reference[/Doc_0/Res%5B1%5D.xml]"  # brackets in a key are escaped
    assert member(ref) is OfdCheck.SIG_REFERENCE
    assert embedded(OFD_SEAL, SealCheck.SEAL_VALIDITY, 3) == "ofd.sig[3].seal.validity"
    assert chinese("ofd.sig[3].seal.validity") == chinese("pdf.seal.validity") == "印章有效期"
    assert embedded(PDF_SEAL, SealCheck.SEAL_STATUS) == "pdf.seal.status"
    assert chinese("pdf.signature_value") == "签名值" and chinese("no.such_check") == ""
    assert chinese("pdf.seal") == "电子印章"  # the PDF's own check, not an embedded one
    with pytest.raises(ValueError):
        OfdCheck.SIG_STAMP.at()
    with pytest.raises(ValueError):
        embedded("ofd", "seal.format")


def test_reports_show_and_serialise_the_chinese_title():
    r = Report(subject="pdf")
    r.add(checks.PdfCheck.SIGNATURE_VALUE, True, "SM2")
    assert type(r.checks[0].name) is str and r.check("pdf.signature_value") is r.checks[0]
    assert r.as_dict()["checks"] == [{"name": "pdf.signature_value", "title_zh": "签名值",
                                      "passed": True, "detail": "SM2"}]
    assert "  [通过] 签名值 pdf.signature_value：SM2" in r.to_text().splitlines()


def test_the_recorder_sees_what_a_verifier_emits():
    check_names.emitted.clear()
    report = verify_qr_text("EL1:???", QrTrust(), datetime(2026, 6, 1, tzinfo=timezone.utc))
    assert [c.name for c in report.checks] == [QrCheck.EL1_FORMAT]
    assert check_names.emitted == ["el1.format"]
    Report().add("made.up_by_a_test", True)  # a test's own names are not the code's
    assert check_names.emitted == ["el1.format"]
    assert check_names.without_chinese(["el1.format", "ofd.sig[].stamp", "x.y"]) == \
        ["ofd.sig[].stamp", "x.y"]


# Calls that take a check name first (after `report`, for helpers that take the report).
_NAMED_CALL = re.compile(r"\b(add|fail_format|add_to|check|check_timestamp|add_status_check|"
                         r"_load_cert|_check_crypto|_guarded|_trusted_time)\(\s*(report,\s*)?f?[\"']")


def test_no_literal_check_names_in_the_code():
    found = []
    for folder in ("verification", "license_svc"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if _NAMED_CALL.search(line):
                    found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert found == [], "use a member of verification/checks.py:\n" + "\n".join(found)


def test_the_documented_table_is_the_enumerations():
    doc = (ROOT / "docs" / "verification.md").read_text(encoding="utf-8")
    table = re.search(r"<!-- check-names:begin \(generated\) -->\n(.*?)<!-- check-names:end -->",
                      doc, re.S)
    assert table, "docs/verification.md lost its generated table of check names"
    assert table.group(1).strip() == markdown_table(), \
        "regenerate the table in docs/verification.md from verification.checks.markdown_table()"


def test_an_empty_key_is_still_a_filled_name():
    """A tampered OFD reference may name no file: its check name must not read as a template
    (CI once found `ofd.sig[1].reference[]` on a hypothesis example)."""
    from verification.checks import OfdCheck, chinese

    name = OfdCheck.SIG_REFERENCE.at(1, "")
    assert "[]" not in name and chinese(name)

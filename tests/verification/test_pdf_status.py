"""verify_pdf: licence identifier from /LicenseSvc and the caller's status lookup."""

import pytest

from tests.support.pdf import AT, LICENCE, genuine, trust
from verification.pdf import verify_pdf
from verification.report import INDETERMINATE, TOTAL_FAILED, TOTAL_PASSED


@pytest.mark.parametrize("answer, indication, sub", [
    ("active", TOTAL_PASSED, None),
    ({"status": "superseded", "superseded_by": "X.002"}, TOTAL_PASSED, None),
    ("revoked", TOTAL_FAILED, "REVOKED"),
    ("suspended", INDETERMINATE, "TRY_LATER"),
    ("expired", TOTAL_FAILED, "EXPIRED"),
    (None, INDETERMINATE, "GENERIC"),
])
def test_status_lookup(answer, indication, sub):
    seen = []

    def lookup(identifier):
        seen.append(identifier)
        return answer

    r = verify_pdf(genuine("rsa"), trust("rsa"), AT, status_lookup=lookup)
    assert seen == [LICENCE["id"]]
    assert r.indication == indication, r.to_text()
    assert r.sub_indication == sub
    if isinstance(answer, dict):
        assert r.licence["superseded_by"] == "X.002" and any("X.002" in n for n in r.notes)


def test_lookup_failure_is_try_later():
    def lookup(identifier):
        raise ConnectionError("peer down")

    r = verify_pdf(genuine("sm2"), trust("sm2"), AT, status_lookup=lookup)
    assert (r.indication, r.sub_indication) == (INDETERMINATE, "TRY_LATER")


def test_seal_registry_status_is_consulted():
    r = verify_pdf(genuine("sm2"), trust("sm2", seal_status=lambda seal: "revoked"), AT)
    assert r.indication == TOTAL_FAILED, r.to_text()
    assert any(c.name.startswith("pdf.seal") and not c.passed for c in r.checks)


def test_report_json_shape():
    d = verify_pdf(genuine("sm2"), trust("sm2"), AT).as_dict()
    assert d["indication"] == TOTAL_PASSED
    assert d["licence"]["identifier"] == LICENCE["id"]
    assert d["signer"]["algorithm"] == "sm2" and d["seal"]
    assert all({"name", "passed", "detail"} <= set(c) for c in d["checks"])

"""Acceptance list of the PDF verifier: every attack file, generated here from a genuine signed
licence, gives TOTAL_FAILED or INDETERMINATE with the expected sub-indication — never PASSED,
never an exception.  (pdf-notes A.1–A.5; docs/pdf.md maps each to its check.)"""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.support import pdf_attacks as g
from tests.support.material import NOW, licence_page, seal_png
from tests.support.pdf import AT, LICENCE, genuine, stamper, timestamper, trust
from verification.pdf import verify_pdf
from verification.report import INDETERMINATE, TOTAL_FAILED, TOTAL_PASSED

ALGS = ["sm2", "rsa"]


def _verdict(data: bytes, algorithm: str, at=AT, **kw):
    r = verify_pdf(data, trust(algorithm, **kw), at)
    return r


def _assert(report, indication, sub=None, check=None):
    assert report.indication == indication, report.to_text()
    if sub is not None:
        assert report.sub_indication == sub, report.to_text()
    if check is not None:
        c = report.check(check)
        assert c is not None and not c.passed, report.to_text()


@pytest.mark.parametrize("algorithm", ALGS)
def test_genuine_licence_passes(algorithm):
    r = _verdict(genuine(algorithm), algorithm)
    assert r.indication == TOTAL_PASSED, r.to_text()
    assert r.licence["identifier"] == LICENCE["id"]
    assert r.licence["data_hash"] == LICENCE["data_hash"]
    assert r.signer["certification"] == "NO_CHANGES"
    assert r.signer["subfilter"] == "ETSI.CAdES.detached"
    assert r.signer["timestamp"].startswith("2025-06-01T08:00")
    if algorithm == "sm2":
        assert r.signer["digest"] == "sm3"
        assert r.check("pdf.seal_binding").passed and r.seal


BYTE_ATTACKS = {
    "one_byte_changed": (g.flip_signed_byte, TOTAL_FAILED, "HASH_FAILURE", "pdf.integrity"),
    "contents_zeroed": (g.zero_contents, TOTAL_FAILED, "FORMAT_FAILURE", "pdf.signature_dictionary"),
    "byte_range_removed": (g.remove_byte_range, TOTAL_FAILED, "FORMAT_FAILURE", None),
    "byte_range_altered": (g.alter_byte_range, TOTAL_FAILED, "FORMAT_FAILURE",
                           "pdf.signature_dictionary"),
    "byte_range_null": (g.null_byte_range, TOTAL_FAILED, "FORMAT_FAILURE", None),
    "object_after_eof": (g.append_after_eof, TOTAL_FAILED, "FORMAT_FAILURE", "pdf.tail"),
    "comment_after_eof": (lambda d: g.append_after_eof(d, b"% hello\n"), TOTAL_FAILED,
                          "FORMAT_FAILURE", "pdf.tail"),
    "update_without_eof": (g.append_update_without_eof, TOTAL_FAILED, "FORMAT_FAILURE", "pdf.tail"),
    "signature_wrapping": (g.signature_wrapping, TOTAL_FAILED, "FORMAT_FAILURE",
                           "pdf.signature_dictionary"),
    "page_content_overwritten": (g.overwrite_page_content, TOTAL_FAILED,
                                 "SIG_CONSTRAINTS_FAILURE", "pdf.modifications"),
    "annotation_added": (g.add_annotation, TOTAL_FAILED, "SIG_CONSTRAINTS_FAILURE",
                         "pdf.modifications"),
    "signature_field_added": (g.add_signature_field, TOTAL_FAILED, "SIG_CONSTRAINTS_FAILURE",
                              "pdf.modifications"),
    "truncated": (lambda d: d[: len(d) // 2], TOTAL_FAILED, "FORMAT_FAILURE", None),
}


@pytest.mark.parametrize("algorithm", ALGS)
@pytest.mark.parametrize("name", sorted(BYTE_ATTACKS))
def test_attack_on_signed_licence(algorithm, name):
    make, indication, sub, check = BYTE_ATTACKS[name]
    _assert(_verdict(make(genuine(algorithm)), algorithm), indication, sub, check)


@pytest.mark.parametrize("algorithm", ALGS)
def test_sneaky_second_signature_by_trusted_signer(algorithm):
    from tests.support.material import hierarchy

    data = g.sign_again(genuine(algorithm), hierarchy(algorithm).signer)
    _assert(_verdict(data, algorithm), TOTAL_FAILED, "SIG_CONSTRAINTS_FAILURE", "pdf.modifications")


def test_form_value_changed_after_signing():
    page = g.with_text_field(licence_page())
    signed = stamper("sm2").sign(page, LICENCE)
    assert _verdict(signed, "sm2").indication == TOTAL_PASSED
    _assert(_verdict(g.change_form_value(signed), "sm2"), TOTAL_FAILED, "SIG_CONSTRAINTS_FAILURE",
            "pdf.modifications")


@pytest.mark.parametrize("algorithm", ALGS)
def test_shadow_hide(algorithm):
    signed = stamper(algorithm).sign(g.shadow_prepare_hide(licence_page()), LICENCE)
    assert _verdict(signed, algorithm).indication == TOTAL_PASSED  # the shadowed file is benign
    _assert(_verdict(g.shadow_hide(signed), algorithm), TOTAL_FAILED, "SIG_CONSTRAINTS_FAILURE",
            "pdf.modifications")


@pytest.mark.parametrize("algorithm", ALGS)
def test_shadow_replace_font_overwrite(algorithm):
    _assert(_verdict(g.shadow_replace(genuine(algorithm)), algorithm), TOTAL_FAILED,
            "SIG_CONSTRAINTS_FAILURE", "pdf.modifications")


@pytest.mark.parametrize("algorithm", ALGS)
def test_shadow_hide_and_replace_xref_only_update(algorithm):
    signed = stamper(algorithm).sign(g.shadow_prepare_hide_and_replace(licence_page()), LICENCE)
    assert _verdict(signed, algorithm).indication == TOTAL_PASSED
    r = _verdict(g.shadow_hide_and_replace(signed), algorithm)
    assert r.indication == TOTAL_FAILED, r.to_text()
    assert r.sub_indication in ("FORMAT_FAILURE", "SIG_CONSTRAINTS_FAILURE"), r.to_text()


def test_untrusted_key_with_copied_seal_picture_and_seseal():
    """An attacker's own SM2 PKI signs the licence, showing the genuine seal picture and even
    carrying the genuine SESeal: chain untrusted, and the seal does not list his certificate."""
    from tests.support.material import hierarchy, seal_der
    from signing.pdf import LicenceStamper

    attacker = hierarchy("sm2", "attacker")
    genuine_seal = seal_der("sm2")
    st = LicenceStamper(attacker.signer, seal=genuine_seal, seal_png=seal_png(),
                        timestamper=timestamper("sm2", "attacker"))
    r = _verdict(st.sign(licence_page(), LICENCE), "sm2")
    assert r.indication == TOTAL_FAILED, r.to_text()
    assert not r.check("pdf.certificate_path").passed
    assert r.check("pdf.certificate_path").failure == "NO_CERTIFICATE_CHAIN_FOUND"
    assert not r.check("pdf.seal_binding").passed


@pytest.mark.parametrize("algorithm", ALGS)
def test_untrusted_key_picture_only(algorithm):
    """Copied seal picture, no seal attribute, attacker's key: never PASSED."""
    st = stamper(algorithm, label="attacker", with_seal=False)
    r = _verdict(st.sign(licence_page(), LICENCE), algorithm)
    assert r.indication in (INDETERMINATE, TOTAL_FAILED), r.to_text()
    assert r.check("pdf.certificate_path").failure == "NO_CERTIFICATE_CHAIN_FOUND"
    if algorithm == "rsa":
        assert r.indication == INDETERMINATE and r.sub_indication == "NO_CERTIFICATE_CHAIN_FOUND"


@pytest.mark.parametrize("algorithm", ALGS)
def test_certificate_used_after_expiry(algorithm):
    """The timestamp proves the signature was made 30 days after the certificate expired."""
    st = stamper(algorithm, who="expired_signer", with_seal=False)
    r = _verdict(st.sign(licence_page(), LICENCE), algorithm)
    _assert(r, TOTAL_FAILED, None, "pdf.certificate_path")
    assert r.check("pdf.certificate_path").failure == "EXPIRED"


def test_expired_certificate_without_timestamp_is_indeterminate():
    st = stamper("rsa", who="expired_signer", with_ts=False, with_seal=False)
    r = _verdict(st.sign(licence_page(), LICENCE), "rsa")
    _assert(r, INDETERMINATE, "OUT_OF_BOUNDS_NO_POE", "pdf.certificate_path")


@pytest.mark.parametrize("algorithm", ALGS)
def test_expired_later_but_timestamped_while_valid_passes(algorithm):
    """Verified after the signer certificate expired: the timestamp is the proof of existence
    while it was valid, so the licence still verifies (what a relying department needs);
    without the timestamp the same file is INDETERMINATE."""
    later = NOW + timedelta(days=90)
    with_ts = stamper(algorithm, who="short_signer", with_seal=False).sign(licence_page(), LICENCE)
    r = verify_pdf(with_ts, trust(algorithm), later)
    assert r.check("pdf.certificate_path").passed, r.to_text()
    if algorithm == "rsa":
        assert r.indication == TOTAL_PASSED, r.to_text()
    bare = stamper(algorithm, who="short_signer", with_ts=False, with_seal=False)
    r = verify_pdf(bare.sign(licence_page(), LICENCE), trust(algorithm), later)
    _assert(r, INDETERMINATE if algorithm == "rsa" else TOTAL_FAILED, None, "pdf.certificate_path")
    assert r.check("pdf.certificate_path").failure == "OUT_OF_BOUNDS_NO_POE"


def test_sm2_signature_without_seal_attribute_fails():
    st = stamper("sm2", with_seal=False)
    r = _verdict(st.sign(licence_page(), LICENCE), "sm2")
    _assert(r, TOTAL_FAILED, "SIG_CONSTRAINTS_FAILURE", "pdf.seal")


def test_seal_not_listing_the_signer():
    """A genuine seal made for another signer of the same office, carried by this signer."""
    from tests.support.material import hierarchy, seal_der
    from signing.pdf import LicenceStamper

    h = hierarchy("sm2")
    st = LicenceStamper(h.signer, seal=seal_der("sm2", "", "expired_signer"), seal_png=seal_png(),
                        timestamper=timestamper("sm2"))
    _assert(_verdict(st.sign(licence_page(), LICENCE), "sm2"), TOTAL_FAILED,
            "SIG_CONSTRAINTS_FAILURE", "pdf.seal_binding")


@pytest.mark.parametrize("data", [b"", b"not a pdf", b"%PDF-1.7\n%%EOF", b"%PDF-" + b"\0" * 100,
                                  b"%PDF-1.4\n1 0 obj<<>>endobj\nstartxref\n9\n%%EOF\n"])
def test_garbage_is_format_failure(data):
    r = verify_pdf(data, trust("sm2"), AT)
    assert r.indication == TOTAL_FAILED and r.sub_indication == "FORMAT_FAILURE", r.to_text()


def test_unsigned_pdf_is_not_passed():
    r = verify_pdf(licence_page(), trust("sm2"), AT)
    assert r.indication == TOTAL_FAILED, r.to_text()


def test_naive_time_is_refused_not_raised():
    r = verify_pdf(genuine("rsa"), trust("rsa"), AT.replace(tzinfo=None))
    assert r.indication == TOTAL_FAILED


@pytest.mark.parametrize("algorithm", ALGS)
def test_document_timestamp_after_certification_is_allowed_but_not_a_cover(algorithm):
    """B-LTA style document timestamp after the P=1 signature: allowed (LTA update).  A content
    change after that timestamp is still caught."""
    import io

    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign.signers.pdf_signer import PdfTimeStamper

    out = io.BytesIO()
    PdfTimeStamper(timestamper(algorithm)).timestamp_pdf(
        IncrementalPdfFileWriter(io.BytesIO(genuine(algorithm))),
        "sm3" if algorithm == "sm2" else "sha256", output=out)
    stamped = out.getvalue()
    r = _verdict(stamped, algorithm)
    assert r.indication == TOTAL_PASSED, r.to_text()
    assert r.check("pdf.document_timestamp").passed
    _assert(_verdict(g.overwrite_page_content(stamped), algorithm), TOTAL_FAILED, None,
            "pdf.modifications")

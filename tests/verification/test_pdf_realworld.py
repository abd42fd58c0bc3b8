"""Signed PDFs as foreign tools write them (issue 15): read leniently — each leniency a note —
and judged as strictly as our own.  Every file is signed for real (OpenSSL PKI, pyHanko
signatures, re-signed over the changed bytes); pyHanko's validator gives its verdict beside
ours."""

from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest
from asn1crypto import cms
from hypothesis import HealthCheck, given, settings, strategies as st

from formats.ber import to_der
from tests.support import pdf_attacks as attacks
from tests.support import realpdf as rp
from verification.checks import PdfCheck
from verification.pdf import PdfTrust, verify_pdf
from verification.report import TOTAL_FAILED, TOTAL_PASSED

USER_CERTIFICATE = "2.5.4.36"  # userCertificate: asn1crypto cannot read it as a signed attribute


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return rp.make_pki(tmp_path_factory.mktemp("realpdf"))


@pytest.fixture(scope="module")
def signed(pki):
    return rp.sign(pki)


def _verify(data: bytes, pki):
    return verify_pdf(data, PdfTrust(signer_roots=[pki.root], tsa_roots=[pki.root]), datetime.now(timezone.utc))


def _passes_with_note(data, pki, note: str):
    report = _verify(data, pki)
    assert report.indication == TOTAL_PASSED, report.to_text()
    assert any(note in n for n in report.notes), report.notes
    return report


def test_ber_cms_passes_with_a_note_as_pyhanko_says(pki, signed):
    data = rp.resign(signed, pki, ber=True, depth=4)
    assert data[data.index(b"/Contents <") + 11:][:4] == b"3080"
    assert rp.pyhanko_verdict(data, pki.root) == (True, True, True)
    _passes_with_note(data, pki, "BER")


def test_deeply_ber_cms_passes_although_pyhanko_cannot_read_it(pki, signed):
    """Signer infos and certificates in indefinite lengths too: asn1crypto (and so pyHanko)
    stop reading; the DER re-encoding verifies (docs/verification.md: a difference on purpose)."""
    data = rp.resign(signed, pki, ber=True, depth=6)
    with pytest.raises(ValueError):
        rp.pyhanko_verdict(data, pki.root)
    _passes_with_note(data, pki, "BER")


def test_ber_attack_is_caught_by_the_modification_check(pki, signed):
    """Before: "does not parse as CMS".  Now the check that catches the attack says so."""
    data = attacks.overwrite_page_content(rp.resign(signed, pki, ber=True, depth=6))
    report = _verify(data, pki)
    assert report.indication == TOTAL_FAILED, report.to_text()
    assert report.check(PdfCheck.SIGNATURE_DICTIONARY).passed
    assert not report.check(PdfCheck.MODIFICATIONS).passed, report.to_text()


def test_ber_signed_bytes_changed_is_a_hash_failure(pki, signed):
    data = attacks.flip_signed_byte(rp.resign(signed, pki, ber=True, depth=6))
    report = _verify(data, pki)
    assert report.indication == TOTAL_FAILED and report.sub_indication == "HASH_FAILURE", \
        report.to_text()


def test_ber_with_garbage_after_it_is_refused(pki, signed):
    data = rp.resign(signed, pki, ber=True, depth=6)
    i = data.index(b"/Contents <") + 11
    _, length = to_der(bytes.fromhex(data[i:data.index(b">", i)].decode()))
    at = i + 2 * length
    data = data[:at] + b"ff" + data[at + 2:]
    report = _verify(data, pki)
    assert report.sub_indication == "FORMAT_FAILURE", report.to_text()
    assert "non-zero data after the CMS" in report.check(PdfCheck.SIGNATURE_DICTIONARY).detail


def test_signature_dictionary_without_type(pki, signed):
    data = rp.resign(signed, pki, drop_type=True)
    assert b"/Type /Sig" not in data[data.rindex(b"/ByteRange"):]
    assert rp.pyhanko_verdict(data, pki.root) == (True, True, True)
    _passes_with_note(data, pki, "/Type")


def test_wrong_type_is_still_refused(pki, signed):
    start = signed.rindex(b"/Type /Sig")
    data = rp.resign(signed[:start] + b"/Type /Xyz" + signed[start + 10:], pki)
    report = _verify(data, pki)
    assert report.sub_indication == "FORMAT_FAILURE", report.to_text()


def test_unreadable_signed_attribute_nobody_uses(pki, signed):
    data = rp.resign(signed, pki, extra_attrs=[(USER_CERTIFICATE, pki.root.dump())])
    assert rp.pyhanko_verdict(data, pki.root) == (True, True, True)
    _passes_with_note(data, pki, USER_CERTIFICATE)


def test_unreadable_signed_attribute_a_check_reads_is_malformed(pki, signed):
    # a second signing-time attribute whose value is an OCTET STRING, not a Time
    data = rp.resign(signed, pki, extra_attrs=[("1.2.840.113549.1.9.5", b"\x04\x01x")])
    report = _verify(data, pki)
    assert report.indication == TOTAL_FAILED and report.sub_indication == "FORMAT_FAILURE", \
        report.to_text()


@pytest.mark.parametrize("algorithm", ["sm2", "rsa"])
def test_tampered_file_does_not_blame_a_good_certificate(algorithm):
    """Issue 14: the signed bytes changed; the signer's path is the same as on the genuine
    file and is reported as trusted — only the real failure fails."""
    from tests.support.pdf import AT, genuine, trust

    report = verify_pdf(attacks.flip_signed_byte(genuine(algorithm)), trust(algorithm), AT)
    assert report.sub_indication == "HASH_FAILURE", report.to_text()
    assert report.check(PdfCheck.CERTIFICATE_PATH).passed, report.to_text()
    assert [c.name for c in report.checks if not c.passed] == [PdfCheck.INTEGRITY]


def test_tampered_file_by_an_untrusted_signer_still_names_the_path(pki, signed):
    from tests.support.pdf import trust

    report = verify_pdf(attacks.flip_signed_byte(signed), trust("rsa"), datetime.now(timezone.utc))
    path = report.check(PdfCheck.CERTIFICATE_PATH)
    assert not path.passed and "NO_CERTIFICATE_CHAIN_FOUND" in str(path.failure), report.to_text()


def test_malformed_unused_cms_part_is_refused():
    """Found by test_pdf_hostile once the CMS was re-encoded: a SEQUENCE tag in the
    digestAlgorithms set (which no check reads) changed to 0x20 still verified, here and
    before (asn1crypto parses lazily).  Every part of the SignedData but the certificate
    hints must parse."""
    from tests.support.pdf import AT, genuine, trust

    data = genuine("rsa")
    i = re.search(rb"/Contents\s*<", data).end()
    j = data.lower().index(b"310f300d0609608648016503040201", i) + 4  # SET { SEQUENCE { sha256 } }
    mutated = data[:j] + b"2" + data[j + 1:]
    report = verify_pdf(mutated, trust("rsa"), AT)
    assert report.sub_indication == "FORMAT_FAILURE", report.to_text()


@pytest.fixture(scope="module")
def deep_ber(pki, signed):
    return rp.resign(signed, pki, ber=True, depth=6)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(offset=st.integers(0, 2 * 5000), value=st.integers(1, 15))
def test_changed_ber_cms_passes_only_when_its_der_is_unchanged(pki, deep_ber, offset, value):
    """One hex digit of a BER /Contents changed: PASSED only if the DER it stands for is the
    same (a BER re-encoding of the same CMS) or differs only inside what is neither signed nor
    used, and still parses: the carried copy of the root certificate (the trusted root is the
    caller's) or the SignedData's digestAlgorithms set (the SignerInfo names its own)."""
    data = deep_ber
    start = re.search(rb"/Contents\s*<", data).end()
    blob = bytes.fromhex(data[start:data.index(b">", start)].decode())
    der, length = to_der(blob)
    pos = start + offset % (2 * length)
    digit = int(chr(data[pos]), 16) ^ value
    mutated = data[:pos] + b"%x" % digit + data[pos + 1:]
    report = _verify(mutated, pki)
    if report.indication != TOTAL_PASSED:
        return
    changed, _ = to_der(bytes.fromhex(mutated[start:mutated.index(b">", start)].decode()))
    if changed == der:
        return
    unused = [pki.root.dump(), cms.ContentInfo.load(der)["content"]["digest_algorithms"].dump()]
    spans = [(der.index(part), der.index(part) + len(part)) for part in unused]
    diff = [i for i, (a, b) in enumerate(zip(der, changed)) if a != b]
    assert len(changed) == len(der), report.to_text()
    assert any(a <= diff[0] and diff[-1] < b for a, b in spans), (diff, report.to_text())

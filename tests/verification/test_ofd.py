"""verify_ofd on OFD packages made here from the development PKI: sealed (SES_Signature) and
plainly signed (GB/T 35275 SignedData) documents that pass, every kind of tampering named by the
check that catches it, hostile ZIP and XML as FORMAT_FAILURE, and random mutations that never
crash and never pass (hypothesis).  Packages are built in the tests; nothing binary is committed."""

import io
import struct
import zipfile
from datetime import datetime, timezone

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from tests.support import seal as ss
from tests.support import ofd as fx
from verification import dispatch
from verification.ofd import verify_ofd
from verification.ofd.package import MAX_ENTRIES
from verification.qr import QrTrust
from verification.report import INDETERMINATE, TOTAL_FAILED, TOTAL_PASSED
from verification.seal import SealTrust

AT = ss.LATER
SIG = fx.SIGN_DIR + "Signature.xml"
VALUE = fx.SIGN_DIR + "SignedValue.dat"
SEAL_FILE = fx.SIGN_DIR + "Seal.esl"
PAGE_CHECK = "ofd.sig[1].reference[/" + fx.PAGE + "]"


@pytest.fixture(scope="module")
def trust():
    return ss.trust()


def verify(data, trust, at=AT, **kw):
    return verify_ofd(data, trust, at, **kw)


def flip(data: bytes, index: int = 0) -> bytes:
    return data[:index] + bytes([data[index] ^ 0x01]) + data[index + 1:]


# --- what passes ------------------------------------------------------------------------------
def test_sealed_package_passes_with_every_step_named(trust):
    report = verify(fx.seal_package(), trust)
    assert report.indication == TOTAL_PASSED, report.to_text()
    names = {c.name for c in report.checks}
    for name in ("ofd.package", "ofd.structure", "ofd.signatures", "ofd.sig[1].signature_xml",
                 PAGE_CHECK, "ofd.sig[1].reference[/OFD.xml]", "ofd.sig[1].stamp",
                 "ofd.sig[1].seal.signature", "ofd.sig[1].seal.maker_certificate",
                 "ofd.sig[1].signature.value", "ofd.sig[1].signature.signer_certificate",
                 "ofd.sig[1].signature.data_hash", "ofd.sig[1].seal_file", "ofd.coverage"):
        assert name in names, name
    assert report.seal["name"] == "合同专用章"
    assert report.seal["stamps"] == [{"signature": "/" + SIG, "page": 1,
                                      "boundary_mm": [120.0, 230.0, 40.0, 40.0]}]
    assert "上海" in report.signer["subject"]
    assert "第 1 页" in report.check("ofd.sig[1].stamp").detail


def test_sha256_check_method_passes(trust):
    report = verify(fx.seal_package(check_method="2.16.840.1.101.3.4.2.1"), trust)
    assert report.indication == TOTAL_PASSED, report.to_text()


@pytest.mark.parametrize("form", ["gm", "pkcs9", "rfc", "bare"])
def test_plain_digital_signature_passes_and_is_not_a_seal(trust, form):
    report = verify(fx.sign_package(form), trust)
    assert report.indication == TOTAL_PASSED, report.to_text()
    assert "plain digital signature" in report.check("ofd.sig[1].signature_xml").detail
    assert "not a seal" in report.check("ofd.sig[1].digital_signature.format").detail
    assert not any(c.name.startswith("ofd.sig[1].seal") for c in report.checks)
    assert report.seal == {} and "上海" in report.signer["subject"]
    assert report.check("ofd.sig[1].digital_signature.time").passed
    assert any("ContentInfo" in n for n in report.notes) == (form == "bare")


def test_two_signatures_each_reported(trust):
    report = verify(fx.two_seals_package(), trust)
    assert report.indication == TOTAL_PASSED, report.to_text()
    assert report.check("ofd.sig[2].reference[/" + SIG + "]").passed  # the co-signer protects sig 1
    assert [s["boundary_mm"][0] for s in report.seal["stamps"]] == [120.0, 40.0]


def test_a_later_signature_detects_an_edit_of_the_first(trust):
    xml = fx.unzip(fx.two_seals_package())[SIG]
    edited = fx.rezip(fx.two_seals_package(), replace={SIG: xml.replace(b"120 230", b"121 230")})
    assert failed(verify(edited, trust)) == {"ofd.sig[1].signature.data_hash": "HASH_FAILURE",
                                             "ofd.sig[2].reference[/" + SIG + "]": "HASH_FAILURE"}


def test_a_signature_struck_from_the_list_leaves_its_files_uncovered(trust):
    report = verify(fx.rezip(fx.two_seals_package(), replace={
        "Doc_0/Signs/Signatures.xml": fx.signatures_xml("Seal")}), trust)
    assert failed(report) == {"ofd.coverage": "SIG_CONSTRAINTS_FAILURE"}
    assert "/" + fx.SIGN_DIR_2 + "SignedValue.dat" in report.check("ofd.coverage").detail


def test_dispatch_routes_ofd_to_verify_ofd(trust):
    both = dispatch.Trust(qr=QrTrust(), seal=trust)
    report = dispatch.verify_bytes(fx.seal_package(), both, AT)
    assert (report.subject, report.indication) == ("ofd", TOTAL_PASSED)
    assert "ofd" in report.notes[0]


def test_dispatch_reports_a_truncated_ofd_as_a_broken_one(trust):
    both = dispatch.Trust(qr=QrTrust(), seal=trust)
    report = dispatch.verify_bytes(fx.seal_package()[:-100], both, AT)
    assert (report.subject, report.sub_indication) == ("ofd", "FORMAT_FAILURE")
    assert report.check("ofd.package").failure == "FORMAT_FAILURE"


# --- trust and time ---------------------------------------------------------------------------
def test_untrusted_roots_are_indeterminate_not_forged():
    report = verify(fx.seal_package(), SealTrust())
    assert (report.indication, report.sub_indication) == (INDETERMINATE,
                                                            "NO_CERTIFICATE_CHAIN_FOUND")
    assert report.check("ofd.sig[1].signature.value").passed


def test_untrusted_plain_signer_is_indeterminate(trust):
    report = verify(fx.sign_package("pkcs9", cred_name="untrusted"), trust)
    assert (report.indication, report.sub_indication) == (INDETERMINATE,
                                                            "NO_CERTIFICATE_CHAIN_FOUND")
    assert report.check("ofd.sig[1].digital_signature.value").passed


def test_expired_as_of_a_later_date(trust):
    later = datetime(2045, 1, 1, tzinfo=timezone.utc)
    assert verify(fx.seal_package(), trust, later).sub_indication == "EXPIRED"
    assert verify(fx.sign_package("gm"), trust, later).sub_indication == "EXPIRED"


def test_revoked_seal_fails(trust):
    revoked = ss.trust(seal_status=lambda s: "revoked")
    assert verify(fx.seal_package(), revoked).check("ofd.sig[1].seal.status").failure == "REVOKED"


# --- tampering --------------------------------------------------------------------------------
def failed(report):
    return {c.name: c.failure for c in report.checks if not c.passed}


def test_one_byte_in_a_page_changes_the_named_reference(trust):
    page = fx.unzip(fx.seal_package())[fx.PAGE]
    report = verify(fx.rezip(fx.seal_package(), replace={fx.PAGE: flip(page, len(page) // 2)}),
                    trust)
    assert (report.indication, report.sub_indication) == (TOTAL_FAILED, "HASH_FAILURE")
    assert failed(report) == {PAGE_CHECK: "HASH_FAILURE"}
    assert report.check("ofd.sig[1].signature.value").passed  # the signature itself still holds


def test_a_changed_signature_xml_fails_the_data_hash(trust):
    xml = fx.unzip(fx.seal_package())[SIG]
    moved = xml.replace(b'Boundary="120 230 40 40"', b'Boundary="10 230 40 40"')
    assert moved != xml
    report = verify(fx.rezip(fx.seal_package(), replace={SIG: moved}), trust)
    assert failed(report) == {"ofd.sig[1].signature.data_hash": "HASH_FAILURE"}
    assert "x=10" in report.check("ofd.sig[1].stamp").detail


def test_signed_value_swapped_between_packages(trust):
    other = fx.unzip(fx.seal_package(text="另一份文件 / another document"))[VALUE]
    report = verify(fx.rezip(fx.seal_package(), replace={VALUE: other}), trust)
    assert failed(report) == {"ofd.sig[1].signature.data_hash": "HASH_FAILURE"}


def test_a_removed_referenced_file_fails(trust):
    report = verify(fx.rezip(fx.seal_package(), replace={fx.PAGE: None}), trust)
    assert failed(report) == {PAGE_CHECK: "HASH_FAILURE"}
    assert "missing" in report.check(PAGE_CHECK).detail


def test_an_added_unreferenced_file_is_reported(trust):
    report = verify(fx.rezip(fx.seal_package(), add={"Doc_0/Res/extra.png": b"\x89PNG..."}),
                    trust)
    assert failed(report) == {"ofd.coverage": "SIG_CONSTRAINTS_FAILURE"}
    assert "/Doc_0/Res/extra.png" in report.check("ofd.coverage").detail


def test_signatures_xml_is_legitimately_not_covered(trust):
    listing = fx.unzip(fx.seal_package())["Doc_0/Signs/Signatures.xml"]
    renumbered = listing.replace(b"<ofd:MaxSignId>1<", b"<ofd:MaxSignId>7<")
    report = verify(fx.rezip(fx.seal_package(),
                             replace={"Doc_0/Signs/Signatures.xml": renumbered}), trust)
    assert report.indication == TOTAL_PASSED


def test_a_replaced_seal_file_fails(trust):
    report = verify(fx.rezip(fx.seal_package(), replace={SEAL_FILE: ss.seal()}), trust)
    assert failed(report) == {"ofd.sig[1].reference[/" + SEAL_FILE + "]": "HASH_FAILURE",
                              "ofd.sig[1].seal_file": "SIG_CONSTRAINTS_FAILURE"}


def test_a_missing_seal_file_fails(trust):
    report = verify(fx.rezip(fx.seal_package(), replace={SEAL_FILE: None}), trust)
    assert failed(report) == {"ofd.sig[1].reference[/" + SEAL_FILE + "]": "HASH_FAILURE",
                              "ofd.sig[1].seal_file": "FORMAT_FAILURE"}


def test_missing_signed_value_fails(trust):
    report = verify(fx.rezip(fx.seal_package(), replace={VALUE: None}), trust)
    assert failed(report) == {"ofd.sig[1].signed_value": "FORMAT_FAILURE"}


def test_plain_signature_over_a_changed_signature_xml_fails(trust):
    for form in ("gm", "pkcs9", "rfc"):
        xml = fx.unzip(fx.sign_package(form))[SIG]
        report = verify(fx.rezip(fx.sign_package(form),
                                 replace={SIG: xml.replace(b"20261122160000", b"20261122170000")}),
                        trust)
        assert failed(report) == {"ofd.sig[1].digital_signature.content": "HASH_FAILURE"}, form


def test_plain_signature_value_from_another_message_fails(trust):
    files = fx.unzip(fx.sign_package("pkcs9"))
    bad = fx.signed_data(files[SIG], ss.signer().key, ss.signer().cert, form="pkcs9",
                         tamper_signature=True)
    report = verify(fx.rezip(fx.sign_package("pkcs9"), replace={VALUE: bad}), trust)
    assert failed(report) == {"ofd.sig[1].digital_signature.value": "SIG_CRYPTO_FAILURE"}


def test_signature_type_must_match_the_value(trust):
    as_sign = fx.rezip(fx.seal_package(), replace={"Doc_0/Signs/Signatures.xml":
                                                   fx.signatures_xml("Sign")})
    assert failed(verify(as_sign, trust)) == {"ofd.sig[1].digital_signature.format": "FORMAT_FAILURE"}
    as_seal = fx.rezip(fx.sign_package("gm"), replace={"Doc_0/Signs/Signatures.xml":
                                                       fx.signatures_xml("Seal")})
    assert failed(verify(as_seal, trust)) == {"ofd.sig[1].signature.format": "FORMAT_FAILURE"}


def test_weak_check_method_is_not_accepted(trust):
    report = verify(fx.seal_package(check_method="MD5"), trust)
    assert report.indication == INDETERMINATE
    assert report.check("ofd.sig[1].check_method").failure == "CRYPTO_CONSTRAINTS_FAILURE_NO_POE"


def test_stamp_on_a_page_that_does_not_exist(trust):
    report = verify(fx.seal_package(page_ref="9"), trust)
    assert failed(report) == {"ofd.sig[1].stamp": "FORMAT_FAILURE"}


def test_unsigned_ofd(trust):
    files = fx.content_files()
    files["OFD.xml"] = files["OFD.xml"].replace(
        b"<ofd:Signatures>Doc_0/Signs/Signatures.xml</ofd:Signatures>", b"")
    report = verify(fx.zip_files(files), trust)
    assert failed(report) == {"ofd.signatures": "FORMAT_FAILURE"}


# --- hostile packages -------------------------------------------------------------------------
def zip_of(entries, method=zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as z:
        for name, data in entries:
            z.writestr(name, data)
    return buf.getvalue()


def package_error(data, trust) -> str:
    report = verify(data, trust)
    assert (report.indication, report.sub_indication) == (TOTAL_FAILED, "FORMAT_FAILURE"), \
        report.to_text()
    check = next(c for c in report.checks if c.failure == "FORMAT_FAILURE")
    return check.name + " " + check.detail


OFD_XML = fx.content_files()["OFD.xml"]


@pytest.mark.parametrize("name", ["../evil.xml", "/etc/passwd", "Doc_0/../../x.xml",
                                  "C:/x.xml", "Doc_0\\x.xml", "Doc_0//x.xml", "./OFD2.xml",
                                  "Doc_0/\x01.xml"])
def test_unsafe_entry_names(trust, name):
    assert "unsafe entry name" in package_error(zip_of([("OFD.xml", OFD_XML), (name, b"x")]), trust)


@pytest.mark.parametrize("second", ["OFD.xml", "ofd.XML"])
def test_duplicate_entries(trust, second):
    with pytest.warns(UserWarning) if second == "OFD.xml" else _no_warning():
        data = zip_of([("OFD.xml", OFD_XML), (second, b"<x/>")])
    assert "duplicate entry" in package_error(data, trust)


class _no_warning:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_zip_bomb_ratio(trust):
    data = zip_of([("OFD.xml", OFD_XML), ("Doc_0/Res/big.bmp", b"\0" * (4 * 1024 * 1024))])
    assert len(data) < 20_000
    assert "ZIP bomb" in package_error(data, trust)


def test_too_many_entries(trust):
    data = zip_of([("OFD.xml", OFD_XML)] + [(f"Doc_0/Res/{i}", b"") for i in range(MAX_ENTRIES)],
                  zipfile.ZIP_STORED)
    assert "too many entries" in package_error(data, trust)


def test_overlapping_entries(trust):
    data = bytearray(zip_of([("OFD.xml", OFD_XML), ("Doc_0/a.xml", b"<a/>" * 50)]))
    cd = data.index(b"PK\x01\x02")  # first central header: make its data run into the next entry
    (size,) = struct.unpack_from("<L", data, cd + 20)
    struct.pack_into("<L", data, cd + 20, size + 40)
    assert "overlap" in package_error(bytes(data), trust)


def test_encrypted_and_unknown_compression(trust):
    base = zip_of([("OFD.xml", OFD_XML)])
    for offset, value, message in ((8, 0x1, "encrypted"), (10, 12, "compression method")):
        data = bytearray(base)
        cd = data.index(b"PK\x01\x02")
        struct.pack_into("<H", data, cd + offset, struct.unpack_from("<H", data, cd + offset)[0]
                         | value if offset == 8 else value)
        assert message in package_error(bytes(data), trust)


@pytest.mark.parametrize("mangle, message", [
    (lambda d: b"PK\x03\x04" + b"\0" * 100, "end record"),
    (lambda d: d[: len(d) // 2], "end record"),
    (lambda d: d[:-1], "end record"),
    (lambda d: d + b"junk", "after the end"),
    (lambda d: d[:40] + b"\0" * 8 + d[48:], "damaged ZIP"),
    (lambda d: b"%PDF-1.7\n" + d, "not a ZIP"),
])
def test_damaged_zips(trust, mangle, message):
    assert message in package_error(mangle(fx.seal_package()), trust)


def test_prepended_bytes_are_refused(trust):
    data = fx.seal_package()
    local = zip_of([("junk.txt", b"x" * 10)])
    glued = local[: local.index(b"PK\x01\x02")] + data  # a valid first entry, then the package
    assert "ZIP" in package_error(glued, trust)


DTD_CASES = {
    "entity bomb": (b'<?xml version="1.0"?><!DOCTYPE OFD [<!ENTITY a "aaaaaaaaaa">'
                    b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><OFD>&b;</OFD>', "DTDForbidden"),
    "external entity": (b'<?xml version="1.0"?><!DOCTYPE OFD [<!ENTITY x SYSTEM '
                        b'"file:///etc/passwd">]><OFD>&x;</OFD>', "DTDForbidden"),
    "plain DTD": (b'<?xml version="1.0"?><!DOCTYPE OFD SYSTEM "http://example.invalid/o.dtd">'
                  b'<OFD/>', "DTDForbidden"),
    "not XML": (b"\xff\xfe<<<", "ParseError"),
    "wrong root": (b"<Document/>", "expected 'OFD'"),
}


@pytest.mark.parametrize("case", sorted(DTD_CASES))
def test_hostile_ofd_xml(trust, case):
    xml, why = DTD_CASES[case]
    error = package_error(fx.rezip(fx.seal_package(), replace={"OFD.xml": xml}), trust)
    assert error.startswith("ofd.structure") and why in error


def test_hostile_signature_xml_stops_that_signature_only(trust):
    xml = DTD_CASES["entity bomb"][0].replace(b"OFD", b"Signature")
    report = verify(fx.rezip(fx.seal_package(), replace={SIG: xml}), trust)
    assert failed(report) == {"ofd.sig[1].signature_xml": "FORMAT_FAILURE"}
    assert "DTDForbidden" in report.check("ofd.sig[1].signature_xml").detail
    assert any("coverage was not checked" in n for n in report.notes)


@pytest.mark.parametrize("old, new, check", [
    (b'BaseLoc="/Doc_0/Signs/Sign_0/Signature.xml"', b'BaseLoc="../../../etc/passwd"',
     "ofd.structure"),
    (b'BaseLoc="/Doc_0/Signs/Sign_0/Signature.xml"', b'BaseLoc="/Doc_0/Nowhere.xml"',
     "ofd.sig[1].signature_xml"),
    (b'Type="Seal"', b'Type="Stamp"', "ofd.structure"),
])
def test_hostile_signature_listing(trust, old, new, check):
    listing = fx.signatures_xml("Seal").replace(old, new)
    data = fx.rezip(fx.seal_package(), replace={"Doc_0/Signs/Signatures.xml": listing})
    assert package_error(data, trust).startswith(check)


def test_verify_ofd_requires_an_aware_time(trust):
    with pytest.raises(ValueError):
        verify_ofd(fx.seal_package(), trust, datetime(2026, 12, 1))


# --- random mutations -------------------------------------------------------------------------
HYP = settings(max_examples=300, deadline=None,
               suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@HYP
@given(edits=st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(0, 255)),
                      min_size=1, max_size=3),
       cut=st.one_of(st.none(), st.floats(0, 1)))
def test_byte_mutations_never_crash_and_pass_only_with_unchanged_files(trust, edits, cut):
    original = fx.seal_package()
    data = bytearray(original)
    for where, value in edits:
        data[int(where * len(data))] = value
    if cut is not None:
        data = data[: int(cut * len(data))]
    report = verify(bytes(data), trust)
    assert report.checks
    if report.indication == TOTAL_PASSED:  # only a change to ZIP metadata may leave it valid
        assert fx.unzip(bytes(data)) == fx.unzip(original)


MEMBERS = sorted(set(fx.unzip(fx.seal_package())) - {"Doc_0/Signs/Signatures.xml"})


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(member=st.sampled_from(MEMBERS), where=st.floats(0, 1, exclude_max=True),
       how=st.sampled_from(["flip", "cut", "append", "insert"]))
def test_any_change_to_a_signed_file_fails(trust, member, where, how):
    content = fx.unzip(fx.seal_package())[member]
    i = int(where * len(content))
    changed = {"flip": lambda: flip(content, i), "cut": lambda: content[:i],
               "append": lambda: content + b" ", "insert": lambda: content[:i] + b"\0" +
               content[i:]}[how]()
    report = verify(fx.rezip(fx.seal_package(), replace={member: changed}), trust)
    assert report.indication != TOTAL_PASSED

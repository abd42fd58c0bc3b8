"""OFD coverage is decided by what is displayed: a package whose signature protects the
document OFD.xml points to (DocRoot, pages, templates, resources) but not OFD.xml itself — as
real tax invoices are signed — passes, with a note that OFD.xml's metadata is unsigned; every
tampering with what is displayed still fails, and an unsigned OFD.xml cannot point elsewhere."""

from functools import lru_cache

import pytest

from tests.support import ofd as fx
from tests.support import seal as ss
from verification.ofd import verify_ofd
from verification.report import TOTAL_FAILED, TOTAL_PASSED

AT = ss.LATER
SIG = fx.SIGN_DIR + "Signature.xml"
SEAL_FILE = fx.SIGN_DIR + "Seal.esl"
OTHER_DOC = "Doc_1/Document.xml"


@lru_cache(maxsize=1)
def entry_file_unsigned() -> bytes:
    """`fx.seal_package()` as invoice signers make it: OFD.xml among no reference."""
    files = fx.content_files()
    files[SEAL_FILE] = ss.seal()
    xml = fx.signature_xml({k: v for k, v in files.items() if k != "OFD.xml"})
    return fx.zip_files({**files, "Doc_0/Signs/Signatures.xml": fx.signatures_xml("Seal"),
                         SIG: xml, fx.SIGN_DIR + "SignedValue.dat": ss.signature(
                             files[SEAL_FILE], data=xml, time=ss.T0)})


@pytest.fixture(scope="module")
def trust():
    return ss.trust()


def failed(report):
    return {c.name: c.failure for c in report.checks if not c.passed}


def _ofd_xml() -> bytes:
    return fx.unzip(entry_file_unsigned())["OFD.xml"]


def test_an_unsigned_entry_file_passes_when_the_displayed_document_is_signed(trust):
    report = verify_ofd(entry_file_unsigned(), trust, AT)
    assert report.indication == TOTAL_PASSED, report.to_text()  # was SIG_CONSTRAINTS_FAILURE
    assert report.check("ofd.sig[1].reference[/OFD.xml]") is None
    assert any("OFD.xml" in n and "DocInfo" in n for n in report.notes)


def test_its_metadata_may_change_but_the_report_says_it_is_unsigned(trust):
    changed = _ofd_xml().replace(b"6c1f0a1e2d3b4c5d8e9f00112233aabb", b"00000000000000000000000000000000")
    report = verify_ofd(fx.rezip(entry_file_unsigned(), replace={"OFD.xml": changed}), trust, AT)
    assert report.indication == TOTAL_PASSED
    assert any("cannot be relied on" in n for n in report.notes)


def test_an_unsigned_entry_file_cannot_point_at_an_unsigned_document(trust):
    """The DocRoot moved to a document of the forger's: it is displayed, and nothing protects
    it, so OFD.xml is not excused either."""
    doc = fx.unzip(entry_file_unsigned())["Doc_0/Document.xml"].replace(
        b'BaseLoc="Pages/Page_0/Content.xml"', b'BaseLoc="/Doc_0/Pages/Page_0/Content.xml"')
    redirected = _ofd_xml().replace(b"Doc_0/Document.xml", OTHER_DOC.encode())
    report = verify_ofd(fx.rezip(entry_file_unsigned(), replace={"OFD.xml": redirected},
                                 add={OTHER_DOC: doc}), trust, AT)
    assert report.indication == TOTAL_FAILED
    assert failed(report) == {"ofd.coverage": "SIG_CONSTRAINTS_FAILURE"}
    detail = report.check("ofd.coverage").detail
    assert "/OFD.xml" in detail and "/" + OTHER_DOC in detail


def test_a_second_unsigned_document_added_to_the_entry_file_fails(trust):
    doc = fx.unzip(entry_file_unsigned())["Doc_0/Document.xml"]
    body = (b"<ofd:DocBody><ofd:DocInfo><ofd:DocID>ab</ofd:DocID></ofd:DocInfo>"
            b"<ofd:DocRoot>" + OTHER_DOC.encode() + b"</ofd:DocRoot></ofd:DocBody></ofd:OFD>")
    two = _ofd_xml().replace(b"</ofd:OFD>", body)
    pages = {"Doc_1/" + k[len("Doc_0/"):]: v for k, v in fx.content_files("伪造 / forged").items()
             if k.startswith("Doc_0/") and k != "Doc_0/Document.xml"}
    report = verify_ofd(fx.rezip(entry_file_unsigned(), replace={"OFD.xml": two},
                                 add={OTHER_DOC: doc, **pages}), trust, AT)
    assert report.indication == TOTAL_FAILED
    assert set(failed(report)) == {"ofd.coverage"}


@pytest.mark.parametrize("what", ["page", "resource", "document", "seal"])
def test_tampering_with_what_is_displayed_still_fails(trust, what):
    files = fx.unzip(entry_file_unsigned())
    name = {"page": fx.PAGE, "resource": "Doc_0/PublicRes.xml", "document": "Doc_0/Document.xml",
            "seal": SEAL_FILE}[what]
    new = ss.seal() if what == "seal" else files[name].replace(b"</ofd:", b" </ofd:", 1)
    assert new != files[name]
    report = verify_ofd(fx.rezip(entry_file_unsigned(), replace={name: new}), trust, AT)
    assert report.indication == TOTAL_FAILED
    assert failed(report)["ofd.sig[1].reference[/" + name + "]"] == "HASH_FAILURE"


def test_an_extra_unsigned_page_fails(trust):
    files = fx.unzip(entry_file_unsigned())
    doc = files["Doc_0/Document.xml"].replace(
        b"</ofd:Pages>", b'<ofd:Page ID="9" BaseLoc="Pages/Page_1/Content.xml"/></ofd:Pages>')
    report = verify_ofd(fx.rezip(entry_file_unsigned(), replace={"Doc_0/Document.xml": doc},
                                 add={"Doc_0/Pages/Page_1/Content.xml": files[fx.PAGE]}),
                        trust, AT)
    assert failed(report) == {"ofd.sig[1].reference[/Doc_0/Document.xml]": "HASH_FAILURE",
                              "ofd.coverage": "SIG_CONSTRAINTS_FAILURE"}


def test_a_signature_moved_to_another_package_fails(trust):
    """The signature files of this package put into another document's package."""
    mine = fx.unzip(entry_file_unsigned())
    other = fx.unzip(fx.seal_package(text="另一份文件 / another document"))
    moved = {**other, **{k: v for k, v in mine.items() if k.startswith(fx.SIGN_DIR)}}
    report = verify_ofd(fx.zip_files(moved), trust, AT)
    assert report.indication == TOTAL_FAILED
    assert failed(report)["ofd.sig[1].reference[/" + fx.PAGE + "]"] == "HASH_FAILURE"

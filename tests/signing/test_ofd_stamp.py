"""`signing.ofd.stamp.stamp_ofd`: 电子签章 on OFD documents — at a position, over a keyword, as a
骑缝章 over every page — each a seal signature the verifier passes, earlier signatures staying
valid; and every wrong request or hostile package refused with a bilingual error."""

from __future__ import annotations

import re
from functools import lru_cache

import pytest

from signing.ofd import OfdSignError, SealSigner
from signing.ofd.stamp import stamp_ofd
from tests.signing.test_ofd_licence import licence
from tests.support import ofd as fx
from tests.support import seal as ss
from verification.ofd import verify_ofd
from verification.report import TOTAL_PASSED

NS = fx.NS


@lru_cache(maxsize=1)
def signer() -> SealSigner:
    cred = ss.signer()
    return SealSigner(ss.seal(), cred.key, cred.cert)


def verify(data: bytes):
    return verify_ofd(data, ss.trust(), ss.LATER)


def failed(report) -> dict:
    return {c.name: c.failure for c in report.checks if not c.passed}


def unsigned(pages: int = 1, text: str = "合同正文 甲方盖章处 / contract") -> bytes:
    """A document nobody has signed (no <Signatures> in OFD.xml), of `pages` A4 pages."""
    files = fx.content_files(text)
    files["OFD.xml"] = re.sub(rb"<ofd:Signatures>[^<]*</ofd:Signatures>", b"", files["OFD.xml"])
    listing = "".join(f'<ofd:Page ID="{10 + i}" BaseLoc="Pages/Page_{i}/Content.xml"/>'
                      for i in range(pages))
    files["Doc_0/Document.xml"] = re.sub(rb"<ofd:Pages>.*</ofd:Pages>",
                                         f"<ofd:Pages>{listing}</ofd:Pages>".encode(),
                                         files["Doc_0/Document.xml"])
    page = files.pop(fx.PAGE)
    for i in range(pages):
        files[f"Doc_0/Pages/Page_{i}/Content.xml"] = page
    return fx.zip_files(files)


def stamp(doc: bytes, **how) -> bytes:
    args = {"page": None, "x_mm": None, "y_mm": None, "keyword": None, "straddle": False,
            "when": ss.T0, **how}
    return stamp_ofd(doc, seal_signer=signer(), **args)


def stamps(report) -> list[dict]:
    return report.seal.get("stamps", [])


def test_at_a_position_on_our_licence_keeps_its_seal_valid():
    out = stamp(licence(), page=1, x_mm=30, y_mm=150, size_mm=40)
    report = verify(out)
    assert report.indication == TOTAL_PASSED, failed(report)
    assert report.check("ofd.signatures").detail.startswith("2 ")
    assert report.check("ofd.sig[1].signature.value").passed
    assert report.check("ofd.sig[2].signature.value").passed
    assert [s["boundary_mm"] for s in stamps(report)][1] == [30, 150, 40, 40]
    before, after = fx.unzip(licence()), fx.unzip(out)
    assert all(after[n] == before[n] for n in before if n != "Doc_0/Signs/Signatures.xml")
    # the second signature protects the first one's files
    second = after["Doc_0/Signs/Sign_1/Signature.xml"].decode()
    assert 'FileRef="/Doc_0/Signs/Sign_0/SignedValue.dat"' in second
    edited = fx.rezip(out, replace={"Doc_0/Signs/Sign_0/Signature.xml":
                                    after["Doc_0/Signs/Sign_0/Signature.xml"] + b" "})
    assert "ofd.sig[2].reference[/Doc_0/Signs/Sign_0/Signature.xml]" in failed(verify(edited))


def test_an_unsigned_document_gets_its_signature_list():
    out = stamp(unsigned(), page=1, x_mm=100, y_mm=200)
    report = verify(out)
    assert report.indication == TOTAL_PASSED, failed(report)
    assert b"<ofd:Signatures>Doc_0/Signs/Signatures.xml</ofd:Signatures>" in fx.unzip(out)["OFD.xml"]
    assert stamps(report)[0]["boundary_mm"] == [100, 200, 42, 42]  # the seal's own size


def test_over_a_keyword():
    # the fixture's text: Boundary "20 20 170 10", Size 5, X 0, Y 5, no DeltaX (5 mm a character)
    out = stamp(unsigned(text="合同正文 甲方盖章处 / contract"), keyword="甲方盖章处", size_mm=40)
    report = verify(out)
    assert report.indication == TOTAL_PASSED, failed(report)
    x, y, w, h = stamps(report)[0]["boundary_mm"]
    start, end = 20 + 5 * 5, 20 + 5 * 9 + 5   # characters 5..9
    assert (x + w / 2, y + h / 2) == pytest.approx(((start + end) / 2, 20 + 5 - 0.35 * 5))
    with pytest.raises(OfdSignError) as e:
        stamp(unsigned(), keyword="乙方")
    assert "乙方" in e.value.message_zh


def test_keyword_uses_deltax_and_later_pages():
    files = fx.unzip(unsigned(pages=2))
    files["Doc_0/Pages/Page_1/Content.xml"] = (
        f'<?xml version="1.0" encoding="UTF-8"?><ofd:Page {NS}><ofd:Content><ofd:Layer ID="2">'
        '<ofd:TextObject ID="4" Boundary="30 100 100 10" Font="3" Size="4"><ofd:TextCode X="2" '
        'Y="4" DeltaX="g 3 3 6">ABC印章处</ofd:TextCode></ofd:TextObject></ofd:Layer></ofd:Content>'
        '</ofd:Page>').encode()
    report = verify(stamp(fx.zip_files(files), keyword="印章", size_mm=20))
    assert report.indication == TOTAL_PASSED, failed(report)
    (s,) = stamps(report)
    assert s["page"] == 2
    start, end = 2 + 3 * 3, 2 + 3 * 3 + 6 + 4   # "印" after "ABC" (3 mm each), 6 mm; "章" 4 mm
    assert s["boundary_mm"][0] + 10 == pytest.approx(30 + (start + end) / 2)


def test_straddle_seal_over_every_page():
    out = stamp(unsigned(pages=3), straddle=True, size_mm=42)
    report = verify(out)
    assert report.indication == TOTAL_PASSED, failed(report)
    shown = stamps(report)
    assert [s["page"] for s in shown] == [1, 2, 3]
    xml = fx.unzip(out)["Doc_0/Signs/Sign_0/Signature.xml"].decode()
    clips = re.findall(r'PageRef="(\d+)" Boundary="([^"]+)" Clip="([^"]+)"', xml)
    assert [c[0] for c in clips] == ["10", "11", "12"]
    for i, (_, boundary, clip) in enumerate(clips):
        x, _, w, _ = map(float, boundary.split())
        cx, _, cw, _ = map(float, clip.split())
        assert cw == pytest.approx(14) and cx == pytest.approx(14 * i)
        assert x + cx + cw == pytest.approx(210)  # slice i ends at the right edge of page i
    with pytest.raises(OfdSignError):
        stamp(unsigned(pages=1), straddle=True)


@pytest.mark.parametrize("how", [
    {}, {"page": 1, "x_mm": 10, "y_mm": 10, "straddle": True},
    {"page": 1, "x_mm": 10, "y_mm": 10, "keyword": "合同"}, {"page": 2, "x_mm": 10, "y_mm": 10},
    {"page": 0, "x_mm": 10, "y_mm": 10}, {"page": 1, "x_mm": 10}, {"page": 1, "x_mm": -1, "y_mm": 5},
    {"page": 1, "x_mm": float("nan"), "y_mm": 5}, {"page": 1, "x_mm": 10, "y_mm": 400},
    {"page": 1, "x_mm": 10, "y_mm": 10, "size_mm": 0}, {"page": 1, "x_mm": 10, "y_mm": 10,
                                                       "size_mm": float("inf")},
    {"keyword": "x" * 201}])
def test_wrong_requests_are_refused(how):
    with pytest.raises(OfdSignError) as e:
        stamp(unsigned(), **how)
    assert e.value.message_zh and e.value.message_en


@pytest.mark.parametrize("data", [
    b"", b"%PDF-1.7", b"PK\x03\x04garbage", fx.zip_files({"a.txt": b"x"}),
    fx.zip_files({"OFD.xml": b"<not xml"}),
    fx.zip_files({"OFD.xml": b'<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>'}),
    fx.zip_files({**fx.content_files(), "../evil.xml": b"x"}),
    fx.zip_files({**fx.content_files(), "Doc_0/Document.xml": b"<ofd:Document " + NS.encode()
                  + b"/>"}),
    fx.zip_files({k: v for k, v in fx.content_files().items() if k != fx.PAGE}),
])
def test_hostile_packages_are_refused_not_crashed(data):
    with pytest.raises(OfdSignError) as e:
        stamp(data, page=1, x_mm=10, y_mm=10)
    assert e.value.message_zh and e.value.message_en

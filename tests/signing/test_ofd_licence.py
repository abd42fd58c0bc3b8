"""The OFD licence writer (signing/ofd) on its own: every template sealed and verified, the
GB/T 36903 metadata masked as the QR rules say, the page the PDF renderer draws, and every OFD
tampering the verifier knows failing with its named check on our own licence OFDs."""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache

import pytest

from license_svc.templates import load_templates
from signing.ofd import SealSigner, licence_ofd
from signing.ofd.writer import METADATA, PAGE
from tests.support import ofd as fx
from tests.support import seal as ss
from verification.ofd import verify_ofd
from verification.report import TOTAL_FAILED, TOTAL_PASSED

FOLDERS = sorted(load_templates())
SIG_DIR = "Doc_0/Signs/Sign_0/"
SIG, VALUE, SEAL_FILE = SIG_DIR + "Signature.xml", SIG_DIR + "SignedValue.dat", SIG_DIR + "Seal.esl"


def record(folder: str, serial: str = "000000000001") -> tuple[dict, dict]:
    t = load_templates()[folder]
    request = {**t.example, "issuer_code": t.example.get("issuer_code", "11310000MB0000010A")}
    rec = t.make_record(request, identifier=f"1.2.156.3005.2.{t.type_code}.11310000MB0000010A."
                        f"{serial}.001.L", number=f"31{serial}", issuer_name="上海市测试发证机关",
                        region="sh", issued_on=date(2026, 11, 22))
    return t, rec


@lru_cache(maxsize=16)
def licence(folder: str = "business_licence", serial: str = "000000000001") -> bytes:
    t, rec = record(folder, serial)
    cred = ss.signer()
    return licence_ofd(t.layout, t.qr, rec, "EL1:TEST", "ab" * 32,
                       SealSigner(_seal(), cred.key, cred.cert), ss.T0)


@lru_cache(maxsize=1)
def _seal() -> bytes:
    return ss.seal()


def verify(data: bytes):
    return verify_ofd(data, ss.trust(), ss.LATER)


def failed(report) -> dict:
    return {c.name: c.failure for c in report.checks if not c.passed}


@pytest.mark.parametrize("folder", FOLDERS)
def test_every_template_is_sealed_and_verifies(folder):
    report = verify(licence(folder))
    assert report.indication == TOTAL_PASSED, failed(report)
    t, rec = record(folder)
    assert report.licence == {"identifier": rec["identifier"], "data_hash": "ab" * 32,
                              "hash_alg": "SM3", "version": 1}
    files = fx.unzip(licence(folder))
    page = files[PAGE].decode()
    shown = "".join(re.findall(r"<ofd:TextCode[^>]*>([^<]*)<", page))
    assert rec["identifier"] in shown and rec["holders"][0]["name"] in shown
    x, y, w, h = (float(v) for v in report.seal["stamps"][0]["boundary_mm"])
    assert (x, y, w, h) == (t.layout["seal"]["x"], t.layout["seal"]["y"],
                            t.layout["seal"].get("w", t.layout["seal"].get("size")),
                            t.layout["seal"].get("h", t.layout["seal"].get("size")))
    # everything in the package is protected except the signature listing itself
    refs = set(re.findall(r'FileRef="/([^"]+)"', files[SIG].decode()))
    assert refs == set(files) - {"Doc_0/Signs/Signatures.xml", SIG, VALUE}


def test_metadata_is_gbt36903_with_holder_codes_masked():
    t, rec = record("driving_licence")
    files = fx.unzip(licence("driving_licence"))
    meta = files[METADATA].decode()
    code = rec["holders"][0]["code"]
    assert code not in meta and code[:4] + "*" * (len(code) - 8) + code[-4:] in meta
    for element in ("证照标识", "证照类型代码", "证照颁发机构", "持证主体", "有效期起始日期", "版本号"):
        assert f"<lic:{element}" in meta
    assert rec["identifier"] in meta and code not in files["OFD.xml"].decode()
    assert b"Tags/Licence.xml" in files["Doc_0/CustomTags.xml"]
    assert b"<ofd:CustomTags>CustomTags.xml</ofd:CustomTags>" in files["Doc_0/Document.xml"]


def test_fonts_embed_the_page_glyphs_with_a_cmap():
    from fontTools.ttLib import TTFont
    import io

    files = fx.unzip(licence())
    page = files[PAGE].decode()
    cjk = TTFont(io.BytesIO(files["Doc_0/Res/font_1.ttf"]))
    cmap = cjk.getBestCmap()
    for ch in "营业执照上海示例科技有限公司":
        assert ord(ch) in cmap and ch in page
    latin = TTFont(io.BytesIO(files["Doc_0/Res/font_2.ttf"])).getBestCmap()
    assert all(ord(c) in latin for c in "0123456789ABCDEF")


# -- tampering: each fails with the check the verifier names for it ---------------------------

def _one(data: bytes, name: str, new: bytes | None) -> dict:
    return failed(verify(fx.rezip(data, replace={name: new})))


def test_changed_page_fails_its_reference():
    data = licence()
    page = fx.unzip(data)[PAGE]
    changed = page.replace("上海示例科技有限公司".encode(), "上海伪造科技有限公司".encode())
    assert changed != page
    assert _one(data, PAGE, changed) == {f"ofd.sig[1].reference[/{PAGE}]": "HASH_FAILURE"}


def test_changed_resource_fails_its_reference():
    data = licence()
    font = fx.unzip(data)["Doc_0/Res/font_1.ttf"]
    assert _one(data, "Doc_0/Res/font_1.ttf", font[:-4] + b"\0\0\0\0") == {
        "ofd.sig[1].reference[/Doc_0/Res/font_1.ttf]": "HASH_FAILURE"}
    res = fx.unzip(data)["Doc_0/PublicRes.xml"]
    assert _one(data, "Doc_0/PublicRes.xml", res.replace(b"font_1.ttf", b"font_2.ttf")) == {
        "ofd.sig[1].reference[/Doc_0/PublicRes.xml]": "HASH_FAILURE"}


def test_replaced_seal_fails():
    report = failed(verify(fx.rezip(licence(), replace={SEAL_FILE: ss.seal()})))
    assert report == {f"ofd.sig[1].reference[/{SEAL_FILE}]": "HASH_FAILURE",
                      "ofd.sig[1].seal_file": "SIG_CONSTRAINTS_FAILURE"}


def test_extra_unsigned_page_fails():
    data = licence()
    files = fx.unzip(data)
    extra = "Doc_0/Pages/Page_1/Content.xml"
    added = fx.rezip(data, add={extra: files[PAGE]})
    assert failed(verify(added)) == {"ofd.coverage": "SIG_CONSTRAINTS_FAILURE"}
    listed = files["Doc_0/Document.xml"].replace(
        b"</ofd:Pages>", b'<ofd:Page ID="99" BaseLoc="Pages/Page_1/Content.xml"/></ofd:Pages>')
    both = fx.rezip(data, replace={"Doc_0/Document.xml": listed}, add={extra: files[PAGE]})
    assert failed(verify(both)) == {"ofd.sig[1].reference[/Doc_0/Document.xml]": "HASH_FAILURE",
                                    "ofd.coverage": "SIG_CONSTRAINTS_FAILURE"}


def test_signature_moved_to_another_licence_fails():
    mine, other = licence(), licence(serial="000000000002")
    theirs = fx.unzip(other)
    assert failed(verify(fx.rezip(mine, replace={VALUE: theirs[VALUE]}))) == {
        "ofd.sig[1].signature.data_hash": "HASH_FAILURE"}
    moved = failed(verify(fx.rezip(mine, replace={SIG: theirs[SIG], VALUE: theirs[VALUE]})))
    assert moved and set(moved.values()) == {"HASH_FAILURE"}
    assert set(moved) <= {f"ofd.sig[1].reference[/{n}]" for n in fx.unzip(mine)}
    assert "ofd.sig[1].reference[/OFD.xml]" in moved and f"ofd.sig[1].reference[/{PAGE}]" in moved


def test_a_tampered_licence_is_not_passed():
    data = licence()
    for name in fx.unzip(data):
        if name == "Doc_0/Signs/Signatures.xml":
            continue
        content = fx.unzip(data)[name]
        report = verify(fx.rezip(data, replace={name: content + b" "}))
        assert report.indication == TOTAL_FAILED, name


def test_the_qr_path_reads_back_as_the_el1():
    """The QR PathObject (module units under a CTM) drawn as its rectangles say and read by
    zxing-cpp: the code the page shows is the EL1 it was given, where the layout puts it."""
    zxingcpp = pytest.importorskip("zxingcpp")
    from PIL import Image, ImageDraw

    t, _ = record("business_licence")
    page = fx.unzip(licence())[PAGE].decode()
    (ctm, data), = re.findall(r'<ofd:PathObject[^>]*CTM="([^"]+)"[^>]*>.*?'
                              r'<ofd:AbbreviatedData>([^<]+)<', page)
    scale, _, _, _, x0, y0 = map(float, ctm.split())
    rects = re.findall(r"M (\S+) (\S+) L (\S+) \S+ L \S+ (\S+) L \S+ \S+ C", data)
    size = int(max(float(r[2]) for r in rects)) + 8
    img = Image.new("L", (size * 8, size * 8), 255)
    draw = ImageDraw.Draw(img)
    for xa, ya, xb, yb in rects:
        draw.rectangle([float(xa) * 8, float(ya) * 8, float(xb) * 8 - 1, float(yb) * 8 - 1], fill=0)
    (code,) = zxingcpp.read_barcodes(img)
    assert code.text == "EL1:TEST"
    box = t.layout["qr"]
    assert x0 == pytest.approx(box["x"] + 4 * scale, abs=0.01)  # inside the 4-module quiet zone
    assert y0 == pytest.approx(box["y"] + 4 * scale, abs=0.01)

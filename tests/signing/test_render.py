"""Licence pages rendered from every template, read back by poppler (pdffonts, pdftotext,
pdftoppm) and zxing-cpp: Chinese text comes out as text, the printed QR decodes to the EL1."""

import io
import shutil
import subprocess
import time
from datetime import datetime, timezone

import pytest

from license_svc import identifiers as ids
from license_svc.templates import load_templates
from signing.keystore import KeyStore
from signing.qr import el1_for_record
from signing.render import RenderError, qr_rect, render_licence_pdf, seal_rect
from signing.render.pdf import MM, page_size

NOW = datetime(2026, 1, 15, 2, 0, tzinfo=timezone.utc)
TEMPLATES = load_templates()
POPPLER = shutil.which("pdftoppm") and shutil.which("pdftotext") and shutil.which("pdffonts")
needs_poppler = pytest.mark.skipif(not POPPLER, reason="poppler-utils not installed")


@pytest.fixture(scope="module")
def ks():
    return KeyStore.load("keys_dev")


def _record(t, ks):
    req = t.example
    issuer = next((o for o in ks.organisations() if o.code == req["issuer_code"]), None)
    region = issuer.region if issuer else "sh"
    rec = t.make_record(req, identifier=str(ids.make_identifier(t.type_code, req["issuer_code"])),
                        number=t.licence_number(req, region=region, issued=NOW.date()),
                        issuer_name=issuer.name if issuer else "上海市黄浦区民政局",
                        region=region, issued_on=NOW.date())
    cred = ks.credential(region, "licence_signer", "sm2",
                         org_code=issuer.code if issuer else None)
    return rec, el1_for_record(rec, t.qr, cred.key, cred.cert.dump(), now=NOW)


@pytest.fixture(scope="module")
def seal_png():
    from PIL import Image, ImageDraw

    img = Image.new("RGBA", (400, 400), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    d.ellipse((10, 10, 390, 390), outline=(230, 0, 18, 255), width=14)
    d.regular_polygon((200, 200, 70), 5, fill=(230, 0, 18, 255))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def _run(*cmd, data=None):
    return subprocess.run(cmd, input=data, capture_output=True, check=True).stdout


@needs_poppler
@pytest.mark.parametrize("folder", sorted(TEMPLATES))
def test_page_text_fonts_and_qr(tmp_path, ks, seal_png, folder):
    import zxingcpp
    from PIL import Image

    t = TEMPLATES[folder]
    rec, el1 = _record(t, ks)
    pdf = render_licence_pdf(t.layout, rec, el1, seal_png, data_hash="a" * 64)
    path = tmp_path / "p.pdf"
    path.write_bytes(pdf)

    fonts = _run("pdffonts", str(path)).decode()
    rows = [ln.split() for ln in fonts.splitlines()[2:]]
    assert all(r[-5:-2] == ["yes", "yes", "yes"] for r in rows), fonts  # embedded, subset, unicode
    assert {r[0].split("+")[1] for r in rows} == {"DroidSansFallback", "BitstreamVeraSans-Roman"}

    text = "".join(_run("pdftotext", "-raw", "-enc", "UTF-8", str(path), "-").decode().split())
    assert "".join(t.name.split()) in text
    for spec in t.layout["fields"]:
        assert "".join(spec["label"].split()) in text, spec["label"]
    for h in rec["holders"]:
        assert h["name"] in text
    assert rec["issuer"]["name"] in text and rec["identifier"] in text and "a" * 64 in text

    _run("pdftoppm", "-r", "150", "-png", "-singlefile", str(path), str(tmp_path / "page"))
    page = Image.open(tmp_path / "page.png")
    x1, y1, x2, y2 = qr_rect(t.layout)
    _, h = page_size(t.layout)
    s = 150 / 72
    crop = page.crop((int(x1 * s) - 4, int((h - y2) * s) - 4, int(x2 * s) + 4, int((h - y1) * s) + 4))
    found = zxingcpp.read_barcodes(crop, formats=zxingcpp.BarcodeFormat.QRCode)
    assert [b.text for b in found] == [el1]
    assert found[0].ec_level == "Q"

    sx1, sy1, sx2, sy2 = seal_rect(t.layout)
    centre = page.convert("RGB").getpixel((int((sx1 + sx2) / 2 * s), int((h - (sy1 + sy2) / 2) * s)))
    assert centre[0] > 180 and centre[1] < 90, centre  # the red star at the seal centre


@pytest.mark.parametrize("folder", sorted(TEMPLATES))
def test_seal_rect_matches_layout_and_page(folder):
    lay = TEMPLATES[folder].layout
    w, h = page_size(lay)
    x1, y1, x2, y2 = seal_rect(lay)
    s = lay["seal"]
    assert (x1, y2) == pytest.approx((s["x"] * MM, h - s["y"] * MM))
    assert x2 - x1 == pytest.approx(s["size"] * MM) == pytest.approx(y2 - y1)
    assert 0 <= x1 < x2 <= w and 0 <= y1 < y2 <= h


@needs_poppler
def test_without_seal_no_seal_image_is_drawn(tmp_path, ks, seal_png):
    if not shutil.which("pdfimages"):
        pytest.skip("pdfimages not installed")
    t = TEMPLATES["business_licence"]
    rec, el1 = _record(t, ks)
    for seal, expected in ((None, 0), (seal_png, 1)):
        p = tmp_path / "x.pdf"
        p.write_bytes(render_licence_pdf(t.layout, rec, el1, seal))
        listing = _run("pdfimages", "-list", str(p)).decode().splitlines()[2:]
        assert len([ln for ln in listing if ln.split()[2] == "image"]) == expected
        assert len([ln for ln in listing if ln.split()[2] == "smask"]) == expected  # transparent


def test_render_is_fast_enough_for_the_hot_path(ks):
    """Target < 10 ms per page on an idle core (measured figures in docs/formats.md); the bound
    here is loose because tests share two cores with everything else."""
    t = TEMPLATES["business_licence"]
    rec, el1 = _record(t, ks)
    render_licence_pdf(t.layout, rec, el1)
    times = []
    for _ in range(15):
        t0 = time.perf_counter()
        render_licence_pdf(t.layout, rec, el1)
        times.append(time.perf_counter() - t0)
    assert sorted(times)[len(times) // 2] < 0.05


def test_bad_photo_and_bad_seal_are_bilingual_errors(ks):
    t = TEMPLATES["driving_licence"]
    rec, el1 = _record(t, ks)
    for photo in ("!!not base64!!", "aGVsbG8=", "A" * 500_000):
        bad = dict(rec, fields=dict(rec["fields"], photo=photo))
        with pytest.raises(RenderError) as exc:
            render_licence_pdf(t.layout, bad, el1)
        assert exc.value.message_zh and exc.value.message_en
    with pytest.raises(RenderError):
        render_licence_pdf(t.layout, rec, el1, seal_png=b"not a png")
    from PIL import Image

    buf = io.BytesIO()
    Image.new("1", (5000, 5000)).save(buf, "PNG")  # a few KB declaring 25 Mpx
    with pytest.raises(RenderError) as exc:
        render_licence_pdf(t.layout, rec, el1, seal_png=buf.getvalue())
    assert "过大" in exc.value.message_zh
    no_photo = dict(rec, fields={k: v for k, v in rec["fields"].items() if k != "photo"})
    assert render_licence_pdf(t.layout, no_photo, el1).startswith(b"%PDF")


@needs_poppler
def test_long_values_wrap_and_are_cut_with_an_ellipsis(tmp_path, ks):
    t = TEMPLATES["business_licence"]
    rec, el1 = _record(t, ks)
    rec["fields"]["business_scope"] = "软件开发；" * 200
    p = tmp_path / "long.pdf"
    p.write_bytes(render_licence_pdf(t.layout, rec, el1))
    text = _run("pdftotext", "-raw", "-enc", "UTF-8", str(p), "-").decode()
    assert "…" in text and text.count("软件开发") < 200


def test_unknown_page_size_is_refused(ks):
    t = TEMPLATES["business_licence"]
    rec, el1 = _record(t, ks)
    with pytest.raises(RenderError):
        render_licence_pdf(dict(t.layout, page={"size": "Letter"}), rec, el1)

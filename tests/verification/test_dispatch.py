"""Input dispatch: each kind is recognised by content and reaches its verifier; anything else is
UnreadableInput; random and half-recognisable bytes never crash and never pass (hypothesis)."""

import io
import os
import zipfile
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from license_svc.config import DEV_KEYS_DIR
from license_svc.verify_service import verifier_trust
from signing.keystore import KeyStore
from signing.qr import credentials, image
from signing.seal import make_seal, sign_document
from signing.seal.picture import render_round_seal
from verification import dispatch
from verification.report import INDETERMINATE, TOTAL_FAILED, TOTAL_PASSED

NOW = datetime(2026, 6, 1, 8, 0, tzinfo=timezone.utc)
AMR = "11310000MB0000010A"
CLAIMS = {"id": "1.2.156.3005.2.11100000MB0000001T001.11310000MB0000010A.ABCDEFGHJK0123456789.001.X",
          "t": "11100000MB0000001T001", "n": "SH2026000000000001", "h": "上海示例科技有限公司",
          "hid": "91310000MA0000****", "vf": "2026-01-15", "vu": "2030-01-14", "r": "sh", "v": 1}
OFD_SAMPLE = "/work/shared/interop/ofdrw/SESV4SignDoc.ofd"


@pytest.fixture(scope="module")
def ks():
    return KeyStore.load(DEV_KEYS_DIR)


@pytest.fixture(scope="module")
def trust(ks):
    t = verifier_trust(ks)
    return dispatch.Trust(qr=t.qr, seal=t.seal)


@pytest.fixture(scope="module")
def el1(ks):
    cred = ks.credential("sh", "licence_signer", org_code=AMR)
    return credentials.make_el1(cred.key, cred.cert.dump(), issuer_code=AMR, claims=CLAIMS,
                                iat=NOW - timedelta(days=1), exp=NOW + timedelta(days=365))


@pytest.fixture(scope="module")
def seal_files(ks):
    maker = ks.credential("sh", "seal_maker")
    signer = ks.credential("sh", "licence_signer", org_code=AMR)
    seal = make_seal(maker_key=maker.key, maker_cert=maker.cert, es_id="31000000000000000001",
                     name="测试专用章", seal_type=1, picture=render_round_seal("上海市市场监督管理局"),
                     signer_certs=[signer.cert], valid_start=NOW - timedelta(days=30),
                     valid_end=NOW + timedelta(days=300), created=NOW - timedelta(days=30))
    sig = sign_document(seal_der=seal, signer_key=signer.key, signer_cert=signer.cert,
                        property_info="doc.txt", time=NOW - timedelta(hours=1), data=b"document")
    return seal, sig


def test_el1_text_passes(trust, el1):
    report = dispatch.verify_bytes(el1.encode(), trust, NOW)
    assert report.indication == TOTAL_PASSED, report.to_text()
    assert report.subject == "qr-el1" and "qr-text" in report.notes[0]
    assert "not checked" in " ".join(report.notes)  # no status source given


def test_el1_in_a_png_passes(trust, el1):
    report = dispatch.verify_bytes(image.png(el1), trust, NOW)
    assert report.indication == TOTAL_PASSED and report.subject == "qr-el1"
    assert dispatch.detect(image.png(el1)) == dispatch.IMAGE


def test_el1_in_a_jpeg_passes(trust, el1):
    from PIL import Image

    buf = io.BytesIO()
    Image.open(io.BytesIO(image.png(el1))).convert("RGB").save(buf, "JPEG", quality=90)
    assert dispatch.detect(buf.getvalue()) == dispatch.IMAGE
    assert dispatch.verify_bytes(buf.getvalue(), trust, NOW).indication == TOTAL_PASSED


def test_seal_and_seal_signature_are_routed(trust, seal_files):
    seal, sig = seal_files
    assert dispatch.detect(seal) == dispatch.SEAL
    assert dispatch.detect(sig) == dispatch.SEAL_SIGNATURE
    r = dispatch.verify_bytes(seal, trust, NOW)
    assert r.subject == "seal" and r.indication == TOTAL_PASSED, r.to_text()
    r = dispatch.verify_bytes(sig, trust, NOW)
    # Without the document its hash cannot be compared: everything else holds.
    assert r.subject == "signature" and r.sub_indication == "SIGNED_DATA_NOT_FOUND", r.to_text()
    assert [c.name for c in r.checks if not c.passed] == ["signature.data_hash"]


def test_status_lookup_is_asked_for_a_qr(trust, el1):
    asked = []

    def lookup(ident):
        asked.append(ident)
        return {"status": "revoked"}

    t = dispatch.Trust(qr=trust.qr, seal=trust.seal, status_lookup=lookup)
    report = dispatch.verify_text(el1, t, NOW)
    assert asked == [CLAIMS["id"]]
    assert (report.indication, report.sub_indication) == (TOTAL_FAILED, "REVOKED")


def test_forged_qr_is_not_looked_up(trust, el1):
    other = credentials.make_el1(*_wrong_region_signer(trust), issuer_code=AMR, claims=CLAIMS,
                                 iat=NOW - timedelta(days=1), exp=NOW + timedelta(days=365))
    asked = []
    t = dispatch.Trust(qr=trust.qr, seal=trust.seal, status_lookup=lambda i: asked.append(i))
    report = dispatch.verify_text(other, t, NOW)
    assert report.indication == TOTAL_FAILED and asked == []


def _wrong_region_signer(trust):
    ks = KeyStore.load(DEV_KEYS_DIR)
    js = ks.credential("js", "licence_signer")
    return js.key, js.cert.dump()


def test_not_a_licence_code_is_readable_but_indeterminate(trust):
    for text in (b"https://example.com/pay?id=1", "付款码 1234".encode()):
        report = dispatch.verify_bytes(text, trust, NOW)
        assert report.subject == "not-a-licence"
        assert (report.indication, report.sub_indication) == (INDETERMINATE, "SIGNED_DATA_NOT_FOUND")


def test_picture_without_qr_is_not_a_licence(trust):
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (64, 64), "white").save(buf, "PNG")
    assert dispatch.verify_bytes(buf.getvalue(), trust, NOW).subject == "not-a-licence"


def test_pdf_is_routed_to_the_pdf_verifier(trust):
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    c.drawString(100, 700, "unsigned")
    c.save()
    assert dispatch.detect(buf.getvalue()) == dispatch.PDF
    report = dispatch.verify_bytes(buf.getvalue(), trust, NOW)
    assert report.subject == "pdf" and report.indication != TOTAL_PASSED


def test_ofd_is_routed(trust):
    if not os.path.exists(OFD_SAMPLE):
        pytest.skip("ofdrw sample not present")
    data = open(OFD_SAMPLE, "rb").read()
    assert dispatch.detect(data) == dispatch.OFD
    report = dispatch.verify_bytes(data, trust, datetime(2021, 1, 1, tzinfo=timezone.utc))
    assert report.subject == "ofd" and report.indication != TOTAL_PASSED


@pytest.mark.parametrize("data, why", [
    (b"", "empty"),
    (b"\x00\x01\x02\xff" * 10, "not a PDF, OFD"),
    (b"PK\x03\x04garbage", "not an OFD"),
    (b"\x30\x03\x02\x01\x05", "neither a SESeal"),
    (b"\x89PNG\r\n\x1a\n" + b"\0" * 40, "image"),
    (b"\xff\xd8\xff" + b"\x00" * 20, "image"),
    (b"EL1:\x00\x01", "not a PDF, OFD"),  # not printable text
])
def test_unreadable_inputs(trust, data, why):
    with pytest.raises(dispatch.UnreadableInput, match=why):
        dispatch.verify_bytes(data, trust, NOW)


def test_a_zip_that_is_not_ofd_is_unreadable(trust):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("hello.txt", "hi")
    with pytest.raises(dispatch.UnreadableInput, match="OFD"):
        dispatch.verify_bytes(buf.getvalue(), trust, NOW)


def test_oversized_input_is_unreadable(trust):
    with pytest.raises(dispatch.UnreadableInput, match="50 MiB"):
        dispatch.detect(b"%PDF-" + b"\0" * dispatch.MAX_INPUT)


PREFIXES = [b"", b"%PDF-1.7\n", b"PK\x03\x04", b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF89a",
            b"\x30\x82", b"\x30", b"EL1:", b"EP1:", b"EL1:6BFOXN", "亮证".encode()]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(prefix=st.sampled_from(PREFIXES), tail=st.binary(max_size=300))
def test_hostile_bytes_never_crash_and_never_pass(trust, prefix, tail):
    try:
        report = dispatch.verify_bytes(prefix + tail, trust, NOW)
    except dispatch.UnreadableInput:
        return
    assert report.indication != TOTAL_PASSED
    assert report.checks or report.notes


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=400))
def test_hostile_text_never_crashes_and_never_passes(trust, text):
    try:
        report = dispatch.verify_text(text, trust, NOW)
    except dispatch.UnreadableInput:
        return
    assert report.indication != TOTAL_PASSED

"""Our OFD licences checked by implementations that are not ours: every References check value
against the SM3 of gmssl (pure Python), the SES_Signature's SM2 signature and its dataHash with
GmSSL (gmssl_pyx), read with plain asn1crypto rather than our seal parser; and the package
rendered by easyofd (an independent OFD → PDF converter) with PyMuPDF reading the text back."""

from __future__ import annotations

import base64
import re

import pytest
from asn1crypto import core, x509

from tests.signing.test_ofd_licence import SIG, VALUE, licence, record
from tests.support import ofd as fx

pytestmark = pytest.mark.interop
FOLDERS = ("business_licence", "driving_licence")
# easyofd draws every character with a reader-side font named 宋体 (it does not use embedded
# fonts): a Chinese desktop has SimSun; here WenQuanYi Zen Hei (Debian fonts-wqy-zenhei) stands in.
READER_FONT = "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"


def _gmssl_sm3(data: bytes) -> bytes:
    from gmssl import func, sm3

    return bytes.fromhex(sm3.sm3_hash(func.bytes_to_list(data)))


@pytest.mark.parametrize("folder", FOLDERS)
def test_every_check_value_is_the_sm3_gmssl_computes(folder):
    files = fx.unzip(licence(folder))
    refs = re.findall(r'FileRef="/([^"]+)"><ofd:CheckValue>([^<]+)<', files[SIG].decode())
    assert len(refs) == len(files) - 3  # all but Signatures.xml, Signature.xml, SignedValue.dat
    for name, value in refs:
        assert base64.b64decode(value) == _gmssl_sm3(files[name]), name
    bad = fx.unzip(fx.rezip(licence(folder), replace={"OFD.xml": files["OFD.xml"] + b" "}))
    assert _gmssl_sm3(bad["OFD.xml"]) != base64.b64decode(dict(refs)["OFD.xml"])


def _stamped() -> bytes:
    from tests.signing.test_ofd_stamp import stamp

    return stamp(licence(), page=1, x_mm=20, y_mm=20)


@pytest.mark.parametrize("folder", [*FOLDERS, "stamped"])
def test_ses_signature_verifies_with_gmssl_pyx(folder):
    """Our licences' seal signature, and the second one `stamp_ofd` adds to a licence."""
    gmssl_pyx = pytest.importorskip("gmssl_pyx")
    files = fx.unzip(_stamped() if folder == "stamped" else licence(folder))
    sig, value = (SIG, VALUE) if folder != "stamped" else (
        "Doc_0/Signs/Sign_1/Signature.xml", "Doc_0/Signs/Sign_1/SignedValue.dat")
    ses = core.load(files[value])            # SES_Signature: toSign, cert, alg, signature[, ts]
    to_sign, cert_der, oid, signature = ses[0], ses[1].native, ses[2].native, ses[3].native
    assert oid == "1.2.156.10197.1.501"      # SM2 with SM3
    data_hash = bytes(to_sign[3].native) if isinstance(to_sign[3].native, bytes) else \
        int("".join(map(str, to_sign[3].native)), 2).to_bytes(32, "big")
    assert data_hash == _gmssl_sm3(files[sig])      # dataHash = SM3(Signature.xml)
    point = x509.Certificate.load(cert_der).public_key["public_key"].native
    tbs = to_sign.dump()
    assert gmssl_pyx.sm2_verify(point[1:], tbs, bytes(signature) if isinstance(signature, bytes)
                                else _bits(signature))
    assert not gmssl_pyx.sm2_verify(point[1:], tbs + b"\0", bytes(signature)
                                    if isinstance(signature, bytes) else _bits(signature))


def _bits(value) -> bytes:
    return int("".join(map(str, value)), 2).to_bytes(len(value) // 8, "big")


def test_easyofd_renders_the_licence_number_and_holder(tmp_path):
    easyofd = pytest.importorskip("easyofd.ofd")
    pymupdf = pytest.importorskip("pymupdf")
    import os

    if not os.path.exists(READER_FONT):
        pytest.skip("fonts-wqy-zenhei not installed")
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    pdfmetrics.registerFont(TTFont("宋体", READER_FONT, subfontIndex=0))
    for folder in FOLDERS:
        _, rec = record(folder)
        reader = easyofd.OFD()
        reader.read(base64.b64encode(licence(folder)).decode(), save_xml=False)
        pdf = reader.to_pdf()
        reader.del_data()
        doc = pymupdf.open(stream=pdf, filetype="pdf")
        text = doc[0].get_text()
        assert rec["number"] in text, folder
        assert rec["holders"][0]["name"] in text.replace("\n", ""), folder
        assert rec["identifier"] in text.replace("\n", ""), folder
        # the seal picture, drawn by the reader from the SES_Signature at the StampAnnot
        assert doc[0].get_images(), folder

"""Files made by ofdrw (Java, BouncyCastle): /work/shared/interop/ofdrw, see its README.

Their certificates chain to ofdrw's own test root, which nobody here trusts: the cryptography
must come out intact and the trust INDETERMINATE, never a forgery.  Their validity lies in
2020–2022, so time is checked "as of" dates inside and after it.
"""

import shutil
import subprocess
import zipfile
from datetime import datetime, timezone

import pytest
from asn1crypto import pem, x509

from formats import algorithms as alg
from verification.report import INDETERMINATE, TOTAL_FAILED
from verification.seal import (SealFormatError, detect, parse_seal, parse_signature, verify_seal,
                               verify_signature)

pytestmark = pytest.mark.interop

DIR = "/work/shared/interop/ofdrw/"
IN_RANGE = datetime(2021, 1, 1, tzinfo=timezone.utc)
AFTER = datetime(2026, 11, 22, tzinfo=timezone.utc)
TIME_CHECKS = ("seal.validity", "seal.maker_certificate", "signature.signer_certificate",
               "signature.time")


def read(name: str) -> bytes:
    try:
        with open(DIR + name, "rb") as f:
            return f.read()
    except FileNotFoundError:
        pytest.skip(f"ofdrw interop file {name} not present")


def key_of(cert_der: bytes):
    return alg.load_public_key(x509.Certificate.load(cert_der).public_key)


def test_user_v4_seal_parses_and_maker_signature_verifies():
    der = read("UserV4.esl")
    seal = parse_seal(der)
    assert (seal.family, seal.version, seal.vendor_id) == ("v4", 4, "OFDR&WTest")
    assert seal.name == "OFD R&W 测试用印章" and seal.picture_type == "PNG"
    assert (seal.width_mm, seal.height_mm) == (40, 40) and seal.picture.startswith(b"\x89PNG")
    assert seal.valid_start.year == 2020 and seal.valid_end.year == 2022
    assert seal.notes == ()
    key_of(seal.maker_cert).verify(seal.signature, seal.signed_bytes)  # default SM2 ID
    with pytest.raises(alg.InvalidSignature):
        key_of(seal.maker_cert).verify(seal.signature, seal.signed_bytes, uid=b"")


def test_signed_value_v4_parses_and_signer_signature_verifies():
    der = read("SignedValueV4.dat")
    sig = parse_signature(der)
    assert sig.family == "v4" and sig.seal.der == read("UserV4.esl")
    assert len(sig.data_hash) == 32
    assert sig.property_info == "/Doc_0/Signs/Sign_0/Signature.xml"
    key_of(sig.signer_cert).verify(sig.signature, sig.signed_bytes)
    assert sig.seal.lists_signer(sig.signer_cert)


def test_openssl_agrees_on_both_signatures(tmp_path):
    if shutil.which("openssl") is None:
        pytest.skip("openssl CLI not installed")
    sig = parse_signature(read("SignedValueV4.dat"))
    for cert, msg, value in ((sig.seal.maker_cert, sig.seal.signed_bytes, sig.seal.signature),
                             (sig.signer_cert, sig.signed_bytes, sig.signature)):
        (tmp_path / "pub.pem").write_bytes(
            pem.armor("PUBLIC KEY", x509.Certificate.load(cert).public_key.dump()))
        (tmp_path / "m").write_bytes(msg)
        (tmp_path / "s").write_bytes(value)
        proc = subprocess.run(["openssl", "pkeyutl", "-verify", "-pubin", "-inkey",
                               str(tmp_path / "pub.pem"), "-rawin", "-digest", "sm3",
                               "-pkeyopt", "distid:1234567812345678", "-in", str(tmp_path / "m"),
                               "-sigfile", str(tmp_path / "s")], capture_output=True, timeout=60)
        assert proc.returncode == 0, proc.stderr


def test_as_of_2021_crypto_and_time_pass_trust_indeterminate():
    for report in (verify_seal(read("UserV4.esl"), at=IN_RANGE),
                   verify_signature(read("SignedValueV4.dat"), at=IN_RANGE)):
        assert (report.indication, report.sub_indication) == \
            (INDETERMINATE, "NO_CERTIFICATE_CHAIN_FOUND"), report.to_text()
        assert report.check("seal.signature").passed and report.check("seal.validity").passed
        assert report.check("seal.maker_certificate").failure == "NO_CERTIFICATE_CHAIN_FOUND"
    assert report.check("signature.value").passed
    assert report.check("signature.signer_in_seal").passed
    assert report.check("signature.time").passed
    assert report.check("signature.signer_certificate").failure == "NO_CERTIFICATE_CHAIN_FOUND"


def test_as_of_2026_expired():
    for report in (verify_seal(read("UserV4.esl"), at=AFTER),
                   verify_signature(read("SignedValueV4.dat"), at=AFTER)):
        assert (report.indication, report.sub_indication) == (TOTAL_FAILED, "EXPIRED")
        assert report.check("seal.validity").failure == "EXPIRED"
        assert report.check("seal.signature").passed  # expired, not forged
    assert report.check("signature.value").passed


def test_user_v1_seal_parses_and_verifies_over_sealinfo_cert_alg():
    seal = parse_seal(read("UserV1.esl"))
    assert (seal.family, seal.version) == ("v1", 1)
    assert seal.name == "OFDRW测试用印章" and len(seal.certs) == 1
    assert seal.valid_start == datetime(2020, 4, 22, 2, 18, 7, tzinfo=timezone.utc)
    key_of(seal.maker_cert).verify(seal.signature, seal.signed_bytes)
    report = verify_seal(read("UserV1.esl"), at=IN_RANGE)
    assert report.sub_indication == "NO_CERTIFICATE_CHAIN_FOUND" and \
        report.check("seal.signature").passed


def test_v5_seal_and_signature_parse_as_v5():
    seal = parse_seal(read("UserV5.esl"))
    assert (seal.family, seal.version, seal.timestamp) == ("v5", 5, None)
    key_of(seal.maker_cert).verify(seal.signature, seal.signed_bytes)
    sig = parse_signature(read("SignedValueV5.dat"))
    assert (sig.family, sig.version) == ("v5", 5)
    report = verify_signature(read("SignedValueV5.dat"), at=sig.time_info)
    assert report.check("seal.signature").passed and report.check("signature.value").passed
    assert any("v5" in n for n in report.notes)
    # ofdrw signed in 2026 with a certificate that expired in 2022: caught.
    assert report.check("signature.time").failure == "EXPIRED"


@pytest.mark.parametrize("name", ["v4signed.ofd", "signedFile.ofd", "SESV4SignDoc.ofd"])
def test_ofd_packages_signature_and_data_hash(name):
    """dataHash = SM3(Signature.xml) in ofdrw's OFD packages: checked against the real file."""
    z = zipfile.ZipFile(DIR + name) if read(name) else None
    dat = z.read("Doc_0/Signs/Sign_0/SignedValue.dat")
    xml = z.read("Doc_0/Signs/Sign_0/Signature.xml")
    sig = parse_signature(dat)
    report = verify_signature(dat, at=sig.time_info, data=xml)
    assert report.check("signature.data_hash").passed and report.check("signature.value").passed
    assert report.check("seal.signature").passed
    assert verify_signature(dat, at=sig.time_info, data=xml + b" ") \
        .check("signature.data_hash").failure == "HASH_FAILURE"
    if "Doc_0/Signs/Sign_0/Seal.esl" in z.namelist():
        assert z.read("Doc_0/Signs/Sign_0/Seal.esl") == sig.seal.der


def test_plain_digital_signature_is_reported_as_such():
    z = zipfile.ZipFile(DIR + "DigitalSign.ofd") if read("DigitalSign.ofd") else None
    dat = z.read("Doc_0/Signs/Sign_0/SignedValue.dat")
    with pytest.raises(SealFormatError) as e:
        parse_signature(dat)
    # ofdrw's DigitalSign.ofd holds a bare SM2 SEQUENCE{r, s} there.
    assert "plain digital signature" in e.value.message_en and "数字签名" in e.value.message_zh
    assert detect(read("UserV4.esl")) == "seal" and detect(read("SignedValueV4.dat")) == "signature"

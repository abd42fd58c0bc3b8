"""verify_ofd on the OFD packages ofdrw (Java, BouncyCastle) produced: /work/shared/interop/ofdrw.

What must hold (its README): in v4signed.ofd, SESV4SignDoc.ofd and signedFile.ofd every
Reference's check value matches and the SES_Signature verifies; DigitalSign.ofd carries a plain
(non-seal) digital signature and is reported as such.  Their certificates chain to roots nobody
here trusts — INDETERMINATE / NO_CERTIFICATE_CHAIN_FOUND, never a forgery — and have expired
by 2026-11-22.  Independent cross-checks: OpenSSL recomputes the SM3 check values and verifies
the bare SM2 signature of DigitalSign.ofd; gmssl_pyx verifies a GB/T 35275 signature of ours
over exactly the bytes verify_ofd checks.  Tampered copies are made here from the originals.
"""

import base64
import io
import shutil
import subprocess
import zipfile
from datetime import datetime, timezone

import pytest
from asn1crypto import pem, x509

from tests.support import seal as ss
from tests.support import ofd as fx
from verification.ofd import verify_ofd
from verification.ofd.model import read_documents, read_signature
from verification.ofd.package import read_package
from verification.report import INDETERMINATE, TOTAL_FAILED
from verification.seal import SealTrust, parse_signature

pytestmark = pytest.mark.interop

DIR = "/work/shared/interop/ofdrw/"
SEALED = ["v4signed.ofd", "SESV4SignDoc.ofd", "signedFile.ofd"]
AFTER = datetime(2026, 11, 22, tzinfo=timezone.utc)
IN_RANGE = datetime(2021, 1, 1, tzinfo=timezone.utc)
UNTRUSTED = SealTrust()
VALUE = "Doc_0/Signs/Sign_0/SignedValue.dat"


def read(name: str) -> bytes:
    try:
        with open(DIR + name, "rb") as f:
            return f.read()
    except FileNotFoundError:
        pytest.skip(f"ofdrw interop file {name} not present")


def signing_time(name: str) -> datetime:
    with zipfile.ZipFile(io.BytesIO(read(name))) as z:
        return parse_signature(z.read(VALUE)).time_info


def failed(report):
    return {c.name: c.failure for c in report.checks if not c.passed}


def crypto_intact(report):
    refs = [c for c in report.checks if ".reference[" in c.name]
    assert refs and all(c.passed for c in refs), report.to_text()
    for name in ("ofd.package", "ofd.structure", "ofd.sig[1].seal.signature",
                 "ofd.sig[1].signature.value", "ofd.sig[1].signature.signer_in_seal",
                 "ofd.sig[1].signature.data_hash", "ofd.coverage"):
        assert report.check(name).passed, name
    if report.check("ofd.sig[1].seal_file") is not None:
        assert report.check("ofd.sig[1].seal_file").passed


@pytest.mark.parametrize("name", ["v4signed.ofd", "signedFile.ofd"])
def test_sealed_packages_as_of_signing_time_untrusted_not_forged(name):
    report = verify_ofd(read(name), UNTRUSTED, signing_time(name))
    crypto_intact(report)
    assert (report.indication, report.sub_indication) == (INDETERMINATE,
                                                            "NO_CERTIFICATE_CHAIN_FOUND")
    assert set(failed(report)) == {"ofd.sig[1].seal.maker_certificate",
                                   "ofd.sig[1].signature.signer_certificate"}
    assert report.check("ofd.sig[1].stamp").passed and report.seal["stamps"][0]["page"] == 1


def test_sesv4signdoc_crypto_intact_but_signed_with_an_expired_certificate():
    """ofdrw signed this one on 2026-08-04 with its 2020–2022 test certificate: the signing time
    lies outside the certificate's and the seal's validity, whatever the verification date."""
    name = "SESV4SignDoc.ofd"
    report = verify_ofd(read(name), UNTRUSTED, signing_time(name))
    crypto_intact(report)
    assert report.check("ofd.sig[1].seal_file").passed  # Seal.esl = the seal inside TBS_Sign
    assert report.check("ofd.sig[1].signature.time").failure == "EXPIRED"
    assert report.check("ofd.sig[1].seal.validity").failure == "EXPIRED"


@pytest.mark.parametrize("name", SEALED)
def test_sealed_packages_expired_by_2026(name):
    report = verify_ofd(read(name), UNTRUSTED, AFTER)
    assert (report.indication, report.sub_indication) == (TOTAL_FAILED, "EXPIRED")
    crypto_intact(report)


def test_digital_sign_is_a_plain_signature_whose_signer_is_unknown():
    report = verify_ofd(read("DigitalSign.ofd"), UNTRUSTED, IN_RANGE)
    assert "plain digital signature" in report.check("ofd.sig[1].signature_xml").detail
    assert not any(".seal" in c.name or ".signature." in c.name for c in report.checks)
    assert all(c.passed for c in report.checks if ".reference[" in c.name)
    assert failed(report) == {"ofd.sig[1].digital_signature.value": "NO_CERTIFICATE_CHAIN_FOUND"}
    assert report.indication == INDETERMINATE


def ofdrw_test_certificate() -> bytes:
    """ofdrw's "Test Certificate" signer, as carried by its SignedValueV4.dat."""
    return parse_signature(read("SignedValueV4.dat")).signer_cert


def test_digital_sign_verifies_with_the_known_ofdrw_certificate():
    known = [ofdrw_test_certificate()]
    report = verify_ofd(read("DigitalSign.ofd"), UNTRUSTED, IN_RANGE, known_signers=known)
    assert report.check("ofd.sig[1].digital_signature.value").passed
    assert report.check("ofd.sig[1].digital_signature.time").passed  # 2020-04-22 16:22:44 CST
    assert (report.indication, report.sub_indication) == (INDETERMINATE,
                                                            "NO_CERTIFICATE_CHAIN_FOUND")
    assert "Test Certificate" in report.signer["subject"]
    expired = verify_ofd(read("DigitalSign.ofd"), UNTRUSTED, AFTER, known_signers=known)
    assert (expired.indication, expired.sub_indication) == (TOTAL_FAILED, "EXPIRED")
    wrong = verify_ofd(read("DigitalSign.ofd"), UNTRUSTED, IN_RANGE,
                       known_signers=[parse_signature(read("SignedValueV4.dat")).seal.maker_cert])
    assert "none of 1 known" in wrong.check("ofd.sig[1].digital_signature.value").detail


# --- tampered copies --------------------------------------------------------------------------
def test_one_byte_changed_in_an_ofdrw_page():
    data = read("v4signed.ofd")
    page = fx.unzip(data)["Doc_0/Pages/Page_0/Content.xml"]
    changed = fx.rezip(data, replace={"Doc_0/Pages/Page_0/Content.xml": page.replace(b"<", b" <", 1)})
    report = verify_ofd(changed, UNTRUSTED, signing_time("v4signed.ofd"))
    assert failed(report)["ofd.sig[1].reference[/Doc_0/Pages/Page_0/Content.xml]"] == "HASH_FAILURE"
    assert report.indication == TOTAL_FAILED


def test_signed_values_swapped_between_ofdrw_packages():
    donor = fx.unzip(read("signedFile.ofd"))[VALUE]
    report = verify_ofd(fx.rezip(read("v4signed.ofd"), replace={VALUE: donor}), UNTRUSTED,
                        signing_time("signedFile.ofd"))
    assert report.check("ofd.sig[1].signature.value").passed  # a genuine signature, elsewhere
    assert report.check("ofd.sig[1].signature.data_hash").failure == "HASH_FAILURE"


def test_an_ofdrw_signature_xml_edited():
    data = read("signedFile.ofd")
    sig = fx.unzip(data)["Doc_0/Signs/Sign_0/Signature.xml"]
    moved = sig.replace(b'Boundary="90.00 8.00', b'Boundary="10.00 8.00')
    report = verify_ofd(fx.rezip(data, replace={"Doc_0/Signs/Sign_0/Signature.xml": moved}),
                        UNTRUSTED, signing_time("signedFile.ofd"))
    assert report.check("ofd.sig[1].signature.data_hash").failure == "HASH_FAILURE"


# --- independent implementations --------------------------------------------------------------
def openssl():
    if shutil.which("openssl") is None:
        pytest.skip("openssl CLI not installed")
    return "openssl"


@pytest.mark.parametrize("name", SEALED + ["DigitalSign.ofd"])
def test_openssl_sm3_agrees_with_every_check_value(name, tmp_path):
    """OpenSSL's SM3 over each referenced file equals the CheckValue ofdrw wrote — the same
    comparison verify_ofd makes with our SM3."""
    tool = openssl()
    pkg = read_package(read(name))
    entry = read_documents(pkg)[0].entries[0]
    sig = read_signature(pkg, entry)
    assert sig.references
    for ref in sig.references:
        (tmp_path / "f").write_bytes(pkg.get(ref.path))
        out = subprocess.run([tool, "dgst", "-sm3", "-binary", str(tmp_path / "f")],
                             capture_output=True, timeout=60, check=True).stdout
        assert base64.b64encode(out).decode() == ref.check_value, ref.file_ref


def test_openssl_verifies_digital_sign_over_signature_xml(tmp_path):
    """What ofdrw's DigitalSignContainer signs: the bytes of Signature.xml, SM2 with the GM ID."""
    tool = openssl()
    files = fx.unzip(read("DigitalSign.ofd"))
    cert = x509.Certificate.load(ofdrw_test_certificate())
    (tmp_path / "pub.pem").write_bytes(pem.armor("PUBLIC KEY", cert.public_key.dump()))
    (tmp_path / "m").write_bytes(files["Doc_0/Signs/Sign_0/Signature.xml"])
    (tmp_path / "s").write_bytes(files[VALUE])
    proc = subprocess.run([tool, "pkeyutl", "-verify", "-pubin", "-inkey", str(tmp_path / "pub.pem"),
                           "-rawin", "-digest", "sm3", "-pkeyopt", "distid:1234567812345678",
                           "-in", str(tmp_path / "m"), "-sigfile", str(tmp_path / "s")],
                          capture_output=True, timeout=60)
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("form", ["gm", "pkcs9"])
def test_gmssl_verifies_our_gbt35275_signatures(form):
    """The SM2 signature inside a GB/T 35275 SignedData of ours verifies in GmSSL (gmssl_pyx)
    over the content (no attributes) or the DER SET of the attributes — the bytes verify_ofd
    checks — and verify_ofd passes the package."""
    gmssl_pyx = pytest.importorskip("gmssl_pyx")
    from asn1crypto import cms

    data = fx.sign_package(form)
    value = fx.unzip(data)[VALUE]
    signed = fx.ContentInfo.load(value)["content"]
    info = signed["signer_infos"][0]
    attrs = info["signed_attrs"]
    message = (cms.CMSAttributes.load(b"\x31" + attrs.dump()[1:]).dump() if attrs
               else signed["content_info"]["content"].native)
    cert = ss.signer().cert
    point = cert.public_key["public_key"].native
    assert gmssl_pyx.sm2_verify(point[1:], message, info["signature"].native)
    assert verify_ofd(data, ss.trust(), ss.LATER).indication == "TOTAL_PASSED"

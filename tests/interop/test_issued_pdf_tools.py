"""Issued licences checked by tools that are not ours: poppler's pdfsig with an NSS database
trusting the region root, pyHanko's validator, qpdf, OpenSSL and gmssl_pyx on the SM2 CMS
signature, our seal verifier on the embedded SESeal, and zxing-cpp on the QR printed on the
rendered page."""

import io
import shutil
import subprocess

import pytest
from asn1crypto import pem

from license_svc.licences import issue as issuing
from license_svc.licences import lifecycle
from formats import algorithms as alg
from formats import oids
from tests.support.issuing import example

pytestmark = pytest.mark.interop


def _tool(name):
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} not installed")
    return path


@pytest.fixture
def issued(ctx, amr):
    def make(algorithm):
        ident = issuing.issue(ctx, amr, example("business_licence", algorithm=algorithm)).identifiers[0]
        with ctx.unit_of_work() as s:
            return lifecycle.load_version(s, ident)
    return make


def _embedded(pdf: bytes):
    from pyhanko.pdf_utils.reader import PdfFileReader

    (sig,) = PdfFileReader(io.BytesIO(pdf)).embedded_signatures
    return sig


def test_rsa_licence_pdfsig_with_nss_trusting_the_region_root(ctx, issued, tmp_path):
    _tool("pdfsig")
    certutil = _tool("certutil")
    version = issued("rsa")
    pdf = tmp_path / "licence.pdf"
    pdf.write_bytes(version.pdf)
    root = tmp_path / "root.crt"
    root.write_bytes(pem.armor("CERTIFICATE", ctx.keystore.roots("sh", "rsa")[0].dump()))
    db = f"sql:{tmp_path / 'nss'}"
    (tmp_path / "nss").mkdir()
    subprocess.run([certutil, "-N", "-d", db, "--empty-password"], check=True, capture_output=True)
    subprocess.run([certutil, "-A", "-d", db, "-n", "sh-root", "-t", "CT,C,C", "-i", str(root)],
                   check=True, capture_output=True)
    # NSS wants revocation information for certificates with a CRL distribution point (the dev
    # URLs do not resolve): give it the region CRLs, as a relying party would have them.
    crlutil = _tool("crlutil")
    for i, crl in enumerate(ctx.keystore.crls("sh")):
        path = tmp_path / f"crl{i}.der"
        path.write_bytes(crl.dump())
        subprocess.run([crlutil, "-I", "-d", db, "-i", str(path), "-B"], check=True,
                       capture_output=True)
    out = subprocess.run(["pdfsig", "-nssdir", db, "-no-ocsp", str(pdf)], capture_output=True,
                         text=True, timeout=60).stdout
    assert "Signature is Valid." in out, out
    assert "Total document signed" in out, out
    assert "Certificate is Trusted." in out, out
    # and the same file with one byte changed inside the signed range is not valid
    bad = bytearray(version.pdf)
    i = bad.index(b"/LicenseSvc") + 20
    bad[i] ^= 0x01
    pdf.write_bytes(bytes(bad))
    out = subprocess.run(["pdfsig", "-nssdir", db, "-no-ocsp", str(pdf)], capture_output=True,
                         text=True, timeout=60).stdout
    assert "Signature is Valid." not in out


def test_rsa_licence_pyhanko_validator(ctx, issued):
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    version = issued("rsa")
    ks = ctx.keystore
    vc = ValidationContext(trust_roots=ks.roots("sh", "rsa"), other_certs=ks.intermediates("sh"),
                           allow_fetching=False, revocation_mode="soft-fail", moment=ctx.now())
    sig = _embedded(version.pdf)
    status = validate_pdf_signature(sig, signer_validation_context=vc, ts_validation_context=vc)
    assert status.intact and status.valid and status.trusted, status.pretty_print_details()
    assert status.coverage.name == "ENTIRE_FILE"
    assert status.modification_level.name == "NONE"
    assert status.timestamp_validity is not None and status.timestamp_validity.intact
    assert status.docmdp_ok


@pytest.mark.parametrize("algorithm", ["sm2", "rsa"])
def test_qpdf_check(issued, tmp_path, algorithm):
    qpdf = _tool("qpdf")
    path = tmp_path / "l.pdf"
    path.write_bytes(issued(algorithm).pdf)
    r = subprocess.run([qpdf, "--check", str(path)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr


def _signed_attrs_and_cert(version):
    sig = _embedded(version.pdf)
    signer_info = sig.signer_info
    attrs = signer_info["signed_attrs"]
    der = attrs.untag().dump()  # DER with the SET tag (RFC 5652 §5.4), what was signed
    return sig, signer_info, der


def test_sm2_cms_signature_verifies_with_openssl_and_gmssl_pyx(ctx, issued, tmp_path):
    openssl = _tool("openssl")
    version = issued("sm2")
    sig, signer_info, signed = _signed_attrs_and_cert(version)
    assert signer_info["digest_algorithm"]["algorithm"].dotted == oids.SM3
    assert signer_info["signature_algorithm"]["algorithm"].dotted == oids.SM2_WITH_SM3
    # messageDigest is SM3 over the two byte ranges
    br = sig.sig_object["/ByteRange"]
    data = version.pdf[br[0]:br[0] + br[1]] + version.pdf[br[2]:br[2] + br[3]]
    digests = [a["values"][0].native for a in signer_info["signed_attrs"] if a["type"].native == "message_digest"]
    assert digests == [alg.sm3(data)]
    assert br[2] + br[3] == len(version.pdf)
    value = signer_info["signature"].native
    cert = sig.signer_cert
    (tmp_path / "msg").write_bytes(signed)
    (tmp_path / "sig").write_bytes(value)
    (tmp_path / "pub.pem").write_bytes(pem.armor("PUBLIC KEY", cert.public_key.dump()))
    r = subprocess.run([openssl, "pkeyutl", "-verify", "-pubin", "-inkey", str(tmp_path / "pub.pem"),
                        "-rawin", "-digest", "sm3", "-pkeyopt", "distid:1234567812345678",
                        "-in", str(tmp_path / "msg"), "-sigfile", str(tmp_path / "sig")],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and "Signature Verified Successfully" in r.stdout, r.stdout + r.stderr
    gmssl_pyx = pytest.importorskip("gmssl_pyx")
    point = cert.public_key["public_key"].native
    assert gmssl_pyx.sm2_verify(point[1:], signed, value)
    assert not gmssl_pyx.sm2_verify(point[1:], signed + b"\x00", value)


def test_embedded_seseal_verifies(ctx, issued):
    from license_svc.seals import registry
    from verification.seal import verify_seal

    version = issued("sm2")
    _sig, signer_info, _ = _signed_attrs_and_cert(version)
    seals = [a["values"][0].dump() for a in signer_info["signed_attrs"]
             if a["type"].dotted == oids.SESEAL_SIGNED_ATTRIBUTE]
    assert len(seals) == 1
    with ctx.unit_of_work() as s:
        report = verify_seal(seals[0], at=ctx.now(), trust=registry.trust(ctx, s))
    assert report.indication == "TOTAL_PASSED", report.to_text()
    # the seal lists the certificate that made this signature
    from verification.seal import parse_seal

    seal = parse_seal(seals[0])
    assert seal.lists_signer(version.signer_cert)


@pytest.mark.parametrize("algorithm", ["sm2", "rsa"])
def test_printed_qr_decodes_to_the_api_el1(issued, tmp_path, algorithm):
    pdftoppm = _tool("pdftoppm")
    zxingcpp = pytest.importorskip("zxingcpp")
    from PIL import Image

    version = issued(algorithm)
    (tmp_path / "l.pdf").write_bytes(version.pdf)
    subprocess.run([pdftoppm, "-r", "200", "-png", "-singlefile", str(tmp_path / "l.pdf"),
                    str(tmp_path / "page")], check=True, timeout=60)
    codes = zxingcpp.read_barcodes(Image.open(tmp_path / "page.png"),
                                    formats=zxingcpp.BarcodeFormat.QRCode)
    assert [c.text for c in codes if c.format == zxingcpp.BarcodeFormat.QRCode] == [version.el1]

"""Our signed PDFs (test-only PKI) checked by other implementations: poppler's pdfsig with an
NSS database trusting the root, pyHanko's own validator, qpdf, OpenSSL and gmssl_pyx on the
SM2 CMS signature, OpenSSL on the RSA CMS.  Also a parser differential: pdfsig calls an attack
file "valid" where verify_pdf fails it (why pdfsig is a cross-check, not a verdict)."""

from __future__ import annotations

import io
import shutil
import subprocess

import pytest
from asn1crypto import pem

from formats import oids
from tests.support import pdf_attacks as g
from tests.support.material import hierarchy
from tests.support.pdf import AT, genuine, trust
from verification.pdf import verify_pdf

pytestmark = pytest.mark.interop


def _tool(name):
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} not installed")
    return path


def _run(*args, **kw):
    return subprocess.run(list(args), capture_output=True, text=True, timeout=60, **kw)


@pytest.fixture(scope="module")
def dev_rsa_pdf_and_nssdb(tmp_path_factory):
    """The dev PKI (keys_dev, sh region): NSS insists on revocation data for every certificate
    (poppler's policy), so the relying party's database gets the root and the region CRLs; the
    issuing CA comes from the signature's own certificate set."""
    certutil, crlutil = _tool("certutil"), _tool("crlutil")
    from pathlib import Path

    from signing.keystore import KeyStore
    from signing.pdf import LicenceStamper
    from signing.tsa import InProcessTimeStamper, TimeStampAuthority
    from tests.support.material import licence_page

    ks = KeyStore.load(Path(__file__).resolve().parents[2] / "keys_dev")
    tsa = ks.credential("sh", "tsa", "rsa")
    st = LicenceStamper(ks.credential("sh", "licence_signer", "rsa"), timestamper=
                        InProcessTimeStamper(TimeStampAuthority(tsa.key, tsa.cert, tsa.chain)))
    pdf = st.sign(licence_page())
    d = tmp_path_factory.mktemp("nss")
    (d / "root.pem").write_bytes(pem.armor("CERTIFICATE", ks.roots("sh", "rsa")[0].dump()))
    assert _run(certutil, "-N", "-d", f"sql:{d}", "--empty-password").returncode == 0
    r = _run(certutil, "-A", "-d", f"sql:{d}", "-n", "root", "-t", "CT,C,C", "-i", str(d / "root.pem"))
    assert r.returncode == 0, r.stderr
    for i, crl in enumerate(ks.crls("sh")):
        (d / f"crl{i}.der").write_bytes(crl.dump())
        assert _run(crlutil, "-I", "-d", f"sql:{d}", "-i", str(d / f"crl{i}.der"), "-B").returncode == 0
    return pdf, d


def test_pdfsig_rsa_valid_total_and_trusted(dev_rsa_pdf_and_nssdb, tmp_path):
    pdfsig = _tool("pdfsig")
    pdf, nssdb = dev_rsa_pdf_and_nssdb
    f = tmp_path / "licence.pdf"
    f.write_bytes(pdf)
    out = _run(pdfsig, "-nssdir", f"sql:{nssdb}", "-no-ocsp", str(f)).stdout
    assert "Signature is Valid." in out, out
    assert "Total document signed" in out, out
    assert "Certificate is Trusted." in out, out  # the CMS carries the issuing CA
    assert "ETSI.CAdES.detached" in out
    f.write_bytes(g.flip_signed_byte(pdf))
    out = _run(pdfsig, "-nssdir", f"sql:{nssdb}", "-no-ocsp", str(f)).stdout
    assert "Signature is Valid." not in out, out


def test_pdfsig_rsa_detects_a_changed_byte(tmp_path):
    pdfsig = _tool("pdfsig")
    f = tmp_path / "bad.pdf"
    f.write_bytes(g.flip_signed_byte(genuine("rsa")))
    out = _run(pdfsig, "-nocert", str(f)).stdout
    assert "Signature is Valid." not in out, out


def test_pdfsig_is_not_a_verdict_shadow_font_overwrite(tmp_path):
    """pdfsig: "Signature is Valid." (it does no update analysis); verify_pdf: TOTAL_FAILED."""
    pdfsig = _tool("pdfsig")
    attacked = g.shadow_replace(genuine("rsa"))
    f = tmp_path / "attacked.pdf"
    f.write_bytes(attacked)
    out = _run(pdfsig, "-nocert", str(f)).stdout
    assert "Signature is Valid." in out and "Not total document signed" in out, out
    assert verify_pdf(attacked, trust("rsa"), AT).indication == "TOTAL_FAILED"


@pytest.mark.parametrize("algorithm", ["sm2", "rsa"])
def test_pyhanko_validator(algorithm):
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.status import SignatureCoverageLevel

    from verification.certpath import make_validation_context

    h = hierarchy(algorithm)
    (emb,) = PdfFileReader(io.BytesIO(genuine(algorithm))).embedded_signatures
    vc = make_validation_context(trust_roots=[h.root], at=AT)
    st = validate_pdf_signature(emb, vc, ts_validation_context=vc)
    assert st.intact and st.valid and st.trusted, st.pretty_print_details()
    assert st.coverage == SignatureCoverageLevel.ENTIRE_FILE
    assert st.docmdp_ok and emb.docmdp_level.name == "NO_CHANGES"
    assert st.timestamp_validity is not None and st.timestamp_validity.valid
    assert st.bottom_line


@pytest.mark.parametrize("algorithm", ["sm2", "rsa"])
def test_qpdf_check(algorithm, tmp_path):
    qpdf = _tool("qpdf")
    f = tmp_path / "l.pdf"
    f.write_bytes(genuine(algorithm))
    r = _run(qpdf, "--check", str(f))
    assert r.returncode == 0, r.stdout + r.stderr


def _sm2_parts():
    from pyhanko.pdf_utils.reader import PdfFileReader

    (emb,) = PdfFileReader(io.BytesIO(genuine("sm2"))).embedded_signatures
    si = emb.signer_info
    return emb, si["signed_attrs"].untag().dump(), si["signature"].native  # SET OF, not [0]


def test_sm2_signed_attributes_verify_with_openssl(tmp_path):
    openssl = _tool("openssl")
    emb, signed, value = _sm2_parts()
    (tmp_path / "msg").write_bytes(signed)
    (tmp_path / "sig").write_bytes(value)
    (tmp_path / "pub.pem").write_bytes(pem.armor("PUBLIC KEY", emb.signer_cert.public_key.dump()))
    args = [openssl, "pkeyutl", "-verify", "-pubin", "-inkey", str(tmp_path / "pub.pem"), "-rawin",
            "-digest", "sm3", "-pkeyopt", "distid:1234567812345678", "-in", str(tmp_path / "msg"),
            "-sigfile", str(tmp_path / "sig")]
    r = _run(*args)
    assert r.returncode == 0 and "Signature Verified Successfully" in r.stdout, r.stdout + r.stderr
    (tmp_path / "msg").write_bytes(signed[:-1] + bytes([signed[-1] ^ 1]))
    assert _run(*args).returncode != 0


def test_sm2_signed_attributes_verify_with_gmssl_pyx():
    gmssl_pyx = pytest.importorskip("gmssl_pyx")
    emb, signed, value = _sm2_parts()
    point = emb.signer_cert.public_key["public_key"].native
    assert gmssl_pyx.sm2_verify(point[1:], signed, value)
    assert not gmssl_pyx.sm2_verify(point[1:], signed + b"\x00", value)


def test_embedded_seseal_parses_and_verifies():
    from verification.seal import SealTrust, parse_seal, verify_seal

    emb, _, _ = _sm2_parts()
    (der,) = [a["values"][0].dump() for a in emb.signer_info["signed_attrs"]
              if a["type"].dotted == oids.SESEAL_SIGNED_ATTRIBUTE]
    seal = parse_seal(der)
    assert seal.lists_signer(emb.signer_cert.dump())
    h = hierarchy("sm2")
    report = verify_seal(der, at=AT, trust=SealTrust(seal_maker_roots=[h.root]))
    assert report.indication == "TOTAL_PASSED", report.to_text()


def test_rsa_cms_verifies_with_openssl(tmp_path):
    openssl = _tool("openssl")
    from pyhanko.pdf_utils.reader import PdfFileReader

    data = genuine("rsa")
    (emb,) = PdfFileReader(io.BytesIO(data)).embedded_signatures
    a, b, c, d = (int(x) for x in emb.sig_object["/ByteRange"])
    (tmp_path / "content").write_bytes(data[a:a + b] + data[c:c + d])
    (tmp_path / "sig.der").write_bytes(emb.signed_data.dump() and
                                       emb.sig_object["/Contents"].original_bytes)
    (tmp_path / "ca.pem").write_bytes(pem.armor("CERTIFICATE", hierarchy("rsa").root.dump()))
    r = _run(openssl, "cms", "-verify", "-binary", "-inform", "DER", "-in", str(tmp_path / "sig.der"),
             "-content", str(tmp_path / "content"), "-CAfile", str(tmp_path / "ca.pem"),
             "-purpose", "any", "-out", "/dev/null")
    assert r.returncode == 0 and "Verification successful" in r.stderr, r.stderr

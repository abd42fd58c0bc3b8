"""Stamped department documents (signing.pdf.stamp_document) checked by other implementations:
poppler's pdfsig (NSS, the dev root trusted) on RSA stamps by two organisations of the
development PKI, GmSSL (gmssl-pyx) on an SM2 stamp's document digest and signature, qpdf on
the structure."""

from __future__ import annotations

import io
import shutil
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from asn1crypto import pem

from signing.pdf.stamp_document import DocumentStamper
from signing.placement import Placement
from tests.support.documents import KEYWORD, notice

pytestmark = pytest.mark.interop
KEYS = Path(__file__).resolve().parents[2] / "keys_dev"


def _tool(name):
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} not installed")
    return path


def _run(*args):
    return subprocess.run(list(args), capture_output=True, text=True, timeout=60)


@pytest.fixture(scope="module")
def dev():
    from signing.keystore import KeyStore

    return KeyStore.load(KEYS)


def _stamper(ks, org_code: str, algorithm: str) -> DocumentStamper:
    """The organisation's licence signer and a seal the region's seal maker made for it."""
    from signing.seal import SEAL_TYPE_ORGANISATION, make_seal, new_seal_id
    from signing.seal.picture import render_round_seal
    from signing.tsa import InProcessTimeStamper, TimeStampAuthority

    cred = ks.credential("sh", "licence_signer", algorithm, org_code=org_code)
    maker = ks.credential("sh", "seal_maker", "sm2")
    now = datetime.now(timezone.utc)
    der = make_seal(maker_key=maker.key, maker_cert=maker.cert, es_id=new_seal_id(),
                    name="行政审批专用章", seal_type=SEAL_TYPE_ORGANISATION,
                    picture=render_round_seal(ks.organisation(org_code).name, "", ""),
                    signer_certs=[cred.cert], valid_start=now - timedelta(days=1),
                    valid_end=now + timedelta(days=365), created=now)
    tsa = ks.credential("sh", "tsa", algorithm)
    return DocumentStamper(cred, der, timestamper=InProcessTimeStamper(
        TimeStampAuthority(tsa.key, tsa.cert, tsa.chain)))


def _nssdb(ks, d: Path) -> Path:
    """A relying party's NSS database: the sh RSA root trusted, the region's CRLs (poppler's
    NSS wants revocation data for every certificate)."""
    certutil, crlutil = _tool("certutil"), _tool("crlutil")
    (d / "root.pem").write_bytes(pem.armor("CERTIFICATE", ks.roots("sh", "rsa")[0].dump()))
    assert _run(certutil, "-N", "-d", f"sql:{d}", "--empty-password").returncode == 0
    r = _run(certutil, "-A", "-d", f"sql:{d}", "-n", "root", "-t", "CT,C,C", "-i", str(d / "root.pem"))
    assert r.returncode == 0, r.stderr
    for i, crl in enumerate(ks.crls("sh")):
        (d / f"crl{i}.der").write_bytes(crl.dump())
        assert _run(crlutil, "-I", "-d", f"sql:{d}", "-i", str(d / f"crl{i}.der"), "-B").returncode == 0
    return d


def _pdfsig(nss: Path, pdf: bytes, tmp_path) -> str:
    f = tmp_path / "stamped.pdf"
    f.write_bytes(pdf)
    return _run(_tool("pdfsig"), "-nssdir", f"sql:{nss}", "-no-ocsp", str(f)).stdout


def test_pdfsig_rsa_stamp_valid_and_trusted(dev, tmp_path):
    sh = dev.organisations("sh")[0].code
    stamped = _stamper(dev, sh, "rsa").stamp(notice(), Placement(keyword=KEYWORD))
    nss = _nssdb(dev, tmp_path)
    out = _pdfsig(nss, stamped, tmp_path)
    assert "Signature is Valid." in out and "Certificate is Trusted." in out, out
    assert "Total document signed" in out and "ETSI.CAdES.detached" in out, out
    i = len(notice()) // 2  # a byte of the original document, inside the signed range
    out = _pdfsig(nss, stamped[:i] + bytes([stamped[i] ^ 1]) + stamped[i + 1:], tmp_path)
    assert "Signature is Valid." not in out, out


def test_pdfsig_two_organisations_in_turn(dev, tmp_path):
    """Both signatures valid.  Certificate trust is asserted for the first only: poppler 22.12
    with NSS reports "Unknown issue with Certificate" for every signature after the first in a
    file — also for two signatures made by pyHanko's own PdfSigner with these certificates, and
    each stamp alone is trusted (test above) — so the second's trust is shown by pyHanko's
    validator and ours (tests/signing/test_stamp_document.py)."""
    orgs = [o.code for o in dev.organisations("sh")][:2]
    first = _stamper(dev, orgs[0], "rsa").stamp(notice(), Placement(keyword=KEYWORD))
    both = _stamper(dev, orgs[1], "rsa").stamp(first, Placement(straddle=True))
    nss = _nssdb(dev, tmp_path)
    out = _pdfsig(nss, both, tmp_path)
    assert out.count("Signature is Valid.") == 2, out
    assert out.split("Signature #2")[0].count("Certificate is Trusted.") == 1, out
    assert "Not total document signed" in out and "- Total document signed" in out, out
    alone = _pdfsig(nss, _stamper(dev, orgs[1], "rsa").stamp(notice(), Placement(straddle=True)),
                    tmp_path)
    assert "Certificate is Trusted." in alone, alone
    i = len(notice()) // 2  # inside the original document, which both signatures cover
    out = _pdfsig(nss, both[:i] + bytes([both[i] ^ 1]) + both[i + 1:], tmp_path)
    assert "Signature is Valid." not in out, out


def test_qpdf_checks_a_twice_stamped_document(dev, tmp_path):
    qpdf = _tool("qpdf")
    sh = dev.organisations("sh")[0].code
    st = _stamper(dev, sh, "sm2")
    f = tmp_path / "s.pdf"
    f.write_bytes(st.stamp(st.stamp(notice(), Placement(page=1, x_mm=20, y_mm=20)),
                           Placement(straddle=True)))
    r = _run(qpdf, "--check", str(f))
    assert r.returncode == 0, r.stdout + r.stderr


def test_gmssl_verifies_an_sm2_stamp(dev):
    gmssl_pyx = pytest.importorskip("gmssl_pyx")
    from pyhanko.pdf_utils.reader import PdfFileReader

    sh = dev.organisations("sh")[0].code
    data = _stamper(dev, sh, "sm2").stamp(notice(), Placement(page=1, x_mm=20, y_mm=20))
    (emb,) = PdfFileReader(io.BytesIO(data)).embedded_signatures
    a, b, c, d = (int(x) for x in emb.sig_object["/ByteRange"])
    si = emb.signer_info
    (digest,) = [attr["values"][0].native for attr in si["signed_attrs"]
                 if attr["type"].native == "message_digest"]
    assert gmssl_pyx.sm3_hash(data[a:a + b] + data[c:c + d]) == digest  # GmSSL's own SM3
    signed, value = si["signed_attrs"].untag().dump(), si["signature"].native
    point = emb.signer_cert.public_key["public_key"].native
    assert gmssl_pyx.sm2_verify(point[1:], signed, value)
    assert not gmssl_pyx.sm2_verify(point[1:], signed + b"\x00", value)

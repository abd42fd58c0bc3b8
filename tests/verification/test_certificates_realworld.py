"""Certificates from other CAs (issue 15): fields OpenSSL reads and asn1crypto did not — an
x500UniqueIdentifier as a UTF8String, an emailAddress that is not an IA5String, a QcStatements
extension not as ETSI EN 319 412-5 says — load, verify and are noted; what a check reads stays
strict.  Certificates made with the OpenSSL CLI, PDFs signed with pyHanko."""

from __future__ import annotations

import subprocess
from datetime import datetime, timezone

import pytest

import pyhanko.sign.ades.qualified_asn1  # noqa: F401  (registers qcStatements in asn1crypto)
from formats.certs import CertificateFormatError, leniencies, load_certificate
from tests.support import realpdf as rp
from verification.pdf import PdfTrust, verify_pdf
from verification.report import TOTAL_PASSED

NAMES = """[req]
distinguished_name = dn
string_mask = utf8only
utf8 = yes
prompt = no
[dn]
CN = 张三 Throwaway
x500UniqueIdentifier = 统一社会信用代码 91310000TEST00000X
emailAddress = zhangsan@example.cn
"""
# qcStatements with QcType as a bare OID instead of SEQUENCE OF OID (seen in the wild)
QC_TYPE_BARE = "30133011060604008E460106060704008E46010601"


def _verify(pki, data):
    return verify_pdf(data, PdfTrust(signer_roots=[pki.root], tsa_roots=[pki.root]),
                      datetime.now(timezone.utc))


def _utf8_email(tbs: bytes) -> bytes:
    i = tbs.index(b"\x16\x13zhangsan@example.cn")
    return tbs[:i] + b"\x0c" + tbs[i + 1:]


@pytest.fixture(scope="module")
def quirky_names(tmp_path_factory):
    folder = tmp_path_factory.mktemp("names")
    (folder / "req.cnf").write_text(NAMES, encoding="utf-8")
    pki = rp.make_pki(folder, req_args=("-config", "req.cnf"))
    rp.resign_certificate(pki, _utf8_email)
    return pki


def test_openssl_reads_and_verifies_the_quirky_names(quirky_names):
    shown = subprocess.run(["openssl", "x509", "-in", str(quirky_names.dir / "signer.pem"),
                            "-noout", "-subject", "-nameopt", "utf8,show_type"],
                           capture_output=True, text=True, check=True).stdout
    assert "emailAddress=UTF8STRING" in shown and "x500UniqueIdentifier=UTF8STRING" in shown
    subprocess.run(["openssl", "verify", "-CAfile", str(quirky_names.dir / "ca.pem"),
                    str(quirky_names.dir / "signer.pem")], check=True, capture_output=True)


def test_quirky_names_load_with_notes(quirky_names):
    cert = load_certificate((quirky_names.dir / "signer.pem").read_bytes())
    assert cert.subject.native["email_address"] == "zhangsan@example.cn"
    notes = leniencies(cert)
    assert any("email_address" in n and "utf8_string" in n for n in notes), notes
    assert any("unique_identifier" in n for n in notes), notes


def test_pdf_signed_with_quirky_names_passes_with_notes(quirky_names):
    data = rp.sign(quirky_names, name="张三")
    report = _verify(quirky_names, data)
    assert report.indication == TOTAL_PASSED, report.to_text()
    assert any("email_address" in n for n in report.notes), report.notes
    assert report.signer["subject"].startswith("Email Address: zhangsan@example.cn")


def test_malformed_qc_statements_pass_with_a_note_as_pyhanko_says(tmp_path):
    pki = rp.make_pki(tmp_path, extra_ext=f"1.3.6.1.5.5.7.1.3=DER:{QC_TYPE_BARE}\n")
    data = rp.sign(pki)
    assert rp.pyhanko_verdict(data, pki.root) == (True, True, True)
    report = _verify(pki, data)
    assert report.indication == TOTAL_PASSED, report.to_text()
    assert any("qc_statements" in n for n in report.notes), report.notes


def test_malformed_critical_extension_is_still_malformed(tmp_path):
    pki = rp.make_pki(tmp_path, extra_ext=f"1.3.6.1.5.5.7.1.3=critical,DER:{QC_TYPE_BARE}\n")
    with pytest.raises(CertificateFormatError):
        load_certificate((pki.dir / "signer.pem").read_bytes())
    report = _verify(pki, rp.sign(pki))
    assert report.indication != TOTAL_PASSED, report.to_text()

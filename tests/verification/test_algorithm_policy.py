"""The dated weak-algorithm policy (verification/algorithm_policy.py): SHA-1, MD5 and RSA-1024
signatures made for real with OpenSSL keys and pyHanko are refused naming the algorithm and
the policy date — not shown as "signature value valid" nor blamed on the certificate path —
and the dates decide: proof of existence before the cut-off stands, after it fails."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from asn1crypto import algos

from tests.support import realpdf as rp
from verification.algorithm_policy import DATED_POLICY, DIGESTS, judge, weakness
from verification.checks import PdfCheck
from verification.pdf import PdfTrust, verify_pdf
from verification.report import INDETERMINATE, TOTAL_PASSED

NOW = datetime.now(timezone.utc)
SHA1 = DIGESTS["sha1"]


def _verify(pki, data):
    return verify_pdf(data, PdfTrust(signer_roots=[pki.root], tsa_roots=[pki.root]),
                      datetime.now(timezone.utc))


@pytest.mark.parametrize("kw, name, since, path_ok", [
    (dict(md="sha1"), "SHA-1", "2014-01-01", False),   # certificates signed with SHA-1 too
    (dict(md="md5"), "MD5", "2005-01-01", False),
    (dict(bits=1024), "RSA-1024", "2014-01-01", True),  # only the signer's key is short
])
def test_weak_signature_is_crypto_constraints_failure(tmp_path, kw, name, since, path_ok):
    pki = rp.make_pki(tmp_path, **kw)
    data = rp.sign(pki)
    report = _verify(pki, data)
    assert report.indication == INDETERMINATE, report.to_text()
    assert report.sub_indication == "CRYPTO_CONSTRAINTS_FAILURE_NO_POE", report.to_text()
    algo = report.check(PdfCheck.ALGORITHMS)
    assert not algo.passed and name in algo.detail and since in algo.detail, report.to_text()
    path = report.check(PdfCheck.CERTIFICATE_PATH)
    assert path.passed == path_ok, report.to_text()
    if not path_ok:  # named, not "signer certificate validation failed"
        assert name in path.detail and since in path.detail, path.detail
    assert rp.pyhanko_verdict(data, pki.root)[2] is False  # pyHanko refuses it too


def test_strong_signature_passes_the_policy(tmp_path):
    pki = rp.make_pki(tmp_path)
    report = _verify(pki, rp.sign(pki))
    assert report.indication == TOTAL_PASSED, report.to_text()
    assert report.check(PdfCheck.ALGORITHMS).passed


def test_dates_decide():
    before = SHA1.since_time - timedelta(days=1)
    after = SHA1.since_time + timedelta(days=1)
    assert judge(SHA1, before, NOW).ok                      # timestamp before the cut-off
    assert judge(SHA1, None, before).ok                     # validated as of before it
    late = judge(SHA1, after, NOW)                          # timestamp after: failed
    assert (late.ok, late.failure, late.indeterminate) == \
        (False, "CRYPTO_CONSTRAINTS_FAILURE", False)
    none = judge(SHA1, None, NOW)                           # no proof: cannot tell
    assert (none.ok, none.failure, none.indeterminate) == \
        (False, "CRYPTO_CONSTRAINTS_FAILURE_NO_POE", True)
    assert judge(None, None, NOW).ok


def test_path_policy_has_the_same_dates():
    sha1_rsa = algos.SignedDigestAlgorithm({"algorithm": "sha1_rsa"})
    assert DATED_POLICY.signature_algorithm_allowed(sha1_rsa, SHA1.since_time - timedelta(1),
                                                    None)
    refused = DATED_POLICY.signature_algorithm_allowed(sha1_rsa, NOW, None)
    assert not refused and refused.not_allowed_after == SHA1.since_time
    assert "SHA-1" in refused.failure_reason
    sha256 = algos.SignedDigestAlgorithm({"algorithm": "sha256_rsa"})
    assert DATED_POLICY.signature_algorithm_allowed(sha256, NOW, None)
    assert weakness("sm3") is None and weakness("sha256") is None


@pytest.fixture(scope="module")
def sha1_signer(tmp_path_factory):
    """SHA-256 certificates, a CMS signature with SHA-1 (as an old signing tool makes)."""
    pki = rp.make_pki(tmp_path_factory.mktemp("sha1cms"))
    rp.add_tsa(pki)
    pki.md = "sha1"
    return pki


def test_timestamp_after_the_cut_off_makes_it_failed(sha1_signer):
    report = _verify(sha1_signer, rp.sign(sha1_signer, timestamper=rp.timestamper(sha1_signer)))
    assert report.check(PdfCheck.TIMESTAMP).passed, report.to_text()
    assert report.check(PdfCheck.CERTIFICATE_PATH).passed, report.to_text()
    assert (report.indication, report.sub_indication) == \
        ("TOTAL_FAILED", "CRYPTO_CONSTRAINTS_FAILURE"), report.to_text()
    assert "SHA-1" in report.check(PdfCheck.ALGORITHMS).detail


def test_backdated_timestamp_proves_nothing(sha1_signer):
    """A TSA token dated 2013 by a TSA whose certificate was issued today: pyHanko trusts it
    (it judges the TSA certificate as of now); here the timestamp fails, so the SHA-1
    signature is not saved by it."""
    tsa = rp.timestamper(sha1_signer, datetime(2013, 6, 1, tzinfo=timezone.utc))
    report = _verify(sha1_signer, rp.sign(sha1_signer, timestamper=tsa))
    ts = report.check(PdfCheck.TIMESTAMP)
    assert not ts.passed and "outside its TSA certificate" in ts.detail, report.to_text()
    assert not report.check(PdfCheck.ALGORITHMS).passed
    assert report.indication != TOTAL_PASSED


def test_weak_timestamp_key_is_no_proof(tmp_path):
    pki = rp.make_pki(tmp_path)
    rp.add_tsa(pki, bits=1024)
    report = _verify(pki, rp.sign(pki, timestamper=rp.timestamper(pki)))
    ts = report.check(PdfCheck.TIMESTAMP)
    assert not ts.passed and "RSA-1024" in ts.detail and "2014-01-01" in ts.detail, report.to_text()
    assert report.sub_indication == "CRYPTO_CONSTRAINTS_FAILURE_NO_POE"


def test_weak_algorithm_is_not_hidden_behind_expiry(tmp_path):
    """Verified after the signer certificate expired, without a timestamp: the report names
    RSA-1024 and its date first, and says the certificate expired — not "signer certificate
    validation failed"."""
    pki = rp.make_pki(tmp_path, bits=1024)
    report = verify_pdf(rp.sign(pki), PdfTrust(signer_roots=[pki.root], tsa_roots=[pki.root]),
                        datetime.now(timezone.utc) + timedelta(days=400))
    assert report.sub_indication == "CRYPTO_CONSTRAINTS_FAILURE_NO_POE", report.to_text()
    assert "RSA-1024" in report.check(PdfCheck.ALGORITHMS).detail
    path = report.check(PdfCheck.CERTIFICATE_PATH)
    assert not path.passed and "validation failed" not in path.detail, report.to_text()

"""verify_pdf remembers valid signer, TSA and seal-maker paths (verification.certpath.TrustStore,
verification.pdf.signature).  These tests verify a licence, then verify again after a change
that must show — a revocation, an expiry, a stale CRL, a trust set without the root, a revoked
TSA — and require the failure; and they show the memory is used and changes no report."""

import functools
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from signing.pdf import LicenceStamper
from signing.seal import SEAL_TYPE_ORGANISATION, SealPicture, make_seal, new_seal_id
from signing.tsa import InProcessTimeStamper, TimeStampAuthority
from tests.support.material import licence_page, seal_png
from tests.verification.cache_pki import DAY, T, cache_pki
from verification import certpath
from verification.pdf import PdfTrust, verify_pdf
from verification.report import TOTAL_FAILED, TOTAL_PASSED

LICENCE = {"id": "1.2.156.3005.2.11310000CACHETEST.0001.001.T", "data_hash": "cd" * 32,
           "version": 1}


@functools.lru_cache(maxsize=None)
def stamper(algorithm: str, with_ts: bool) -> LicenceStamper:
    pki = cache_pki(algorithm)
    seal = make_seal(maker_key=pki.seal_maker.key, maker_cert=pki.seal_maker.cert,
                     es_id=new_seal_id(), name="缓存测试专用章", seal_type=SEAL_TYPE_ORGANISATION,
                     picture=SealPicture(seal_png(), 42, 42), signer_certs=[pki.signer.cert],
                     valid_start=T - 300 * DAY, valid_end=T + 3000 * DAY, created=T - 300 * DAY)
    tsa = InProcessTimeStamper(TimeStampAuthority(pki.tsa.key, pki.tsa.cert, pki.tsa.chain,
                                                  clock=lambda: T)) if with_ts else None
    return LicenceStamper(pki.signer, seal=seal, seal_png=seal_png(), timestamper=tsa)


def licence(algorithm: str = "sm2", with_ts: bool = True) -> bytes:
    """A new licence PDF each call (fresh signature and timestamp)."""
    return stamper(algorithm, with_ts).sign(licence_page(), LICENCE)


def trust(algorithm: str, *crl_names: str, root: str = "root", maker_root: str = "root"):
    pki = cache_pki(algorithm)
    crls = [getattr(pki, n) for n in crl_names or ("root_crl", "ca_crl")]
    return PdfTrust(signer_roots=[getattr(pki, root)], tsa_roots=[pki.root],
                    seal_maker_roots=[getattr(pki, maker_root)], crls=crls)


def failed(report, name: str):
    check = report.check(name)
    assert check is not None and not check.passed, report.to_text()
    return check


@pytest.fixture
def anchored(monkeypatch):
    """Counts pyHanko contexts anchored on a remembered certificate (the fast path)."""
    calls = []
    original = certpath.anchored_context

    def counting(cert, at):
        calls.append(cert)
        return original(cert, at)

    monkeypatch.setattr(certpath, "anchored_context", counting)
    return calls


@pytest.mark.parametrize("algorithm", ["sm2", "rsa"])
def test_remembered_paths_are_used_and_change_no_report(algorithm, anchored):
    t = trust(algorithm)
    at = T + DAY
    first, second = licence(algorithm), licence(algorithm)
    cold = verify_pdf(first, t, at)
    assert cold.indication == TOTAL_PASSED, cold.to_text()
    warm = verify_pdf(second, t, at + timedelta(hours=3))
    assert warm.indication == TOTAL_PASSED, warm.to_text()
    assert len(anchored) == 2  # signer and TSA, for the second licence
    # The same licence, verified with empty memories, gives the very same report.
    certpath.forget()
    fresh = verify_pdf(second, t, at + timedelta(hours=3))
    assert len(anchored) == 2
    assert fresh.as_dict() == warm.as_dict()


def test_revocation_after_a_pass_in_the_same_trust():
    t = trust("sm2", "root_crl", "ca_crl", "ca_crl_revoking")  # revokes as of T+2d
    pdf = licence(with_ts=False)
    assert verify_pdf(pdf, t, T + DAY).indication == TOTAL_PASSED
    assert verify_pdf(licence(with_ts=False), t, T + DAY).indication == TOTAL_PASSED
    report = verify_pdf(pdf, t, T + 3 * DAY)
    assert report.indication == TOTAL_FAILED and report.sub_indication == "REVOKED", \
        report.to_text()


def test_revoking_crl_in_another_trust_at_the_same_time():
    pdf, at = licence(with_ts=False), T + 3 * DAY
    assert verify_pdf(pdf, trust("sm2", "root_crl", "ca_crl"), at).indication == TOTAL_PASSED
    report = verify_pdf(pdf, trust("sm2", "root_crl", "ca_crl_revoking"), at)
    assert report.sub_indication == "REVOKED", report.to_text()


def test_revoked_tsa_in_another_trust():
    pdf, at = licence(), T + DAY
    assert verify_pdf(pdf, trust("sm2", "root_crl", "ca_crl"), at).indication == TOTAL_PASSED
    report = verify_pdf(pdf, trust("sm2", "root_crl_revoking_tsa", "ca_crl"), at)
    assert report.indication != TOTAL_PASSED
    failed(report, "pdf.timestamp")


def test_expiry_after_a_pass():
    t = trust("sm2", "root_crl", "ca_crl_long")  # CRLs fresh until T+40d
    pdf = licence(with_ts=False)
    assert verify_pdf(pdf, t, T + 19 * DAY).indication == TOTAL_PASSED
    report = verify_pdf(pdf, t, T + 21 * DAY)  # the issuing CA expired at T+20d
    assert report.indication != TOTAL_PASSED
    failed(report, "pdf.certificate_path")


def test_stale_crl_after_a_pass():
    t = trust("sm2", "root_crl", "ca_crl")  # the CA's CRL is stale after T+7d
    pdf = licence(with_ts=False)
    assert verify_pdf(pdf, t, T + 6 * DAY).indication == TOTAL_PASSED
    report = verify_pdf(pdf, t, T + 8 * DAY)
    assert report.indication != TOTAL_PASSED
    failed(report, "pdf.certificate_path")


def test_trust_without_the_root_after_a_pass():
    pdf, at = licence(), T + DAY
    assert verify_pdf(pdf, trust("sm2"), at).indication == TOTAL_PASSED
    report = verify_pdf(pdf, trust("sm2", root="other_root"), at)
    assert report.indication != TOTAL_PASSED
    assert failed(report, "pdf.certificate_path").failure == "NO_CERTIFICATE_CHAIN_FOUND"
    report = verify_pdf(pdf, trust("sm2", maker_root="other_root"), at)
    assert report.indication != TOTAL_PASSED
    assert failed(report, "pdf.seal.maker_certificate").failure == "NO_CERTIFICATE_CHAIN_FOUND"


def test_timestamp_before_the_revocation_answers_as_a_fresh_verification():
    """A timestamp from before the revocation keeps the licence valid (proof of existence):
    after a remembered pass, the answer is exactly that of a verification from scratch."""
    pdf = licence()
    names = ("root_crl", "ca_crl", "ca_crl_revoking")
    assert verify_pdf(pdf, trust("sm2", *names), T + DAY).indication == TOTAL_PASSED
    late = verify_pdf(pdf, trust("sm2", *names), T + 3 * DAY)
    certpath.forget()
    assert verify_pdf(pdf, trust("sm2", *names), T + 3 * DAY).as_dict() == late.as_dict()
    assert late.indication == TOTAL_PASSED and late.check("pdf.certificate_path").passed


_GENUINE = licence()
_AT = T + DAY


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pos=st.integers(0, len(_GENUINE) - 1), value=st.integers(1, 255))
def test_changed_licences_get_the_same_report_warm_and_cold(pos, value):
    """Whatever a byte change does, the report with every memory warm (the genuine licence
    verified just before) equals the report from scratch."""
    mutated = _GENUINE[:pos] + bytes([_GENUINE[pos] ^ value]) + _GENUINE[pos + 1:]
    t = trust("sm2")
    certpath.forget()
    cold = verify_pdf(mutated, t, _AT)
    assert verify_pdf(_GENUINE, t, _AT).indication == TOTAL_PASSED
    warm = verify_pdf(mutated, t, _AT)
    assert warm.as_dict() == cold.as_dict()

"""verification.certpath.TrustStore remembers valid paths; these tests prove that what it
remembers can never turn a later expiry, a revocation, a stale CRL or a different trust set
into a PASS, and that it is really used (the speed it exists for)."""

from datetime import timedelta

import pytest
from asn1crypto import algos, keys
from cryptography.exceptions import InvalidSignature

from formats import algorithms as alg
from tests.verification.cache_pki import DAY, T, cache_pki
from verification import certpath
from verification.certpath import SM2SignatureValidator, TrustStore, validate_path

USAGE = {"digital_signature"}


@pytest.fixture(scope="module")
def pki():
    return cache_pki("sm2")


@pytest.fixture
def counted(monkeypatch):
    """How many times pyhanko-certvalidator is really asked."""
    calls = []
    original = certpath.CertificateValidator

    def counting(*a, **kw):
        calls.append(1)
        return original(*a, **kw)

    monkeypatch.setattr(certpath, "CertificateValidator", counting)
    return calls


def store(pki, *crls, roots=None):
    return TrustStore(roots if roots is not None else [pki.root], [pki.ca], list(crls))


def test_remembered_within_a_bucket_and_asked_again_outside(pki, counted):
    s = store(pki, pki.root_crl, pki.ca_crl)
    first = s.validate(pki.signer.cert, at=T + DAY, key_usage=USAGE)
    assert first.ok, first.detail_zh_en
    again = s.validate(pki.signer.cert, at=T + DAY + timedelta(hours=5), key_usage=USAGE)
    assert again.ok and again == first and again is not first
    assert len(counted) == 1  # the second answer came from memory
    # A different purpose is a different question.
    s.validate(pki.signer.cert, at=T + DAY, key_usage={"non_repudiation"})
    assert len(counted) == 2
    # Past the CA CRL's nextUpdate is another bucket.
    assert s._bucket(T + DAY, [pki.signer.cert]) != s._bucket(T + 8 * DAY, [pki.signer.cert])


def test_intermediate_expiry_after_a_success_is_not_masked(pki):
    s = store(pki, pki.root_crl, pki.ca_crl_long)  # CRLs fresh until T+40d
    assert s.validate(pki.signer.cert, at=T + 19 * DAY, key_usage=USAGE).ok
    later = s.validate(pki.signer.cert, at=T + 21 * DAY, key_usage=USAGE)  # the CA expired T+20d
    assert not later.ok and later.reason_code == "EXPIRED", later.detail_zh_en


def test_revocation_later_in_the_same_material(pki):
    # The revoking CRL is issued at T+2d: before that it cannot be used, the empty one is.
    s = store(pki, pki.root_crl, pki.ca_crl, pki.ca_crl_revoking)
    assert s.validate(pki.signer.cert, at=T + DAY, key_usage=USAGE).ok
    later = s.validate(pki.signer.cert, at=T + 3 * DAY, key_usage=USAGE)
    assert not later.ok and later.reason_code == "REVOKED", later.detail_zh_en


def test_revoking_crl_in_other_material_at_the_same_time(pki):
    at = T + 3 * DAY
    ok = validate_path(pki.signer.cert, trust_roots=[pki.root], intermediates=[pki.ca], at=at,
                       crls=[pki.root_crl, pki.ca_crl], key_usage=USAGE)
    assert ok.ok, ok.detail_zh_en
    revoked = validate_path(pki.signer.cert, trust_roots=[pki.root], intermediates=[pki.ca],
                            at=at, crls=[pki.root_crl, pki.ca_crl_revoking], key_usage=USAGE)
    assert not revoked.ok and revoked.reason_code == "REVOKED"


def test_stale_crl_after_a_success(pki):
    s = store(pki, pki.root_crl, pki.ca_crl)
    assert s.validate(pki.signer.cert, at=T + 6 * DAY, key_usage=USAGE).ok
    stale = s.validate(pki.signer.cert, at=T + 8 * DAY, key_usage=USAGE)
    assert not stale.ok and stale.reason_code == "TRY_LATER", stale.detail_zh_en


def test_trust_set_without_the_root_after_a_success(pki):
    at = T + DAY
    assert store(pki, pki.root_crl, pki.ca_crl).validate(pki.signer.cert, at=at,
                                                         key_usage=USAGE).ok
    for roots in ([pki.other_root], []):
        res = store(pki, pki.root_crl, pki.ca_crl, roots=roots).validate(
            pki.signer.cert, at=at, key_usage=USAGE)
        assert not res.ok and res.reason_code == "NO_CERTIFICATE_CHAIN_FOUND"
    # The shared-by-content stores of validate_path keep them apart too.
    kw = dict(intermediates=[pki.ca], at=at, crls=[pki.root_crl, pki.ca_crl], key_usage=USAGE)
    assert validate_path(pki.signer.cert, trust_roots=[pki.root], **kw).ok
    assert not validate_path(pki.signer.cert, trust_roots=[pki.other_root], **kw).ok


def test_extra_intermediates_are_part_of_the_question(pki):
    s = TrustStore([pki.root], [], [pki.root_crl, pki.ca_crl])
    at = T + DAY
    assert s.validate(pki.signer.cert, at=at, extra_intermediates=[pki.ca], key_usage=USAGE).ok
    without = s.validate(pki.signer.cert, at=at, key_usage=USAGE)
    assert not without.ok and without.reason_code == "NO_CERTIFICATE_CHAIN_FOUND"


def test_nothing_remembered_next_to_a_critical_time(pki, counted):
    s = store(pki, pki.root_crl, pki.ca_crl)
    next_update = pki.ca_crl["tbs_cert_list"]["next_update"].native
    for at in (next_update - timedelta(seconds=3), next_update + timedelta(seconds=2)):
        assert s.known_valid(("path",), pki.signer.cert, at) is None
        s.validate(pki.signer.cert, at=at, key_usage=USAGE)
        s.validate(pki.signer.cert, at=at, key_usage=USAGE)
    assert len(counted) == 4
    # Certificates given with the question count too: the leaf's own notAfter.
    leaf_end = pki.signer.cert.not_valid_after
    assert s._bucket(leaf_end - timedelta(seconds=1), [pki.signer.cert]) is None


def test_failures_are_never_remembered(pki, counted):
    s = store(pki, pki.root_crl, pki.ca_crl_revoking)
    for _ in range(2):
        assert s.validate(pki.signer.cert, at=T + 3 * DAY, key_usage=USAGE).reason_code == \
            "REVOKED"
    assert len(counted) == 2


def test_malformed_material_is_a_format_failure_not_an_exception(pki):
    s = TrustStore([b"not a certificate"], [], [])
    res = s.validate(pki.signer.cert, at=T + DAY)
    assert res.reason_code == "FORMAT_FAILURE"
    res = TrustStore([pki.root], [], [b"\x30\x03\x02\x01\x01"]).validate(pki.signer.cert,
                                                                       at=T + DAY)
    assert res.reason_code == "FORMAT_FAILURE"


def test_signature_memory_keeps_only_successes():
    v = SM2SignatureValidator()
    key = alg.generate_private_key("sm2")
    msg = b"tbs bytes"
    sig = key.sign(msg)
    info = keys.PublicKeyInfo.load(key.public_key.spki_der())
    sm2 = algos.SignedDigestAlgorithm({"algorithm": "1.2.156.10197.1.501"})
    assert v.validate_signature(sig, msg, info, sm2) is None
    assert v.validate_signature(sig, msg, info, sm2) is None  # remembered
    for bad_sig, bad_msg in ((sig[:-1] + bytes([sig[-1] ^ 1]), msg), (sig, msg + b"!")):
        for _ in range(2):  # a failure is not remembered as anything
            with pytest.raises(InvalidSignature):
                v.validate_signature(bad_sig, bad_msg, info, sm2)
    other = keys.PublicKeyInfo.load(alg.generate_private_key("sm2").public_key.spki_der())
    with pytest.raises(InvalidSignature):
        v.validate_signature(sig, msg, other, sm2)

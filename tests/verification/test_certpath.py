"""Path validation over the dev PKI: every chain passes; each failure class is named right."""
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from asn1crypto import algos
from cryptography.exceptions import InvalidSignature
from hypothesis import HealthCheck, given, settings, strategies as st
from pyhanko_certvalidator.sig_validate import SignatureValidationContext

from formats import algorithms as alg
from signing.keystore import KeyStore
from signing.x509 import build_certificate, build_name
from verification.certpath import (
    SIGNATURE_VALIDATOR, make_validation_context, validate_path,
)
from verification.checks import SealCheck
from verification.report import INDETERMINATE, TOTAL_FAILED, TOTAL_PASSED, Report

KEYS = Path(__file__).resolve().parents[2] / "keys_dev"
AT = datetime(2026, 6, 1, tzinfo=timezone.utc)
REGIONS = ("sh", "js", "zj", "ah")


@pytest.fixture(scope="module")
def ks():
    return KeyStore.load(KEYS)


def _trust(ks, region):
    return dict(trust_roots=ks.roots(region), intermediates=ks.intermediates(region),
                crls=ks.crls(region))


@pytest.mark.parametrize("region", REGIONS)
def test_every_dev_chain_validates(ks, region):
    for item in ks.items(region):
        if item["role"] in ("revoked_demo", "expired_demo"):
            continue
        cert = ks.certificate(item["id"])
        res = validate_path(cert, at=AT, allow_ca_leaf=cert.ca, **_trust(ks, region))
        assert res.ok, (item["id"], res.detail_zh_en)
        assert res.indication == TOTAL_PASSED and res.reason_code is None
        assert res.path[-1].dump() == cert.dump()
        assert res.path[0].dump() == ks.certificate(f"{region}-root-{item['algorithm']}").dump()
        if not cert.ca:
            assert len(res.path) == 3


def test_leaf_validates_with_chain_from_credential(ks):
    cred = ks.credential("zj", "licence_signer", "sm2")
    res = validate_path(cred.cert, trust_roots=[cred.root], intermediates=cred.chain[:-1], at=AT,
                        key_usage={"digital_signature", "non_repudiation"})
    assert res.ok, res.detail_zh_en


def test_federation_root_is_its_own_anchor(ks):
    fed = ks.federation_root()
    res = validate_path(fed.cert, trust_roots=[fed.cert], at=AT, allow_ca_leaf=True)
    assert res.ok, res.detail_zh_en


def test_other_regions_roots_do_not_anchor(ks):
    cert = ks.credential("sh", "licence_signer", "sm2").cert
    res = validate_path(cert, trust_roots=ks.roots("js"), intermediates=ks.intermediates("sh"), at=AT)
    assert not res.ok and res.reason_code == "NO_CERTIFICATE_CHAIN_FOUND"
    assert res.indication == INDETERMINATE
    # Without the issuing CA the path cannot be built either.
    res = validate_path(cert, trust_roots=ks.roots("sh"), at=AT)
    assert res.reason_code == "NO_CERTIFICATE_CHAIN_FOUND"


@pytest.mark.parametrize("algorithm", ["sm2", "rsa"])
def test_wrong_issuer_key(ks, algorithm):
    ca = ks.credential("sh", "issuing_ca", algorithm)
    impostor = alg.generate_private_key(algorithm)
    subject = alg.generate_private_key("sm2")
    forged = build_certificate(subject=build_name("伪造"), subject_public_key=subject.public_key,
                               issuer_key=impostor, issuer_cert=ca.cert, not_before=AT - timedelta(days=1),
                               not_after=AT + timedelta(days=30), key_usage={"digital_signature"},
                               check_issuer_key=False)
    res = validate_path(forged, at=AT, **_trust(ks, "sh"))
    assert not res.ok and res.reason_code == "SIG_CRYPTO_FAILURE", res.detail_zh_en
    assert res.indication == TOTAL_FAILED


@pytest.mark.parametrize("algorithm", ["sm2", "rsa"])
def test_expired_certificate_checked_as_of(ks, algorithm):
    cert = ks.credential("js", "expired_demo", algorithm).cert
    res = validate_path(cert, at=AT, **_trust(ks, "js"))
    assert not res.ok and res.reason_code == "EXPIRED" and res.indication == TOTAL_FAILED
    # The same certificate was fine while it was valid (no CRL: the CAs did not exist yet).
    before = cert.not_valid_after - timedelta(days=30)
    ok = validate_path(cert, trust_roots=ks.roots("js"), intermediates=ks.intermediates("js"),
                       at=before)
    # ...except that its issuing CA was not yet valid then: the whole path is judged as of `at`.
    assert ok.reason_code == "NOT_YET_VALID"
    # A licence signer judged after its end date is expired.
    signer = ks.credential("js", "licence_signer", algorithm).cert
    late = validate_path(signer, at=signer.not_valid_after + timedelta(seconds=5), **_trust(ks, "js"))
    assert late.reason_code == "EXPIRED"


@pytest.mark.parametrize("algorithm", ["sm2", "rsa"])
def test_revoked_certificate(ks, algorithm):
    item = ks.items("ah", "revoked_demo", algorithm)[0]
    cert = ks.certificate(item["id"])
    res = validate_path(cert, at=AT, **_trust(ks, "ah"))
    assert not res.ok and res.reason_code == "REVOKED" and res.indication == TOTAL_FAILED
    revoked_at = datetime.fromisoformat(item["revoked_at"])
    earlier = validate_path(cert, at=revoked_at - timedelta(hours=1), **_trust(ks, "ah"))
    assert earlier.ok, earlier.detail_zh_en
    # Without CRLs revocation cannot be seen: the caller chose not to check it.
    blind = validate_path(cert, trust_roots=ks.roots("ah"), intermediates=ks.intermediates("ah"), at=AT)
    assert blind.ok


def test_crl_of_another_region_does_not_cover(ks):
    cert = ks.credential("sh", "licence_signer", "sm2").cert
    res = validate_path(cert, trust_roots=ks.roots("sh"), intermediates=ks.intermediates("sh"),
                        crls=ks.crls("js"), at=AT)
    assert not res.ok and res.reason_code == "TRY_LATER" and res.indication == INDETERMINATE


def test_missing_key_usage(ks):
    node = ks.credential("sh", "node", "sm2").cert  # digitalSignature only
    res = validate_path(node, at=AT, key_usage={"non_repudiation"}, **_trust(ks, "sh"))
    assert not res.ok and res.reason_code == "CHAIN_CONSTRAINTS_FAILURE", res.detail_zh_en
    assert validate_path(node, at=AT, key_usage={"digital_signature"}, **_trust(ks, "sh")).ok


def test_extended_key_usage(ks):
    tsa = ks.credential("zj", "tsa", "rsa").cert
    assert validate_path(tsa, at=AT, extended_key_usage={"time_stamping"}, **_trust(ks, "zj")).ok
    signer = ks.credential("zj", "licence_signer", "rsa").cert
    res = validate_path(signer, at=AT, extended_key_usage={"time_stamping"}, **_trust(ks, "zj"))
    assert res.reason_code == "CHAIN_CONSTRAINTS_FAILURE"


def test_ca_certificate_as_leaf(ks):
    ca = ks.credential("sh", "issuing_ca", "sm2").cert
    res = validate_path(ca, at=AT, **_trust(ks, "sh"))
    assert not res.ok and res.reason_code == "CHAIN_CONSTRAINTS_FAILURE"
    assert "CA" in res.detail_zh_en


def test_not_yet_valid(ks):
    cert = ks.credential("sh", "licence_signer", "sm2").cert
    res = validate_path(cert, at=cert.not_valid_before - timedelta(days=1), **_trust(ks, "sh"))
    assert not res.ok and res.reason_code == "NOT_YET_VALID" and res.indication == TOTAL_FAILED


def test_path_length_constraint(ks):
    """The issuing CA has pathLen 0: a sub-CA under it must not anchor a leaf."""
    ca = ks.credential("sh", "issuing_ca", "sm2")
    sub_key, leaf_key = alg.generate_private_key("sm2"), alg.generate_private_key("sm2")
    sub = build_certificate(subject=build_name("非法下级CA"), subject_public_key=sub_key.public_key,
                            issuer_key=ca.key, issuer_cert=ca.cert, not_before=AT - timedelta(days=1),
                            not_after=AT + timedelta(days=30), ca=True)
    leaf = build_certificate(subject=build_name("叶子"), subject_public_key=leaf_key.public_key,
                             issuer_key=sub_key, issuer_cert=sub, not_before=AT - timedelta(days=1),
                             not_after=AT + timedelta(days=30), key_usage={"digital_signature"})
    res = validate_path(leaf, trust_roots=ks.roots("sh"), intermediates=[ca.cert, sub], at=AT)
    assert not res.ok and res.reason_code == "CHAIN_CONSTRAINTS_FAILURE", res.detail_zh_en


def test_accepts_der_and_pem_and_reports_into_report(ks):
    cert = ks.credential("sh", "seal_maker", "sm2").cert
    res = validate_path(cert.dump(), at=AT, trust_roots=[c.dump() for c in ks.roots("sh")],
                        intermediates=ks.intermediates("sh"))
    assert res.ok
    report = Report(subject="signature")
    assert res.add_to(report, SealCheck.SIGNATURE_SIGNER_CERTIFICATE)
    bad = validate_path(b"\x30\x03\x02\x01\x01", at=AT, trust_roots=ks.roots("sh"))
    assert bad.reason_code == "FORMAT_FAILURE" and "证书格式错误" in bad.detail_zh_en
    bad.add_to(report, SealCheck.SIGNATURE_SIGNER_CERTIFICATE)
    assert report.indication == TOTAL_FAILED and report.sub_indication == "FORMAT_FAILURE"


def test_naive_time_is_refused(ks):
    with pytest.raises(ValueError):
        make_validation_context(trust_roots=ks.roots("sh"), at=datetime(2026, 6, 1))


def test_validate_path_inside_a_running_event_loop(ks):
    import asyncio

    cert = ks.credential("sh", "tsa", "sm2").cert

    async def inner():
        return validate_path(cert, at=AT, **_trust(ks, "sh"))

    assert asyncio.run(inner()).ok


# -- the SignatureValidator contract --------------------------------------------------------

def _sig_inputs(ks, oid):
    cert = ks.credential("sh", "licence_signer", "sm2").cert
    issuer = ks.credential("sh", "issuing_ca", "sm2").cert
    return (cert["signature_value"].native, cert["tbs_certificate"].dump(), issuer.public_key,
            algos.SignedDigestAlgorithm({"algorithm": oid}))


@pytest.mark.parametrize("oid", ["1.2.156.10197.1.501", "1.2.156.10197.1.301.1"])
def test_validator_accepts_both_sm2_oids(ks, oid):
    sig, data, key, algo = _sig_inputs(ks, oid)
    assert SIGNATURE_VALIDATOR.validate_signature(sig, data, key, algo) is None
    with pytest.raises(InvalidSignature):
        SIGNATURE_VALIDATOR.validate_signature(sig, data + b"x", key, algo)


def test_validator_refuses_prehashed_sm2_and_mismatched_keys(ks):
    sig, data, key, algo = _sig_inputs(ks, "1.2.156.10197.1.501")
    with pytest.raises(InvalidSignature):
        SIGNATURE_VALIDATOR.validate_signature(sig, alg.sm3(data), key, algo,
                                               SignatureValidationContext(prehashed=True))
    rsa_key = ks.credential("sh", "issuing_ca", "rsa").cert.public_key
    with pytest.raises(InvalidSignature):  # SM2 algorithm, RSA key
        SIGNATURE_VALIDATOR.validate_signature(sig, data, rsa_key, algo)
    with pytest.raises(InvalidSignature):  # RSA algorithm, SM2 key: never reaches pyca
        SIGNATURE_VALIDATOR.validate_signature(
            sig, data, key, algos.SignedDigestAlgorithm({"algorithm": "sha256_rsa"}))
    with pytest.raises(InvalidSignature):  # malformed signature bytes
        SIGNATURE_VALIDATOR.validate_signature(b"\x30\x00", data, key, algo)


def test_validator_delegates_rsa(ks):
    cert = ks.credential("sh", "licence_signer", "rsa").cert
    issuer = ks.credential("sh", "issuing_ca", "rsa").cert
    args = (cert["signature_value"].native, cert["tbs_certificate"].dump(), issuer.public_key,
            cert["signature_algorithm"])
    assert SIGNATURE_VALIDATOR.validate_signature(*args) is None
    with pytest.raises(InvalidSignature):
        SIGNATURE_VALIDATOR.validate_signature(args[0], args[1] + b"x", *args[2:])


# -- hostile input --------------------------------------------------------------------------

@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_mutated_certificates_fail_cleanly(ks, data):
    der = bytearray(ks.credential("sh", "licence_signer", "sm2").cert.dump())
    i = data.draw(st.integers(0, len(der) - 1))
    if data.draw(st.booleans()):
        mutated = bytes(der[:i])
    else:
        der[i] ^= data.draw(st.integers(1, 255))
        mutated = bytes(der)
    res = validate_path(mutated, at=AT, **_trust(ks, "sh"))
    # Every byte is either structure or covered by the signature: nothing mutated may pass.
    assert not res.ok and res.reason_code and res.detail_zh_en


@pytest.mark.parametrize("algorithm", ["sm2", "rsa"])
def test_forged_crl_is_not_believed(ks, algorithm):
    """A CRL under the issuing CA's name but signed by another key must neither revoke a good
    certificate nor count as revocation information (its signature goes through our validator)."""
    from signing.x509 import build_crl

    ca = ks.credential("sh", "issuing_ca", algorithm)
    root = ks.credential("sh", "root", algorithm)
    fake_key = alg.generate_private_key(algorithm)
    fake_ca = build_certificate(subject=ca.cert.subject, subject_public_key=fake_key.public_key,
                                issuer_key=root.key, issuer_cert=root.cert, not_before=AT - timedelta(days=9),
                                not_after=AT + timedelta(days=9), ca=True, path_length=0)
    signer = ks.credential("sh", "licence_signer", algorithm).cert
    forged = build_crl(fake_ca, fake_key, [(signer.serial_number, AT - timedelta(days=1), "key_compromise")],
                       AT - timedelta(days=1), AT + timedelta(days=30))
    root_crls = [c for c in ks.crls("sh") if c.issuer == root.cert.subject]
    only_forged = validate_path(signer, trust_roots=ks.roots("sh"), intermediates=ks.intermediates("sh"),
                                crls=root_crls + [forged], at=AT)
    assert not only_forged.ok and only_forged.reason_code == "TRY_LATER", only_forged.detail_zh_en
    both = validate_path(signer, trust_roots=ks.roots("sh"), intermediates=ks.intermediates("sh"),
                         crls=ks.crls("sh") + [forged], at=AT)
    assert both.ok, both.detail_zh_en

"""Seal and signature verification: each attack fails the check named for it."""

from datetime import timedelta

import pytest

from formats import algorithms as alg
from signing.tsa import TimeStampAuthority
from tests.support import seal as S
from verification.report import INDETERMINATE, TOTAL_FAILED, TOTAL_PASSED
from formats.seal import asn1
from verification.seal import parse_seal, verify_seal, verify_signature

NINE_STEPS = {"signature.format", "seal.format", "seal.signature", "seal.maker_certificate",
              "seal.validity", "seal.status", "signature.value", "signature.signer_certificate",
              "signature.signer_in_seal", "signature.time", "signature.data_hash"}


@pytest.fixture(scope="module")
def seal_der():
    return S.seal()


@pytest.fixture(scope="module")
def sig_der(seal_der):
    return S.signature(seal_der)


def forge_signature(seal_der: bytes, cred, *, data=S.DOCUMENT, time=S.T0) -> bytes:
    """A SES_Signature made without sign_document's refusals (as an attacker would)."""
    tbs = asn1.TBSSign({"version": 4, "eseal": asn1.SESeal.load(seal_der), "time_info": time,
                        "data_hash": alg.sm3(data), "property_info": "contract.pdf"})
    return asn1.SESSignature({"to_sign": tbs, "cert": cred.cert.dump(),
                              "signature_alg_id": alg.signature_algorithm_oid(cred.key),
                              "signature": cred.key.sign(tbs.dump())}).dump()


def test_good_signature_passes_all_named_checks(sig_der):
    r = verify_signature(sig_der, at=S.LATER, trust=S.trust(), data=S.DOCUMENT)
    assert r.indication == TOTAL_PASSED, r.to_text()
    assert {c.name for c in r.checks} == NINE_STEPS
    assert r.seal["name"] == "合同专用章" and r.signer["subject"]
    assert r.as_dict()["checks"][0] == {"name": "signature.format", "title_zh": "签章数据格式",
                                        "passed": True, "detail": r.checks[0].detail}


def test_good_seal_passes(seal_der):
    r = verify_seal(seal_der, at=S.LATER, trust=S.trust())
    assert r.indication == TOTAL_PASSED, r.to_text()
    assert r.seal["es_id"] == parse_seal(seal_der).es_id


def test_rsa_signer_and_digest_list_pass():
    rsa = S.signer(algorithm="rsa")
    der = S.signature(S.seal(signers=[rsa], cert_digests=True), cred=rsa)
    r = verify_signature(der, at=S.LATER, trust=S.trust(), data=S.DOCUMENT)
    assert r.indication == TOTAL_PASSED, r.to_text()


def test_signer_not_listed(seal_der):
    der = forge_signature(seal_der, S.signer(index=1))
    r = verify_signature(der, at=S.LATER, trust=S.trust(), data=S.DOCUMENT)
    assert S.failed(r) == {"signature.signer_in_seal": "SIG_CONSTRAINTS_FAILURE"}
    assert (r.indication, r.sub_indication) == (TOTAL_FAILED, "SIG_CONSTRAINTS_FAILURE")


def test_seal_used_outside_its_validity():
    seal_der = S.seal(valid_days=10)
    late = forge_signature(seal_der, S.signer(), time=S.T0 + timedelta(days=11))
    r = verify_signature(late, at=S.T0 + timedelta(days=5), trust=S.trust(), data=S.DOCUMENT)
    assert S.failed(r) == {"signature.time": "NOT_YET_VALID"}  # dated after `at` too
    r = verify_signature(late, at=S.T0 + timedelta(days=12), trust=S.trust(), data=S.DOCUMENT)
    assert S.failed(r) == {"seal.validity": "EXPIRED", "signature.time": "EXPIRED"}
    early = forge_signature(seal_der, S.signer(), time=S.T0 - timedelta(days=1))
    r = verify_signature(early, at=S.T0 + timedelta(days=1), trust=S.trust(), data=S.DOCUMENT)
    assert S.failed(r) == {"signature.time": "NOT_YET_VALID"}


def test_seal_verified_outside_validity(seal_der):
    r = verify_seal(seal_der, at=S.T0 + timedelta(days=400), trust=S.trust())
    assert S.failed(r) == {"seal.validity": "EXPIRED"}
    r = verify_seal(seal_der, at=S.T0 - timedelta(days=1), trust=S.trust())
    assert S.failed(r) == {"seal.validity": "NOT_YET_VALID"}


def test_revoked_and_suspended_seal(sig_der, seal_der):
    revoked = S.trust(seal_status=lambda s: "revoked")
    r = verify_signature(sig_der, at=S.LATER, trust=revoked, data=S.DOCUMENT)
    assert S.failed(r) == {"seal.status": "REVOKED"} and r.indication == TOTAL_FAILED
    r = verify_seal(seal_der, at=S.LATER, trust=S.trust(seal_status=lambda s: "suspended"))
    assert r.indication == INDETERMINATE and S.failed(r) == {"seal.status": "TRY_LATER"}
    r = verify_seal(seal_der, at=S.LATER, trust=S.trust(seal_status=lambda s: "unknown"))
    assert r.indication == INDETERMINATE and S.failed(r) == {"seal.status": "GENERIC"}
    for no_registry in (None, lambda s: None):
        r = verify_seal(seal_der, at=S.LATER, trust=S.trust(seal_status=no_registry))
        assert r.indication == TOTAL_PASSED and any("registry" in n for n in r.notes)


def test_untrusted_maker_is_indeterminate_not_forgery(sig_der):
    # A seal made by another region's seal maker, verified with Shanghai's roots only.
    js_seal = S.seal(region="js")
    r = verify_seal(js_seal, at=S.LATER, trust=S.trust("sh"))
    assert S.failed(r) == {"seal.maker_certificate": "NO_CERTIFICATE_CHAIN_FOUND"}
    assert (r.indication, r.sub_indication) == (INDETERMINATE, "NO_CERTIFICATE_CHAIN_FOUND")
    # A relying party that trusts only another region's roots: untrusted, not forged.
    r = verify_signature(sig_der, at=S.LATER, trust=S.trust("zj"), data=S.DOCUMENT)
    assert r.indication == INDETERMINATE
    assert S.failed(r) == {"seal.maker_certificate": "NO_CERTIFICATE_CHAIN_FOUND",
                           "signature.signer_certificate": "NO_CERTIFICATE_CHAIN_FOUND"}


def test_changed_data_hash(sig_der):
    r = verify_signature(sig_der, at=S.LATER, trust=S.trust(), data=S.DOCUMENT + b" ")
    assert S.failed(r) == {"signature.data_hash": "HASH_FAILURE"}
    r = verify_signature(sig_der, at=S.LATER, trust=S.trust(), data_hash=alg.sm3(S.DOCUMENT))
    assert r.indication == TOTAL_PASSED
    r = verify_signature(sig_der, at=S.LATER, trust=S.trust())
    assert (r.indication, r.sub_indication) == (INDETERMINATE, "SIGNED_DATA_NOT_FOUND")


def test_changed_data_hash_inside_signature(sig_der):
    h = alg.sm3(S.DOCUMENT)
    tampered = sig_der.replace(h, alg.sm3(b"other"))
    r = verify_signature(tampered, at=S.LATER, trust=S.trust(), data=b"other")
    assert S.failed(r) == {"signature.value": "SIG_CRYPTO_FAILURE"}


def test_changed_picture(seal_der, sig_der):
    pic = S.picture().data
    i = len(pic) // 2
    swapped = pic[:i] + bytes([pic[i] ^ 0x01]) + pic[i + 1:]
    r = verify_seal(seal_der.replace(pic, swapped), at=S.LATER, trust=S.trust())
    assert S.failed(r) == {"seal.signature": "SIG_CRYPTO_FAILURE"}
    assert r.indication == TOTAL_FAILED
    r = verify_signature(sig_der.replace(pic, swapped), at=S.LATER, trust=S.trust(),
                         data=S.DOCUMENT)
    assert S.failed(r) == {"seal.signature": "SIG_CRYPTO_FAILURE",
                           "signature.value": "SIG_CRYPTO_FAILURE"}


def test_seal_with_resigned_picture_by_a_stranger(seal_der):
    """Swap the picture and re-sign SES_SealInfo with a key of our own, keeping the maker cert."""
    stranger = alg.generate_private_key("sm2")
    seal = asn1.SESeal.load(seal_der)
    info = asn1.SealInfo.load(seal["e_seal_info"].dump())
    info["picture"]["data"] = b"\x89PNG other"
    forged = asn1.SESeal({"e_seal_info": info, "cert": seal["cert"].native,
                          "sign_alg_id": seal["sign_alg_id"].dotted,
                          "signed_value": stranger.sign(info.dump())}).dump()
    r = verify_seal(forged, at=S.LATER, trust=S.trust())
    assert S.failed(r) == {"seal.signature": "SIG_CRYPTO_FAILURE"}


def test_wrong_algorithm_for_key(seal_der):
    seal = asn1.SESeal.load(seal_der)
    bad = asn1.SESeal({"e_seal_info": asn1.SealInfo.load(seal["e_seal_info"].dump()),
                       "cert": seal["cert"].native, "sign_alg_id": "1.2.840.113549.1.1.11",
                       "signed_value": seal["signed_value"].native}).dump()
    r = verify_seal(bad, at=S.LATER, trust=S.trust())
    assert not r.check("seal.signature").passed and r.indication != TOTAL_PASSED


def test_unknown_critical_extension_fails_format():
    der = S.seal(extensions=[("1.2.3.4.5", True, b"must understand")])
    r = verify_seal(der, at=S.LATER, trust=S.trust())
    assert S.failed(r) == {"seal.format": "FORMAT_FAILURE"}


def test_timestamped_signature():
    tsa_cred = S.keystore().credential("sh", "tsa", "sm2")
    tsa = TimeStampAuthority(tsa_cred.key, tsa_cred.cert, tsa_cred.chain, clock=lambda: S.T0)
    from signing.seal.build import tsa_timestamper

    der = S.signature(timestamper=tsa_timestamper(tsa))
    r = verify_signature(der, at=S.LATER, trust=S.trust(), data=S.DOCUMENT)
    assert r.indication == TOTAL_PASSED, r.to_text()
    assert r.check("signature.timestamp").passed
    # The token must be over *this* signature: graft it onto another signature.
    other = S.signature(timestamper=tsa_timestamper(tsa), data=b"x")
    token = asn1.SESSignature.load(other)["time_stamp"].native
    mixed = asn1.SESSignature.load(der)
    grafted = asn1.SESSignature({"to_sign": asn1.TBSSign.load(mixed["to_sign"].dump()),
                                 "cert": mixed["cert"].native,
                                 "signature_alg_id": mixed["signature_alg_id"].dotted,
                                 "signature": mixed["signature"].native,
                                 "time_stamp": token}).dump()
    r = verify_signature(grafted, at=S.LATER, trust=S.trust(), data=S.DOCUMENT)
    assert S.failed(r) == {"signature.timestamp": "HASH_FAILURE"}
    # An untrusted TSA is INDETERMINATE.
    r = verify_signature(der, at=S.LATER, trust=_without_tsa_roots(),
                         data=S.DOCUMENT)
    assert S.failed(r) == {"signature.timestamp": "NO_CERTIFICATE_CHAIN_FOUND"}


def _without_tsa_roots():
    t = S.trust()
    t.tsa_roots = []
    return t


def test_naive_time_is_refused(seal_der):
    with pytest.raises(ValueError):
        verify_seal(seal_der, at=S.T0.replace(tzinfo=None))

"""Making v4 seals and SES_Signatures: strict DER, what gets signed, what is refused."""

from datetime import timedelta

import pytest
from asn1crypto import core

from formats import algorithms as alg
from formats.der import children as der_children, read as read_element
from signing.seal import SealBuildError, SealCredential, make_seal, new_seal_id, sign_document
from tests.support import seal as S
from formats.seal import asn1
from formats.seal.parse import parse_seal, parse_signature


def children(der: bytes) -> list[bytes]:
    """The encoded elements inside a SEQUENCE."""
    return [e.raw for e in der_children(read_element(der, whole=False).contents)]


def test_seal_round_trip_and_maker_signs_seal_info():
    der = S.seal()
    seal = parse_seal(der)
    assert (seal.family, seal.version, seal.name, seal.seal_type) == ("v4", 4, "合同专用章", 3)
    assert seal.certs == (S.signer().cert.dump(),) and seal.cert_list_type == 1
    assert seal.valid_end - seal.valid_start == timedelta(days=365)
    assert seal.picture == S.picture().data and seal.picture_type == "PNG"
    assert (seal.width_mm, seal.height_mm) == (42, 42)
    assert seal.notes == ()
    # The maker signed exactly DER(SES_SealInfo), the first element, with the default SM2 ID.
    info = asn1.SESeal.load(der)["e_seal_info"]
    assert seal.signed_bytes == info.dump() == asn1.SealInfo.load(info.dump()).dump(force=True)
    S.maker().key.public_key.verify(seal.signature, seal.signed_bytes)
    # Strict DER: re-encoding from the schema gives the same bytes.
    assert asn1.SESeal.load(der).dump(force=True) == der


def test_signature_round_trip_embeds_exact_seal():
    seal_der = S.seal()
    der = S.signature(seal_der)
    sig = parse_signature(der)
    assert sig.family == "v4" and sig.version == 4
    assert sig.seal.der == seal_der  # ofdrw checks Seal.esl == DER(TBS_Sign.eseal)
    assert sig.data_hash == alg.sm3(S.DOCUMENT)
    assert sig.property_info == "contract.pdf" and sig.time_info == S.T0
    S.signer().key.public_key.verify(sig.signature, sig.signed_bytes)
    assert asn1.SESSignature.load(der).dump(force=True) == der


def test_extensions_strict_der_critical_omitted_and_tbs_tagged():
    ext = [("1.2.156.112562.1.1", False, b"\x04\x01x"), ("1.2.156.112562.1.2", True, b"y")]
    seal_der = S.seal(extensions=ext)
    info = asn1.SESeal.load(seal_der)["e_seal_info"]
    raw = info["ext_datas"].dump()
    assert raw[0] == 0x30  # untagged in SES_SealInfo
    first, second = children(raw)
    assert len(children(first)) == 2  # critical FALSE is not encoded (DEFAULT FALSE)
    assert children(second)[1] == b"\x01\x01\xff"
    assert parse_seal(seal_der).notes == ()
    der = S.signature(seal_der, extensions=[("1.2.3.4", False, b"z")])
    tbs = asn1.SESSignature.load(der)["to_sign"].dump()
    ext_datas = children(tbs)[-1]
    assert ext_datas[0] == 0xA0 and ext_datas[2] == 0x30  # [0] EXPLICIT in TBS_Sign
    assert parse_signature(der).extensions[0].oid == "1.2.3.4"


def test_cert_digest_list():
    seal = parse_seal(S.seal(cert_digests=True))
    assert seal.cert_list_type == 2 and seal.certs == ()
    assert seal.cert_digests == (("sm3", alg.sm3(S.signer().cert.dump())),)
    assert seal.lists_signer(S.signer().cert.dump())
    assert not seal.lists_signer(S.signer(index=1).cert.dump())
    parse_signature(S.signature(S.seal(cert_digests=True)))  # listed by digest: accepted


def test_rsa_signer_listed_in_same_seal():
    rsa = S.signer(algorithm="rsa")
    seal_der = S.seal(signers=[S.signer(), rsa])
    sig = parse_signature(S.signature(seal_der, cred=rsa))
    assert sig.signature_algorithm == "1.2.840.113549.1.1.11"
    assert sig.data_hash == alg.sha256(S.DOCUMENT)
    rsa.key.public_key.verify(sig.signature, sig.signed_bytes)


def test_refuses_signer_not_listed():
    with pytest.raises(SealBuildError) as e:
        S.signature(S.seal(), cred=S.signer(index=1))
    assert "证书列表" in e.value.message_zh


def test_refuses_time_outside_validity():
    with pytest.raises(SealBuildError):
        S.signature(S.seal(valid_days=10), time=S.T0 + timedelta(days=11))
    with pytest.raises(SealBuildError):
        S.signature(S.seal(), time=S.T0 - timedelta(seconds=1))


def test_refuses_mismatched_keys_and_bad_inputs():
    m, other = S.maker(), S.maker("js")
    kw = dict(es_id=new_seal_id(), name="x", seal_type=1, picture=S.picture(),
              signer_certs=[S.signer().cert], valid_start=S.T0,
              valid_end=S.T0 + timedelta(days=1), created=S.T0)
    with pytest.raises(SealBuildError):
        make_seal(maker_key=other.key, maker_cert=m.cert, **kw)
    with pytest.raises(SealBuildError):
        make_seal(maker_key=m.key, maker_cert=m.cert, **{**kw, "signer_certs": []})
    with pytest.raises(SealBuildError):
        make_seal(maker_key=m.key, maker_cert=m.cert, **{**kw, "valid_end": S.T0})
    with pytest.raises(SealBuildError):
        make_seal(maker_key=m.key, maker_cert=m.cert, **{**kw, "es_id": "印章"})
    with pytest.raises(SealBuildError):
        make_seal(maker_key=m.key, maker_cert=b"not a cert", **kw)
    with pytest.raises(SealBuildError):
        make_seal(maker_key=m.key, maker_cert=m.cert, **{**kw, "created": S.T0.replace(tzinfo=None)})
    with pytest.raises(SealBuildError):
        sign_document(seal_der=S.seal(), signer_key=S.signer(index=1).key,
                      signer_cert=S.signer().cert, property_info="x", time=S.T0, data=b"x")
    with pytest.raises(SealBuildError):
        sign_document(seal_der=b"\x30\x00", signer_key=S.signer().key,
                      signer_cert=S.signer().cert, property_info="x", time=S.T0, data=b"x")
    with pytest.raises(SealBuildError):  # neither or both of data / data_hash
        S.signature(data=None)


def test_sign_with_precomputed_hash():
    h = alg.sm3(b"big file")
    der = sign_document(seal_der=S.seal(), signer_key=S.signer().key,
                        signer_cert=S.signer().cert, property_info="big.bin", time=S.T0,
                        data_hash=h)
    assert parse_signature(der).data_hash == h


def test_seal_credential():
    der = S.seal()
    cred = SealCredential.from_der(der)
    assert cred.seal_der == der and cred.picture == S.picture().data
    assert cred.picture_type == "PNG" and (cred.width_mm, cred.height_mm) == (42, 42)
    assert cred.seal_id == parse_seal(der).es_id and len(cred.seal_id) == 32


def test_generalized_time_has_no_fraction():
    seal_der = make_seal(maker_key=S.maker().key, maker_cert=S.maker().cert, es_id="abc",
                         name="章", seal_type=1, picture=S.picture(),
                         signer_certs=[S.signer().cert],
                         valid_start=S.T0.replace(microsecond=123456),
                         valid_end=S.T0 + timedelta(days=2), created=S.T0)
    prop = asn1.SESeal.load(seal_der)["e_seal_info"]["property"]
    assert prop["valid_start"].dump() == core.GeneralizedTime(S.T0).dump()
    assert prop["valid_start"].dump()[2:] == b"20261122080000Z"

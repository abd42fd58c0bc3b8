"""Certificate and CRL building: structure, extensions, signatures, parsing errors."""
from datetime import datetime, timedelta, timezone

import pytest
from asn1crypto import pem, x509
from hypothesis import HealthCheck, given, settings, strategies as st

from formats import algorithms as alg
from formats import oids
from formats.certs import CertificateFormatError, load_certificate, load_certificates, load_crl
from formats.errors import SigningError
from signing.x509 import (
    build_certificate, build_crl, build_name, certificate_summary, dump_pem, is_valid_uscc,
    key_identifier, uscc,
)

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def sm2_pki():
    rk, ck, lk = (alg.generate_private_key("sm2") for _ in range(3))
    root = build_certificate(subject=build_name("测试根CA", organization="上海市大数据中心"),
                             subject_public_key=rk.public_key, issuer_key=rk, not_before=T0,
                             not_after=T0 + timedelta(days=7300), ca=True, path_length=1)
    ca = build_certificate(subject=build_name("测试签发CA"), subject_public_key=ck.public_key,
                           issuer_key=rk, issuer_cert=root, not_before=T0,
                           not_after=T0 + timedelta(days=3650), ca=True, path_length=0)
    leaf = build_certificate(
        subject=build_name("签名", organization="上海市市场监督管理局", org_code=uscc("11310000MB0000010"),
                           province="上海市"),
        subject_public_key=lk.public_key, issuer_key=ck, issuer_cert=ca, not_before=T0,
        not_after=T0 + timedelta(days=1826), key_usage={"digital_signature", "non_repudiation"},
        extended_key_usage=["time_stamping"], eku_critical=True)
    return {"root": (root, rk), "ca": (ca, ck), "leaf": (leaf, lk)}


def _ext(cert, name):
    return next(e for e in cert["tbs_certificate"]["extensions"] if e["extn_id"].native == name)


def _verify(cert, issuer_key):
    issuer_key.public_key.verify(cert["signature_value"].native, cert["tbs_certificate"].dump())


def test_uscc_check_character():
    # The worked example of GB 32100-2015 and codes from the dev PKI.
    assert uscc("91350100M000100Y4") == "91350100M000100Y43"
    assert is_valid_uscc("91350100M000100Y43")
    assert not is_valid_uscc("91350100M000100Y44")
    assert not is_valid_uscc("91350100M000100Y4")
    assert not is_valid_uscc("9135010OM000100Y43")  # letter O is not in the alphabet
    with pytest.raises(ValueError):
        uscc("too short")


def test_sm2_chain_signatures_and_algorithms(sm2_pki):
    root, rk = sm2_pki["root"]
    ca, ck = sm2_pki["ca"]
    leaf, lk = sm2_pki["leaf"]
    _verify(root, rk)
    _verify(ca, rk)
    _verify(leaf, ck)
    with pytest.raises(alg.InvalidSignature):
        _verify(leaf, rk)
    for c in (root, ca, leaf):
        assert c["signature_algorithm"]["algorithm"].dotted == oids.SM2_WITH_SM3
        assert c["tbs_certificate"]["signature"].dump() == c["signature_algorithm"].dump()
        assert c["signature_algorithm"]["parameters"].native is None
        assert c["tbs_certificate"]["version"].native == "v3"


def test_extensions(sm2_pki):
    root, _ = sm2_pki["root"]
    ca, _ = sm2_pki["ca"]
    leaf, _ = sm2_pki["leaf"]
    assert root.self_signed == "maybe" or root.self_signed == "yes"
    assert _ext(root, "basic_constraints")["critical"].native is True
    assert root.ca and root.max_path_length == 1
    assert ca.ca and ca.max_path_length == 0
    assert not leaf.ca
    assert set(ca.key_usage_value.native) == {"key_cert_sign", "crl_sign"}
    assert _ext(leaf, "key_usage")["critical"].native is True
    assert set(leaf.key_usage_value.native) == {"digital_signature", "non_repudiation"}
    eku = _ext(leaf, "extended_key_usage")
    assert eku["critical"].native is True and eku["extn_value"].native == ["time_stamping"]
    # SKI/AKI link each certificate to its issuer's key.
    assert leaf.authority_key_identifier == ca.key_identifier
    assert ca.authority_key_identifier == root.key_identifier == root.key_identifier_value.native
    assert leaf.key_identifier == key_identifier(leaf.public_key)


def test_chinese_names_are_utf8_and_carry_uscc(sm2_pki):
    leaf, _ = sm2_pki["leaf"]
    types = {}
    for rdn in leaf.subject.chosen:
        for atv in rdn:
            types[atv["type"].native] = atv["value"].name
    assert types["organization_name"] == "utf8_string"
    assert types["common_name"] == "utf8_string"
    assert types["country_name"] == "printable_string"
    s = certificate_summary(leaf)
    assert s["org_name"] == "上海市市场监督管理局"
    assert s["org_code"] == uscc("11310000MB0000010") and is_valid_uscc(s["org_code"])
    assert s["key_algorithm"] == "sm2" and s["extended_key_usage"] == ["time_stamping"]


def test_rsa_certificate_sha256_with_rsa():
    rk = alg.generate_private_key("rsa")
    root = build_certificate(subject=build_name("RSA Root"), subject_public_key=rk.public_key,
                             issuer_key=rk, not_before=T0, not_after=T0 + timedelta(days=30), ca=True)
    assert root["signature_algorithm"]["algorithm"].native == "sha256_rsa"
    assert root["signature_algorithm"]["parameters"].native is None  # explicit NULL
    assert root["signature_algorithm"]["parameters"].dump() == b"\x05\x00"
    _verify(root, rk)
    assert certificate_summary(root)["key_algorithm"] == "rsa"


def test_times_use_generalized_time_from_2050():
    k = alg.generate_private_key("sm2")
    c = build_certificate(subject=build_name("long"), subject_public_key=k.public_key, issuer_key=k,
                          not_before=T0, not_after=datetime(2056, 1, 1, tzinfo=timezone.utc), ca=True)
    v = c["tbs_certificate"]["validity"]
    assert v["not_before"].name == "utc_time" and v["not_after"].name == "general_time"


def test_builder_refuses_inconsistent_requests(sm2_pki):
    root, rk = sm2_pki["root"]
    leaf, lk = sm2_pki["leaf"]
    other = alg.generate_private_key("sm2")
    kw = dict(subject=build_name("x"), subject_public_key=other.public_key,
              not_before=T0, not_after=T0 + timedelta(days=1))
    with pytest.raises(SigningError):  # key does not match issuer certificate
        build_certificate(issuer_key=other, issuer_cert=root, **kw)
    with pytest.raises(SigningError):  # issuer is not a CA
        build_certificate(issuer_key=lk, issuer_cert=leaf, **kw)
    with pytest.raises(SigningError):  # self-signed with somebody else's key
        build_certificate(issuer_key=rk, **kw)
    with pytest.raises(SigningError):  # naive time
        build_certificate(issuer_key=rk, issuer_cert=root, subject=build_name("x"),
                          subject_public_key=other.public_key, not_before=datetime(2026, 1, 1),
                          not_after=datetime(2027, 1, 1))
    with pytest.raises(SigningError):  # notAfter before notBefore
        build_certificate(issuer_key=rk, issuer_cert=root, subject=build_name("x"),
                          subject_public_key=other.public_key, not_before=T0, not_after=T0)


def test_crl_roundtrip(sm2_pki):
    ca, ck = sm2_pki["ca"]
    leaf, _ = sm2_pki["leaf"]
    crl = build_crl(ca, ck, [(leaf.serial_number, T0 + timedelta(days=2), "key_compromise")],
                    this_update=T0, next_update=T0 + timedelta(days=30), crl_number=7)
    parsed = load_crl(dump_pem(crl))
    ck.public_key.verify(parsed["signature"].native, parsed["tbs_cert_list"].dump())
    entry = parsed["tbs_cert_list"]["revoked_certificates"][0]
    assert entry["user_certificate"].native == leaf.serial_number
    assert entry.crl_reason_value.native == "key_compromise"
    assert parsed.crl_number_value.native == 7
    assert parsed.authority_key_identifier == ca.key_identifier
    assert parsed.issuer == ca.subject
    empty = build_crl(ca, ck, [], this_update=T0, next_update=T0 + timedelta(days=1))
    assert len(load_crl(empty.dump())["tbs_cert_list"]["revoked_certificates"]) == 0
    with pytest.raises(SigningError):
        build_crl(ca, sm2_pki["root"][1], [], this_update=T0, next_update=T0 + timedelta(days=1))
    with pytest.raises(SigningError):
        build_crl(ca, ck, [(1, T0, "bored")], this_update=T0, next_update=T0 + timedelta(days=1))


def test_load_pem_der_and_bundle(sm2_pki):
    root, _ = sm2_pki["root"]
    ca, _ = sm2_pki["ca"]
    assert load_certificate(root.dump()).dump() == root.dump()
    assert load_certificate(dump_pem(root)).dump() == root.dump()
    bundle = dump_pem(root) + dump_pem(ca)
    assert [c.dump() for c in load_certificates(bundle)] == [root.dump(), ca.dump()]
    with pytest.raises(CertificateFormatError):
        load_certificate(bundle)  # two where one is expected
    with pytest.raises(CertificateFormatError) as info:
        load_certificate(pem.armor("PRIVATE KEY", b"\x30\x00"))
    assert "PEM" in info.value.message_zh


def test_malformed_input_gives_bilingual_error():
    with pytest.raises(CertificateFormatError) as info:
        load_certificate(b"\x30\x82\x01")
    assert info.value.message_zh != info.value.message_en and "证书" in info.value.message_zh
    with pytest.raises(CertificateFormatError):
        load_crl(b"not a crl at all")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_mutated_der_never_crashes_the_parser(sm2_pki, data):
    der = bytearray(sm2_pki["leaf"][0].dump())
    cut = data.draw(st.integers(0, len(der)))
    mode = data.draw(st.sampled_from(["truncate", "flip", "insert"]))
    if mode == "truncate":
        mutated = bytes(der[:cut])
    elif mode == "flip":
        i = min(cut, len(der) - 1)
        der[i] ^= data.draw(st.integers(1, 255))
        mutated = bytes(der)
    else:
        mutated = bytes(der[:cut]) + data.draw(st.binary(min_size=1, max_size=8)) + bytes(der[cut:])
    try:
        cert = load_certificate(mutated)
    except CertificateFormatError:
        return
    assert isinstance(cert, x509.Certificate)
    certificate_summary(cert)  # a parsed certificate must also summarise without error

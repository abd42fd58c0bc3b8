"""A third algorithm is one registry entry plus its key backend: with an Ed25519 spec registered
(and nothing else changed), signed envelopes, EL1 QR codes and GB/T 38540 seal signatures are
made and verified with it, and tampering still fails.  The registry's acceptance test."""

import zlib
from datetime import datetime, timedelta, timezone

import base45
import cbor2

import pytest
from cryptography.exceptions import InvalidSignature as PycaInvalid
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from formats import algorithms as alg
from formats.algorithms import registry
from formats.algorithms.spec import AlgorithmSpec, KeyBackend
from formats.cose import sig_structure
from formats.envelope import sign_envelope, verify_envelope
from formats.errors import InvalidSignature
from signing.qr import credentials
from signing.seal import SEAL_TYPE_SPECIAL, make_seal, new_seal_id, sign_document
from signing.seal.picture import render_round_seal
from signing.x509 import build_certificate, build_name
from verification import qr as vqr
from verification.report import TOTAL_FAILED, TOTAL_PASSED
from verification.seal import SealTrust, verify_signature

ED25519_OID = "1.3.101.112"
NOW = datetime(2026, 3, 1, 8, 0, tzinfo=timezone.utc)
ORG = "11310000MB0000010A"


class EdPublic:
    algorithm = "ed25519"

    def __init__(self, pyca):
        self.pyca = pyca

    def spki_der(self):
        return self.pyca.public_bytes(serialization.Encoding.DER,
                                      serialization.PublicFormat.SubjectPublicKeyInfo)

    def verify(self, signature, message):
        try:
            self.pyca.verify(bytes(signature), bytes(message))
        except PycaInvalid:
            raise InvalidSignature() from None

    def verify_digest(self, signature, digest):
        raise InvalidSignature("Ed25519 signs messages, not digests", "Ed25519 不对摘要签名")

    def max_signature_size(self):
        return 64

    def __eq__(self, other):
        return isinstance(other, EdPublic) and self.spki_der() == other.spki_der()


class EdPrivate:
    algorithm = "ed25519"

    def __init__(self, pyca):
        self.pyca = pyca
        self.public_key = EdPublic(pyca.public_key())

    def sign(self, message):
        return self.pyca.sign(bytes(message))

    def sign_digest(self, digest):
        raise InvalidSignature("Ed25519 signs messages, not digests", "Ed25519 不对摘要签名")

    def pkcs8_der(self):
        return self.pyca.private_bytes(serialization.Encoding.DER,
                                       serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption())


def _is_ed25519(algorithm_id):
    return algorithm_id["algorithm"].dotted == ED25519_OID


ED25519 = AlgorithmSpec(
    name="ed25519", label="Ed25519", signature_oid=ED25519_OID,
    signature_oids=frozenset({ED25519_OID}), signature_params_null=False,
    signed_digest_name="ed25519", digest_name="sha256", digest_oid="2.16.840.1.101.3.4.2.1",
    digest=alg.sha256, cose_alg=-8, cose_label="EdDSA", envelope_alg="EdDSA",
    cose_sign=lambda key, message: key.sign(message),
    cose_verify=lambda key, signature, message: key.verify(signature, message),
    backend=KeyBackend(
        accepts_spki=_is_ed25519,
        load_public=lambda info, backend=None: EdPublic(
            serialization.load_der_public_key(info.dump())),
        accepts_pkcs8=_is_ed25519,
        load_private=lambda info, der, backend=None: EdPrivate(
            serialization.load_der_private_key(der, None)),
        generate=lambda **_: EdPrivate(ed25519.Ed25519PrivateKey.generate()),
        dump_private=lambda key, passphrase: key.pyca.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(passphrase))),
)


def toy_spec():
    return registry.by_name("ed25519")


@pytest.fixture(scope="module")
def toy():
    registry.register(ED25519)
    try:
        yield ED25519
    finally:
        registry.unregister(ED25519.name)


@pytest.fixture(scope="module")
def pki(toy):
    """A root CA, a seal maker and a licence signer, all Ed25519."""
    start, end = NOW - timedelta(days=30), NOW + timedelta(days=365)
    root_key = alg.generate_private_key("ed25519")
    root = build_certificate(subject=build_name("玩具根 CA", organization="测试"), subject_public_key=root_key.public_key,
                             issuer_key=root_key, not_before=start, not_after=end, ca=True)

    def leaf(cn):
        key = alg.generate_private_key("ed25519")
        cert = build_certificate(subject=build_name(cn, organization="测试", org_code=ORG),
                                 subject_public_key=key.public_key, issuer_key=root_key,
                                 issuer_cert=root, not_before=start, not_after=end,
                                 key_usage={"digital_signature", "non_repudiation"})
        return key, cert

    return root, leaf("玩具制章者"), leaf("玩具签章者")


def test_keys_round_trip_through_the_generic_loaders(toy):
    key = alg.generate_private_key("ed25519")
    again = alg.load_private_key(alg.dump_private_key(key))
    assert again.public_key == key.public_key
    assert alg.load_public_key(key.public_key.spki_der()) == key.public_key
    assert alg.signature_algorithm_oid(key) == ED25519_OID


def test_signed_envelope(pki):
    _root, _maker, (key, cert) = pki
    env = sign_envelope({"schema": "toy/1", "n": 1}, key, cert)
    assert env["signature"]["alg"] == "EdDSA"
    assert verify_envelope(env).dump() == cert.dump()
    env["payload"]["n"] = 2
    with pytest.raises(InvalidSignature):
        verify_envelope(env)


def test_el1_qr_code(pki):
    _root, _maker, (key, cert) = pki
    record = {
        "identifier": "1.2.156.3005.2.11100000MB0000001T001.11310000MB0000010A.ABCDEFGHJK0123456789.001.X",
        "type_code": "11100000MB0000001T001", "number": "SH2026000000000001",
        "holders": [{"name": "上海示例科技有限公司", "code": "91310000MA00000012", "code_type": "001"}],
        "issuer": {"name": "测试", "code": ORG}, "valid_from": "2026-01-15",
        "valid_until": "2030-01-14", "region": "sh", "version": 1}
    text = credentials.el1_for_record(record, {}, key, cert.dump(), now=NOW)
    trust = vqr.QrTrust([vqr.QrSigner(cert.dump(), vqr.ROLE_LICENCE_SIGNER, "sh", ORG, "测试")])
    r = vqr.verify_qr_text(text, trust, NOW + timedelta(minutes=1))
    assert r.indication == TOTAL_PASSED, r.to_text()
    assert r.check("el1.signature").detail == "EdDSA"
    # the real kid over claims signed by another Ed25519 key fails on the signature
    obj = cbor2.loads(zlib.decompress(base45.b45decode(text[4:])))
    protected, _, payload, _ = obj.value
    other = alg.generate_private_key("ed25519")
    forged = cbor2.dumps(cbor2.CBORTag(18, [protected, {}, payload,
                                            toy_spec().cose_sign(other, sig_structure(protected, payload))]))
    r = vqr.verify_qr_text("EL1:" + base45.b45encode(zlib.compress(forged)).decode(), trust,
                           NOW + timedelta(minutes=1))
    assert (r.indication, r.sub_indication) == (TOTAL_FAILED, "SIG_CRYPTO_FAILURE")


def test_seal_signature(pki):
    root, (maker_key, maker_cert), (key, cert) = pki
    picture = render_round_seal("测试单位", "合同专用章", px_per_mm=4)
    seal = make_seal(maker_key=maker_key, maker_cert=maker_cert, es_id=new_seal_id(),
                     name="合同专用章", seal_type=SEAL_TYPE_SPECIAL,
                     picture=picture,
                     signer_certs=[cert], valid_start=NOW - timedelta(days=1),
                     valid_end=NOW + timedelta(days=300), created=NOW - timedelta(days=1))
    document = "玩具文件 / a toy document".encode()
    sig = sign_document(seal_der=seal, signer_key=key, signer_cert=cert,
                        property_info="toy.txt", time=NOW, data=document)
    trust = SealTrust(seal_maker_roots=[root], signer_roots=[root], tsa_roots=[root])
    r = verify_signature(sig, at=NOW + timedelta(hours=1), trust=trust, data=document)
    assert r.indication == TOTAL_PASSED, r.to_text()
    r = verify_signature(sig, at=NOW + timedelta(hours=1), trust=trust, data=document + b"!")
    assert r.indication == TOTAL_FAILED and not r.check("signature.data_hash").passed


def test_unregistered_it_is_refused(pki):
    _root, _maker, (key, cert) = pki
    env = sign_envelope({"schema": "toy/1"}, key, cert)
    registry.unregister("ed25519")
    try:
        with pytest.raises(InvalidSignature):
            verify_envelope(env)
    finally:
        registry.register(ED25519)

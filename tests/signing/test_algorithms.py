"""The algorithm layer against published vectors, hostile inputs and itself across backends.

Other implementations (OpenSSL CLI, pure-Python gmssl as a signer, GmSSL via gmssl_pyx) are
in tests/interop/test_sm2_interop.py.
"""

import random
import secrets

import pytest
from asn1crypto import keys, pem
from cryptography.hazmat.primitives import hashes as pyca_hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec as pyca_ec, rsa as pyca_rsa
from hypothesis import HealthCheck, given, settings, strategies as st

from formats import algorithms as alg, oids
from formats.algorithms import sm2
from formats.errors import (InvalidSignature, KeyFormatError, SigningError,
                            UnsupportedAlgorithm)

BACKENDS = sm2.BACKENDS
N = sm2.N

# -- published vectors ----------------------------------------------------------------------

# GB/T 32918.5-2017 (GM/T 0003.5-2012) Annex A, signature example on the recommended curve
# with the default ID; the same numbers are OpenSSL's test/sm2_internal_test.c test_sm2_sign().
KAT = dict(
    uid=b"1234567812345678",
    msg=b"message digest",
    d=0x3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8,
    x=0x09F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020,
    y=0xCCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13,
    z="B2E14C5C79C6DF5B85F4FE7ED8DB7A262B9DA7E07CCB0EA9F4747B8CCDA8A4F3",
    e="F0B43E94BA45ACCAACE692ED534382EB17E6AB5A19CE7B31F4486FDFC0D28640",
    k=0x59276E27D506861A16680F3AD9C02DCCEF3CC1FA3CDBE4CE6D54B80DEAC1BC21,
    r=0xF5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3,
    s=0xB1B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AA,
)

# OpenSSL test/recipes/30-test_evp_data/evppkey_sm2.txt: SM2_key1 and its "Verify" entries
# (EVP_PKEY_verify over the 32-byte Input as e, i.e. our verify_digest).
OPENSSL_SM2_KEY1 = b"""-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqBHM9VAYItBG0wawIBAQQg0JFWczAXva2An9m7
2MaT9gIwWTFptvlKrxyO4TjMmbWhRANCAAQ5OirZ4n5DrKqrhaGdO4VZHhRAYVcX
Wt3Te/d/8Mr57Tf886i09VwDhSMmH8pmNq/mp6+ioUgqYG9cs6GLLioe
-----END PRIVATE KEY-----
"""
OPENSSL_VERIFY_VECTORS = [
    ("D7AD397F6FFA5D4F7F11E7217F241607DC30618C236D2C09C1B9EA8FDADEE2E8",
     "3046022100AB1DB64DE7C40EDBDE6651C9B8EBDB804673DB836E5D5C7FE15DCF9ED2725037022100EBA71445"
     "1FF69B0BB930B379E192E7CD5FA6E3C41C7FBD8303B799AB54A54621"),
    ("B1139602C6ECC9E15E2F3F9C635A1AFE737058BC15387479C1EA0D0B3D90E9E5",
     "3045022100E6E0414EBD3A656C35602AF14AB20287DBF30D57AF75C49A188ED4B42391F22402202F54F277C6"
     "06F4605E1CE9514947FFDDF94C67A539804A4ED17F852288BDBE2E"),
]


def test_sm3_standard_vectors():
    # GB/T 32905-2016 Annex A examples 1 and 2.
    assert alg.sm3(b"abc").hex() == \
        "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    assert alg.sm3(b"abcd" * 16).hex() == \
        "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"
    assert alg.sha256(b"abc").hex() == \
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    with pytest.raises(UnsupportedAlgorithm):
        alg.digest("md5", b"abc")


@pytest.mark.parametrize("backend", BACKENDS)
def test_kat_key_z_and_e(backend):
    key = sm2.SM2PrivateKey(KAT["d"], backend)
    assert (key.public_key.x, key.public_key.y) == (KAT["x"], KAT["y"])
    assert alg.z_value(KAT["x"], KAT["y"], KAT["uid"]).hex().upper() == KAT["z"]
    assert key.public_key.e_value(KAT["msg"]).hex().upper() == KAT["e"]


def test_kat_deterministic_signature_with_the_vector_nonce():
    """Production code has no fixed-nonce API; gmssl's sign(e, K) reproduces the vector here."""
    from gmssl import sm2 as gm

    c = gm.CryptSM2(private_key="%064x" % KAT["d"], public_key="00")
    c.public_key = "%064x%064x" % (KAT["x"], KAT["y"])
    out = c.sign(bytes.fromhex(KAT["e"]), "%064x" % KAT["k"])
    assert (int(out[:64], 16), int(out[64:], 16)) == (KAT["r"], KAT["s"])


@pytest.mark.parametrize("backend", BACKENDS)
def test_kat_signature_verifies_with_both_backends(backend):
    pub = sm2.SM2PublicKey(KAT["x"], KAT["y"], backend)
    sig = sm2.encode_signature(KAT["r"], KAT["s"])
    pub.verify(sig, KAT["msg"])
    pub.verify_digest(sig, bytes.fromhex(KAT["e"]))
    with pytest.raises(InvalidSignature):
        pub.verify(sig, b"message digesT")
    with pytest.raises(InvalidSignature):
        pub.verify(sig, KAT["msg"], uid=b"ALICE123@YAHOO.COM")
    with pytest.raises(InvalidSignature):
        pub.verify(sm2.encode_signature(KAT["r"], KAT["s"] + 1), KAT["msg"])


@pytest.mark.parametrize("backend", BACKENDS)
def test_openssl_evp_test_vectors(backend):
    key = alg.load_private_key(OPENSSL_SM2_KEY1, sm2_backend=backend)
    for e_hex, sig_hex in OPENSSL_VERIFY_VECTORS:
        key.public_key.verify_digest(bytes.fromhex(sig_hex), bytes.fromhex(e_hex))
    e0, sig0 = OPENSSL_VERIFY_VECTORS[0]
    _, sig1 = OPENSSL_VERIFY_VECTORS[1]
    with pytest.raises(InvalidSignature):
        key.public_key.verify_digest(bytes.fromhex(sig1), bytes.fromhex(e0))
    with pytest.raises(InvalidSignature):
        key.public_key.verify_digest(bytes.fromhex(sig0), bytes(32))


# -- our own round trips ---------------------------------------------------------------------

@pytest.fixture(scope="module", params=BACKENDS)
def sm2_key(request):
    return alg.generate_private_key("sm2", sm2_backend=request.param)


@pytest.fixture(scope="module")
def rsa_key():
    return alg.generate_private_key("rsa")


def _other(backend):
    return BACKENDS[1 - BACKENDS.index(backend)]


def test_round_trip_and_cross_backend(sm2_key):
    msg = "电子证照 licence".encode()
    sig = sm2_key.sign(msg)
    sm2_key.public_key.verify(sig, msg)
    other = alg.load_public_key(sm2_key.public_key.spki_der(), sm2_backend=_other(sm2_key.backend))
    assert other.backend != sm2_key.backend and other == sm2_key.public_key
    other.verify(sig, msg)
    other_key = sm2.SM2PrivateKey(sm2_key.d, _other(sm2_key.backend))
    sm2_key.public_key.verify(other_key.sign(msg), msg)


def test_sign_digest_matches_sign(sm2_key):
    msg = b"CMS signed attributes"
    e = sm2_key.public_key.e_value(msg)
    assert e == alg.sm3(alg.z_value(sm2_key.public_key.x, sm2_key.public_key.y) + msg)
    sm2_key.public_key.verify(sm2_key.sign_digest(e), msg)
    sm2_key.public_key.verify_digest(sm2_key.sign(msg), e)
    with pytest.raises(SigningError):
        sm2_key.sign_digest(e[:31])
    with pytest.raises(InvalidSignature):
        sm2_key.public_key.verify_digest(sm2_key.sign(msg), e + b"\x00")


def test_non_default_uid(sm2_key):
    uid = b"ALICE123@YAHOO.COM"
    sig = sm2_key.sign(b"m", uid=uid)
    sm2_key.public_key.verify(sig, b"m", uid=uid)
    sm2.SM2PublicKey(sm2_key.public_key.x, sm2_key.public_key.y,
                     _other(sm2_key.backend)).verify(sig, b"m", uid=uid)
    with pytest.raises(InvalidSignature):
        sm2_key.public_key.verify(sig, b"m")
    with pytest.raises(SigningError):
        alg.z_value(1, 2, uid=b"x" * 8192)


def test_nonces_differ(sm2_key):
    sigs = {sm2_key.sign(b"same message") for _ in range(4)}
    assert len(sigs) == 4


def test_gmssl_backend_never_calls_random(monkeypatch):
    import gmssl.func
    import gmssl.sm2

    def forbidden(*_a, **_k):
        raise AssertionError("the `random` module was used for SM2")

    for mod, name in [(gmssl.func, "random_hex"), (gmssl.func, "choice"), (gmssl.sm2, "choice"),
                      (random, "choice"), (random, "random"), (random, "randint"),
                      (random, "randrange"), (random, "getrandbits"), (random, "randbytes")]:
        monkeypatch.setattr(mod, name, forbidden)
    key = alg.generate_private_key("sm2", sm2_backend="gmssl")
    sigs = {key.sign(b"m") for _ in range(2)}
    assert len(sigs) == 2
    for sig in sigs:
        key.public_key.verify(sig, b"m")


def test_backend_selection(monkeypatch):
    monkeypatch.setenv("LICENSE_SVC_SM2_BACKEND", "gmssl")
    assert alg.generate_private_key("sm2").backend == "gmssl"
    assert sm2.default_backend() == "gmssl"
    monkeypatch.setenv("LICENSE_SVC_SM2_BACKEND", "tongsuopy")
    assert alg.generate_private_key("sm2").public_key.backend == "tongsuopy"
    monkeypatch.setenv("LICENSE_SVC_SM2_BACKEND", "bouncycastle")
    with pytest.raises(SigningError):
        sm2.default_backend()
    monkeypatch.delenv("LICENSE_SVC_SM2_BACKEND")
    assert sm2.default_backend() == "tongsuopy"
    with pytest.raises(SigningError):
        sm2.SM2PublicKey(KAT["x"], KAT["y"], backend="openssl")
    with pytest.raises(UnsupportedAlgorithm):
        alg.generate_private_key("dsa")


def test_signature_algorithm_oids(sm2_key, rsa_key):
    assert alg.signature_algorithm_oid(sm2_key) == oids.SM2_WITH_SM3 == "1.2.156.10197.1.501"
    assert alg.signature_algorithm_oid(rsa_key.public_key) == "1.2.840.113549.1.1.11"


# -- SM2 negatives ---------------------------------------------------------------------------

def test_tampered_message_and_wrong_key(sm2_key):
    sig = sm2_key.sign(b"licence 1")
    with pytest.raises(InvalidSignature):
        sm2_key.public_key.verify(sig, b"licence 2")
    with pytest.raises(InvalidSignature):
        sm2_key.public_key.verify(sig, b"licence 1\x00")
    stranger = alg.generate_private_key("sm2", sm2_backend=sm2_key.backend)
    with pytest.raises(InvalidSignature):
        stranger.public_key.verify(sig, b"licence 1")


def test_every_signature_byte_position(sm2_key):
    """Header, lengths, tags, every r and s byte: any change fails, whichever field it hits."""
    msg = b"tamper me"
    sig = sm2_key.sign(msg)
    flips = (0x01, 0x80, 0xFF) if sm2_key.backend == "tongsuopy" else (0x01,)
    for pos in range(len(sig)):
        for flip in flips:
            bad = sig[:pos] + bytes([sig[pos] ^ flip]) + sig[pos + 1:]
            with pytest.raises(InvalidSignature):
                sm2_key.public_key.verify(bad, msg)
    for bad in (sig[:-1], sig + b"\x00", sig[:2], b""):
        with pytest.raises(InvalidSignature):
            sm2_key.public_key.verify(bad, msg)


def _reencodings(r: int, s: int) -> dict[str, bytes]:
    def integer(v: int, pad: int = 0, long_form: bool = False) -> bytes:
        body = b"\x00" * pad + v.to_bytes(v.bit_length() // 8 + 1, "big")
        return b"\x02" + (b"\x81" if long_form else b"") + bytes([len(body)]) + body

    def seq(body: bytes, long_form: bool = False) -> bytes:
        return b"\x30" + (b"\x81" if long_form else b"") + bytes([len(body)]) + body

    body = integer(r) + integer(s)
    return {
        "BER long-form SEQUENCE length": seq(body, long_form=True),
        "BER long-form INTEGER length": seq(integer(r, long_form=True) + integer(s)),
        "leading zero on r": seq(integer(r, pad=1) + integer(s)),
        "leading zero on s": seq(integer(r) + integer(s, pad=1)),
        "trailing bytes": seq(body) + b"\x00\x00",
        "indefinite length": b"\x30\x80" + body + b"\x00\x00",
        "raw r||s": r.to_bytes(32, "big") + s.to_bytes(32, "big"),
        "s replaced by s + n": sm2.encode_signature(r, s + N),
        "s replaced by n - s (negated)": sm2.encode_signature(r, N - s),
    }


def test_non_der_encodings_of_a_valid_signature(sm2_key):
    msg = b"canonical only"
    sig = sm2_key.sign(msg)
    r, s = sm2.decode_signature(sig)
    sm2_key.public_key.verify(sm2.encode_signature(r, s), msg)  # the canonical form passes
    for name, bad in _reencodings(r, s).items():
        with pytest.raises(InvalidSignature):
            sm2_key.public_key.verify(bad, msg)
        assert bad != sig, name


@pytest.mark.parametrize("backend", BACKENDS)
def test_degenerate_signatures(backend):
    """r, s = 0 or n; r + s = n (t = 0); and a crafted (r, s) with [s]G + [t]P = O, which only
    the key's owner can make and on which pure-Python gmssl would crash if not guarded."""
    key = sm2.SM2PrivateKey(KAT["d"], backend)
    e = key.public_key.e_value(b"m")
    d = key.d
    s = secrets.randbelow(N - 1) + 1
    t = (-s * pow(d, -1, N)) % N
    r = (t - s) % N
    assert (s + t * d) % N == 0 and r
    for rr, ss in [(r, s), (5, N - 5), (0, 1), (1, 0), (N, 1), (1, N)]:
        with pytest.raises(InvalidSignature):
            key.public_key.verify_digest(sm2.encode_signature(rr, ss), e)


def test_wrong_curve_keys_and_signatures(sm2_key):
    p256 = pyca_ec.generate_private_key(pyca_ec.SECP256R1())
    spki = p256.public_key().public_bytes(serialization.Encoding.DER,
                                          serialization.PublicFormat.SubjectPublicKeyInfo)
    pkcs8 = p256.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                               serialization.NoEncryption())
    with pytest.raises(KeyFormatError, match="SM2"):
        alg.load_public_key(spki)
    with pytest.raises(KeyFormatError, match="SM2"):
        alg.load_private_key(pkcs8)
    ecdsa = p256.sign(b"m", pyca_ec.ECDSA(pyca_hashes.SHA256()))  # valid DER, wrong algorithm
    with pytest.raises(InvalidSignature):
        sm2_key.public_key.verify(ecdsa, b"m")
    # The same P-256 point relabelled as SM2: not on the SM2 curve.
    info = keys.PublicKeyInfo.load(spki)
    relabelled = keys.PublicKeyInfo({
        "algorithm": {"algorithm": "ec", "parameters": keys.ECDomainParameters(
            name="named", value=oids.SM2_CURVE_NAME)},
        "public_key": info["public_key"].native}).dump()
    with pytest.raises(KeyFormatError, match="curve"):
        alg.load_public_key(relabelled)


# -- key loading -----------------------------------------------------------------------------

def test_load_and_dump(sm2_key, rsa_key):
    for key in (sm2_key, rsa_key):
        pem_bytes = alg.dump_private_key(key)
        assert pem_bytes.startswith(b"-----BEGIN PRIVATE KEY-----")
        for data in (pem_bytes, pem.unarmor(pem_bytes)[2]):
            again = alg.load_private_key(data)
            assert again.public_key == key.public_key
        spki = key.public_key.spki_der()
        assert alg.load_public_key(spki) == key.public_key
        assert alg.load_public_key(pem.armor("PUBLIC KEY", spki)) == key.public_key
        assert alg.load_public_key(keys.PublicKeyInfo.load(spki)) == key.public_key


@pytest.mark.parametrize("passphrase", ["口令 passphrase", b"\x00bytes"])
def test_encrypted_keys(sm2_key, rsa_key, passphrase):
    for key in (sm2_key, rsa_key):
        enc = alg.dump_private_key(key, passphrase)
        assert enc.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
        assert alg.load_private_key(enc, passphrase).public_key == key.public_key
        der = pem.unarmor(enc)[2]
        assert alg.load_private_key(der, passphrase).public_key == key.public_key
        with pytest.raises(KeyFormatError, match="passphrase"):
            alg.load_private_key(enc, "wrong")
        with pytest.raises(KeyFormatError, match="passphrase"):
            alg.load_private_key(enc)
        with pytest.raises(KeyFormatError, match="passphrase"):
            alg.load_private_key(alg.dump_private_key(key), passphrase)


def test_pbkdf2_cost_is_bounded(sm2_key):
    enc = keys.EncryptedPrivateKeyInfo.load(pem.unarmor(alg.dump_private_key(sm2_key, "pw"))[2])
    params = enc["encryption_algorithm"]["parameters"]["key_derivation_func"]["parameters"]
    params["iteration_count"] = 2**31
    with pytest.raises(KeyFormatError, match="iteration"):
        alg.load_private_key(enc.dump(force=True), "pw")


def _sm2_pkcs8(d: int, public_point: bytes | None, curve_in_ec_key: str | None = None) -> bytes:
    ec_key = {"version": "ecPrivkeyVer1", "private_key": d}
    if public_point is not None:
        ec_key["public_key"] = public_point
    if curve_in_ec_key is not None:
        ec_key["parameters"] = keys.ECDomainParameters(name="named", value=curve_in_ec_key)
    return keys.PrivateKeyInfo({
        "version": 0,
        "private_key_algorithm": {"algorithm": "ec", "parameters": keys.ECDomainParameters(
            name="named", value=oids.SM2_CURVE_NAME)},
        "private_key": keys.ECPrivateKey(ec_key),
    }).dump()


def test_pkcs8_consistency(sm2_key):
    stranger = alg.generate_private_key("sm2")
    with pytest.raises(KeyFormatError, match="does not match"):
        alg.load_private_key(_sm2_pkcs8(sm2_key.d, stranger.public_key.point))
    with pytest.raises(KeyFormatError, match="curve"):
        alg.load_private_key(_sm2_pkcs8(sm2_key.d, None, "secp256r1"))
    assert alg.load_private_key(_sm2_pkcs8(sm2_key.d, None, oids.SM2_CURVE_NAME)).d == sm2_key.d
    assert alg.load_private_key(_sm2_pkcs8(sm2_key.d, None)).d == sm2_key.d
    for d in (0, N - 1, N, 2**256 - 1):
        with pytest.raises(KeyFormatError, match="range"):
            alg.load_private_key(_sm2_pkcs8(d, None))


def test_malformed_public_points(sm2_key):
    def spki(point: bytes) -> bytes:
        return keys.PublicKeyInfo({
            "algorithm": {"algorithm": "ec", "parameters": keys.ECDomainParameters(
                name="named", value=oids.SM2_CURVE_NAME)},
            "public_key": point}).dump()

    pt = sm2_key.public_key.point
    compressed = bytes([2 + (sm2_key.public_key.y & 1)]) + pt[1:33]
    for bad in (compressed, pt[:-1], pt + b"\x00", b"\x04" + pt[33:] + pt[1:33],
                b"\x04" + bytes(64), b"\x05" + pt[1:],
                b"\x04" + (sm2.P).to_bytes(32, "big") + pt[33:]):
        with pytest.raises(KeyFormatError):
            alg.load_public_key(spki(bad))


def test_truncated_and_garbage_keys(sm2_key, rsa_key):
    cases = []
    for key in (sm2_key, rsa_key):
        pkcs8 = key.pkcs8_der()
        spki = key.public_key.spki_der()
        for cut in sorted({1, 2, 10, len(pkcs8) // 2, len(pkcs8) - 1}):
            cases.append((alg.load_private_key, pkcs8[:cut]))
            cases.append((alg.load_private_key, pem.armor("PRIVATE KEY", pkcs8[:cut])))
        for cut in sorted({1, 2, 10, len(spki) // 2, len(spki) - 1}):
            cases.append((alg.load_public_key, spki[:cut]))
            cases.append((alg.load_public_key, pem.armor("PUBLIC KEY", spki[:cut])))
        cases.append((alg.load_private_key, pkcs8 + b"\x00"))
        cases.append((alg.load_public_key, spki + b"\x00"))
        cases.append((alg.load_private_key, alg.dump_private_key(key)[:-40]))  # cut PEM
    cases += [
        (alg.load_private_key, b""), (alg.load_public_key, b""),
        (alg.load_private_key, b"-----BEGIN PRIVATE KEY-----\n!!!!\n-----END PRIVATE KEY-----\n"),
        (alg.load_public_key, pem.armor("CERTIFICATE", sm2_key.public_key.spki_der())),
        (alg.load_private_key, pem.armor("EC PRIVATE KEY", sm2_key.pkcs8_der())),
        (alg.load_private_key, "-----BEGIN PRIVATE KEY-----"),  # str, not bytes
        (alg.load_public_key, 65), (alg.load_private_key, None),
    ]
    for loader, data in cases:
        with pytest.raises(KeyFormatError) as info:
            loader(data)
        assert info.value.message_zh != info.value.message_en


def test_unsupported_key_algorithms():
    from cryptography.hazmat.primitives.asymmetric import ed25519

    k = ed25519.Ed25519PrivateKey.generate()
    with pytest.raises(UnsupportedAlgorithm):
        alg.load_public_key(k.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo))
    with pytest.raises(UnsupportedAlgorithm):
        alg.load_private_key(k.private_bytes(serialization.Encoding.DER,
                                             serialization.PrivateFormat.PKCS8,
                                             serialization.NoEncryption()))


# -- RSA -------------------------------------------------------------------------------------

def test_rsa_schemes(rsa_key):
    msg = b"RSA licence"
    digest = alg.sha256(msg)
    for scheme in ("pkcs1v15", "pss"):
        sig = rsa_key.sign(msg, scheme=scheme)
        rsa_key.public_key.verify(sig, msg, scheme=scheme)
        rsa_key.public_key.verify_digest(sig, digest, scheme=scheme)
        rsa_key.public_key.verify(rsa_key.sign_digest(digest, scheme=scheme), msg, scheme=scheme)
        with pytest.raises(InvalidSignature):
            rsa_key.public_key.verify(sig, msg + b"!", scheme=scheme)
        with pytest.raises(InvalidSignature):
            rsa_key.public_key.verify(sig[:-1] + bytes([sig[-1] ^ 1]), msg, scheme=scheme)
        with pytest.raises(InvalidSignature):
            rsa_key.public_key.verify(sig, msg, scheme="pss" if scheme == "pkcs1v15" else "pkcs1v15")
        with pytest.raises(InvalidSignature):
            rsa_key.public_key.verify_digest(sig, digest[:31], scheme=scheme)
        with pytest.raises(InvalidSignature):
            rsa_key.public_key.verify(sig.hex(), msg, scheme=scheme)
    with pytest.raises(SigningError):
        rsa_key.sign(msg, scheme="raw")
    with pytest.raises(SigningError):
        rsa_key.sign_digest(digest[:20])


def test_rsa_below_2048_bits_is_refused():
    small = pyca_rsa.generate_private_key(public_exponent=65537, key_size=1024)
    with pytest.raises(KeyFormatError, match="2048"):
        alg.load_private_key(small.private_bytes(serialization.Encoding.PEM,
                                                 serialization.PrivateFormat.PKCS8,
                                                 serialization.NoEncryption()))
    with pytest.raises(KeyFormatError, match="2048"):
        alg.load_public_key(small.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo))
    with pytest.raises(SigningError):
        alg.generate_private_key("rsa", rsa_bits=1024)


# -- property tests: hostile bytes never escape as a library exception ------------------------

_SM2 = alg.generate_private_key("sm2")
_RSA = alg.generate_private_key("rsa")
_SEEDS = [
    _SM2.pkcs8_der(), alg.dump_private_key(_SM2), _SM2.public_key.spki_der(),
    pem.armor("PUBLIC KEY", _SM2.public_key.spki_der()), _RSA.public_key.spki_der(),
    _RSA.pkcs8_der(), alg.dump_private_key(_SM2, "pw"), OPENSSL_SM2_KEY1,
]
_OURS = (KeyFormatError, UnsupportedAlgorithm, InvalidSignature)


def _mutated():
    def apply(args):
        data, ops = args
        for kind, pos, val in ops:
            pos %= len(data) + 1
            if kind == 0:
                data = data[:pos] + bytes([val]) + data[pos + 1:]
            elif kind == 1:
                data = data[:pos] + bytes([val]) + data[pos:]
            elif kind == 2:
                data = data[:pos] + data[pos + 1:]
            else:
                data = data[:pos]
        return data

    op = st.tuples(st.integers(0, 3), st.integers(0, 2000), st.integers(0, 255))
    return st.one_of(
        st.tuples(st.sampled_from(_SEEDS), st.lists(op, min_size=1, max_size=3)).map(apply),
        st.binary(max_size=300))


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_mutated(), st.sampled_from([None, "pw"]))
def test_property_key_loaders_raise_only_our_errors(data, passphrase):
    for call in (lambda: alg.load_private_key(data, passphrase),
                 lambda: alg.load_public_key(data)):
        try:
            key = call()
        except _OURS as exc:
            assert exc.message_zh and exc.message_en
        else:
            assert key.algorithm in ("sm2", "rsa")


@settings(max_examples=150, deadline=None)
@given(_mutated())
def test_property_verify_raises_only_invalid_signature(data):
    msg = b"m"
    for pub in (_SM2.public_key, _RSA.public_key):
        with pytest.raises(InvalidSignature):
            pub.verify(data, msg)

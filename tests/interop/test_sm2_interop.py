"""Our SM2/RSA signatures and keys against independent implementations, in both directions:
the OpenSSL CLI (3.x: the GM default ID must be passed as distid), pure-Python gmssl and GmSSL
(through gmssl_pyx).  Both of our SM2 backends are checked each time."""

import re
import secrets
import shutil
import subprocess

import pytest
from asn1crypto import pem

from formats import algorithms as alg
from formats.algorithms import sm2
from formats.errors import InvalidSignature

pytestmark = pytest.mark.interop

DISTID = "distid:1234567812345678"
MESSAGES = [b"", b"abc", "长三角电子证照 licence №1".encode(), bytes(range(256)) * 40]


def _openssl():
    path = shutil.which("openssl")
    if path is None:
        pytest.skip("openssl CLI not installed")
    return path


def _run(*args, ok=True):
    proc = subprocess.run([_openssl(), *args], capture_output=True, timeout=60)
    if ok and proc.returncode != 0:
        raise AssertionError(f"openssl {' '.join(args)} failed: {proc.stderr.decode()[-500:]}")
    return proc


def _openssl_major() -> int:
    out = _run("version").stdout.decode()
    return int(re.match(r"OpenSSL (\d+)\.", out).group(1))


@pytest.fixture(params=sm2.BACKENDS)
def backend(request):
    return request.param


@pytest.fixture
def files(tmp_path):
    def write(name, data):
        path = tmp_path / name
        path.write_bytes(data)
        return str(path)

    return write


def _openssl_sm2_verify(files, spki_der, msg, sig, distid=DISTID):
    pub = files("pub.pem", pem.armor("PUBLIC KEY", spki_der))
    args = ["pkeyutl", "-verify", "-pubin", "-inkey", pub, "-rawin", "-digest", "sm3",
            "-in", files("msg", msg), "-sigfile", files("sig", sig)]
    if distid:
        args += ["-pkeyopt", distid]
    return _run(*args, ok=False).returncode == 0


def _openssl_sm2_sign(files, key_pem, msg, passin=None):
    args = ["pkeyutl", "-sign", "-inkey", files("key.pem", key_pem), "-rawin", "-digest", "sm3",
            "-pkeyopt", DISTID, "-in", files("msg", msg)]
    if passin:
        args += ["-passin", f"pass:{passin}"]
    return _run(*args).stdout


# -- OpenSSL ---------------------------------------------------------------------------------

def test_openssl_verifies_ours(backend, files):
    key = alg.generate_private_key("sm2", sm2_backend=backend)
    spki = key.public_key.spki_der()
    for msg in MESSAGES:
        sig = key.sign(msg)
        assert _openssl_sm2_verify(files, spki, msg, sig)
        assert not _openssl_sm2_verify(files, spki, msg + b"x", sig)
    digest_sig = key.sign_digest(key.public_key.e_value(MESSAGES[2]))
    assert _openssl_sm2_verify(files, spki, MESSAGES[2], digest_sig)
    if _openssl_major() == 3:  # 3.x has no default ID: without distid it must not verify
        assert not _openssl_sm2_verify(files, spki, MESSAGES[2], digest_sig, distid=None)


def test_ours_verify_openssl(backend, files):
    key_pem = _run("genpkey", "-algorithm", "SM2").stdout
    key = alg.load_private_key(key_pem, sm2_backend=backend)
    spki_pem = _run("pkey", "-in", files("k.pem", key_pem), "-pubout").stdout
    pub = alg.load_public_key(spki_pem, sm2_backend=backend)
    assert pub == key.public_key
    assert pem.unarmor(spki_pem)[2] == key.public_key.spki_der()
    for msg in MESSAGES:
        sig = _openssl_sm2_sign(files, key_pem, msg)
        pub.verify(sig, msg)
        with pytest.raises(InvalidSignature):
            pub.verify(sig, msg + b"x")


def test_key_files_both_ways(backend, files):
    # openssl-encrypted SM2 key (AES-256-CBC) -> us
    enc = _run("genpkey", "-algorithm", "SM2", "-aes-256-cbc", "-pass", "pass:s3cret").stdout
    ours = alg.load_private_key(enc, "s3cret", sm2_backend=backend)
    ours.public_key.verify(_openssl_sm2_sign(files, enc, b"m", passin="s3cret"), b"m")
    # our plain and encrypted PKCS#8 -> openssl, which signs with it; we verify
    for data, passin in ((alg.dump_private_key(ours), None),
                         (alg.dump_private_key(ours, "口令"), "口令")):
        sig = _openssl_sm2_sign(files, data, b"m2", passin=passin)
        ours.public_key.verify(sig, b"m2")
    assert _run("pkey", "-in", files("p.pem", alg.dump_private_key(ours, "x")), "-passin",
                "pass:y", ok=False).returncode != 0


# -- pure-Python gmssl -----------------------------------------------------------------------

def _gmssl(x: int, y: int, d: int | None = None):
    from gmssl import sm2 as gm

    c = gm.CryptSM2(private_key=None if d is None else "%064x" % d, public_key="00")
    c.public_key = "%064x%064x" % (x, y)  # its constructor lstrips every leading "0"/"4"
    return c


def test_gmssl_verifies_ours_and_ours_verify_gmssl(backend):
    key = alg.generate_private_key("sm2", sm2_backend=backend)
    pub = key.public_key
    c = _gmssl(pub.x, pub.y, key.d)
    for msg in MESSAGES[:3]:
        r, s = sm2.decode_signature(key.sign(msg))
        assert c.verify_with_sm3("%064x%064x" % (r, s), msg)
        assert not c.verify_with_sm3("%064x%064x" % (r, s), msg + b"x")
        k = "%064x" % (secrets.randbelow(sm2.N - 1) + 1)  # never gmssl's `random` nonce
        raw = c.sign_with_sm3(msg, k)
        theirs = sm2.encode_signature(int(raw[:64], 16), int(raw[64:], 16))
        pub.verify(theirs, msg)
        with pytest.raises(InvalidSignature):
            pub.verify(theirs, msg + b"x")


def test_gmssl_public_key_hex_pitfall():
    """Why every call site sets .public_key after construction: "04" + x with x starting with
    0x04/0x40/0x44... loses more than the point prefix in the constructor."""
    from gmssl import sm2 as gm

    x, y = 0x0404_4040 << 224, 0x1
    c = gm.CryptSM2(private_key=None, public_key="04" + "%064x%064x" % (x, y))
    assert c.public_key != "%064x%064x" % (x, y)


# -- GmSSL via gmssl_pyx ---------------------------------------------------------------------

def test_gmssl_pyx_both_ways(backend):
    gp = pytest.importorskip("gmssl_pyx")
    key = alg.generate_private_key("sm2", sm2_backend=backend)
    pub64 = key.public_key.point[1:]
    d32 = key.d.to_bytes(32, "big")
    for msg in MESSAGES:
        assert gp.sm2_verify(pub64, msg, key.sign(msg))
        assert not gp.sm2_verify(pub64, msg + b"x", key.sign(msg))
        key.public_key.verify(gp.sm2_sign(d32, pub64, msg), msg)
    e = key.public_key.e_value(b"digest path")
    assert gp.sm2_verify_sm3_digest(pub64, e, key.sign_digest(e))
    key.public_key.verify_digest(gp.sm2_sign_sm3_digest(d32, e), e)
    # A GmSSL-generated key, loaded into our layer from its raw form.
    their_pub, their_priv = gp.sm2_key_generate()
    theirs = sm2.SM2PrivateKey(int.from_bytes(their_priv, "big"), backend)
    assert theirs.public_key.point == b"\x04" + their_pub
    theirs.public_key.verify(gp.sm2_sign(their_priv, their_pub, b"m"), b"m")
    assert gp.sm2_verify(their_pub, b"m", theirs.sign(b"m"))


# -- RSA with OpenSSL ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def rsa_key():
    return alg.generate_private_key("rsa")


def test_openssl_verifies_our_rsa(rsa_key, files):
    pub = files("rsa_pub.pem", pem.armor("PUBLIC KEY", rsa_key.public_key.spki_der()))
    msg = files("msg", MESSAGES[2])
    sig = files("sig", rsa_key.sign(MESSAGES[2], scheme="pkcs1v15"))
    _run("dgst", "-sha256", "-verify", pub, "-signature", sig, msg)
    _run("pkeyutl", "-verify", "-pubin", "-inkey", pub, "-rawin", "-digest", "sha256",
         "-in", msg, "-sigfile", sig)
    pss = files("pss", rsa_key.sign(MESSAGES[2], scheme="pss"))
    _run("dgst", "-sha256", "-sigopt", "rsa_padding_mode:pss", "-verify", pub,
         "-signature", pss, msg)
    _run("dgst", "-sha256", "-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:32",
         "-verify", pub, "-signature", pss, msg)
    assert _run("dgst", "-sha256", "-verify", pub, "-signature", pss, msg,
                ok=False).returncode != 0  # a PSS signature is not a PKCS#1 v1.5 one


def test_ours_verify_openssl_rsa(rsa_key, files):
    key = files("rsa.pem", alg.dump_private_key(rsa_key))
    msg_bytes = MESSAGES[2]
    msg = files("msg", msg_bytes)
    v15 = _run("dgst", "-sha256", "-sign", key, msg).stdout
    rsa_key.public_key.verify(v15, msg_bytes)
    pss32 = _run("dgst", "-sha256", "-sign", key, "-sigopt", "rsa_padding_mode:pss",
                 "-sigopt", "rsa_pss_saltlen:32", msg).stdout
    rsa_key.public_key.verify(pss32, msg_bytes, scheme="pss")
    pss_max = _run("dgst", "-sha256", "-sign", key, "-sigopt", "rsa_padding_mode:pss",
                   "-sigopt", "rsa_pss_saltlen:max", msg).stdout
    with pytest.raises(InvalidSignature):  # PS256 fixes the salt at 32 bytes (docs/crypto.md)
        rsa_key.public_key.verify(pss_max, msg_bytes, scheme="pss")
    enc = _run("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048",
               "-aes-256-cbc", "-pass", "pass:pw").stdout
    assert alg.load_private_key(enc, "pw").algorithm == "rsa"

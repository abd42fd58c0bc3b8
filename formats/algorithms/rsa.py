"""RSA with SHA-256: PKCS#1 v1.5 (certificates, CMS/PAdES) and PSS (COSE PS256), via pyca.

Keys below 2048 bits are refused on load and on generation.  PSS is MGF1-SHA-256 with a salt of
exactly 32 bytes (RFC 8230 for PS256), on both sides: a PSS signature made with another salt
length (e.g. OpenSSL's default "max" when signing) does not verify here.
"""

from __future__ import annotations

from cryptography.exceptions import InvalidSignature as _PycaInvalid
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa, utils

from formats import oids
from formats.algorithms.digests import sha256
from formats.algorithms.spec import AlgorithmSpec, KeyBackend
from formats.errors import InvalidSignature, KeyFormatError, SigningError

SCHEMES = ("pkcs1v15", "pss")
MIN_BITS = 2048


def _padding(scheme: str):
    if scheme == "pkcs1v15":
        return padding.PKCS1v15()
    if scheme == "pss":
        # RFC 8230 / COSE PS256: salt length equal to the hash length.
        return padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
    raise SigningError(f"unknown RSA scheme {scheme!r}", f"未知的 RSA 签名方案 {scheme!r}")


def _sig_bytes(signature) -> bytes:
    if not isinstance(signature, (bytes, bytearray, memoryview)):
        raise InvalidSignature(f"signature must be bytes, not {type(signature).__name__}",
                               "签名值应为字节串")
    return bytes(signature)


class RSAPublicKey:
    algorithm = oids.ALG_RSA
    schemes = SCHEMES  # padding schemes `sign`/`verify` take (`scheme=`)

    def __init__(self, key: rsa.RSAPublicKey):
        if key.key_size < MIN_BITS:
            raise KeyFormatError(f"RSA key of {key.key_size} bits is below {MIN_BITS}",
                                 f"RSA 密钥长度 {key.key_size} 位低于 {MIN_BITS} 位")
        self.pyca = key

    def spki_der(self) -> bytes:
        return self.pyca.public_bytes(serialization.Encoding.DER,
                                      serialization.PublicFormat.SubjectPublicKeyInfo)

    def max_signature_size(self) -> int:
        return (self.pyca.key_size + 7) // 8

    def __eq__(self, other) -> bool:
        return isinstance(other, RSAPublicKey) and self.spki_der() == other.spki_der()

    def __hash__(self) -> int:
        return hash(self.spki_der())

    def verify(self, signature: bytes, message: bytes, scheme: str = "pkcs1v15") -> None:
        """Raise InvalidSignature unless `signature` is RSA-SHA256 (`scheme`) over `message`."""
        try:
            self.pyca.verify(_sig_bytes(signature), message, _padding(scheme), hashes.SHA256())
        except _PycaInvalid:
            raise InvalidSignature() from None

    def verify_digest(self, signature: bytes, digest: bytes, scheme: str = "pkcs1v15") -> None:
        """As `verify`, over a SHA-256 digest the caller computed (32 bytes)."""
        try:
            self.pyca.verify(_sig_bytes(signature), digest, _padding(scheme),
                             utils.Prehashed(hashes.SHA256()))
        except (_PycaInvalid, ValueError):
            raise InvalidSignature() from None


class RSAPrivateKey:
    algorithm = oids.ALG_RSA
    schemes = SCHEMES

    def __init__(self, key: rsa.RSAPrivateKey):
        self.pyca = key
        self.public_key = RSAPublicKey(key.public_key())

    @classmethod
    def generate(cls, bits: int = 2048) -> "RSAPrivateKey":
        if bits < MIN_BITS:
            raise SigningError(f"RSA keys must have at least {MIN_BITS} bits",
                               f"RSA 密钥至少 {MIN_BITS} 位")
        return cls(rsa.generate_private_key(public_exponent=65537, key_size=bits))

    def sign(self, message: bytes, scheme: str = "pkcs1v15") -> bytes:
        return self.pyca.sign(message, _padding(scheme), hashes.SHA256())

    def sign_digest(self, digest: bytes, scheme: str = "pkcs1v15") -> bytes:
        """Sign a SHA-256 digest the caller already computed."""
        if len(digest) != 32:
            raise SigningError("SHA-256 digest must be 32 bytes", "SHA-256 摘要必须为 32 字节")
        return self.pyca.sign(digest, _padding(scheme), utils.Prehashed(hashes.SHA256()))

    def pkcs8_der(self) -> bytes:
        return self.pyca.private_bytes(serialization.Encoding.DER,
                                       serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption())


# -- the registry entry ----------------------------------------------------------------------

RSA_SHA256 = "1.2.840.113549.1.1.11"


def _accepts(algorithm_id) -> bool:
    return algorithm_id["algorithm"].native == "rsa"


def _load_public(info, backend=None) -> RSAPublicKey:
    return RSAPublicKey(serialization.load_der_public_key(info.dump()))


def _load_private(info, der: bytes, backend=None) -> RSAPrivateKey:
    return RSAPrivateKey(serialization.load_der_private_key(der, None))


def _generate(rsa_bits: int = 2048, **_ignored) -> RSAPrivateKey:
    return RSAPrivateKey.generate(rsa_bits)


def _dump_private(key: RSAPrivateKey, passphrase: bytes | None) -> bytes:
    """Encrypted as pyca writes it (PBES2, AES-256-CBC)."""
    return key.pyca.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.BestAvailableEncryption(passphrase))


def _cose_sign(key: RSAPrivateKey, message: bytes) -> bytes:
    return key.sign(message, scheme="pss")


def _cose_verify(key: RSAPublicKey, signature: bytes, message: bytes) -> None:
    key.verify(signature, message, scheme="pss")


SPEC = AlgorithmSpec(
    name=oids.ALG_RSA, label="RSA-SHA256",
    signature_oid=RSA_SHA256, signature_oids=frozenset({RSA_SHA256}),
    signature_params_null=True,  # RFC 4055: sha256WithRSAEncryption carries NULL
    signed_digest_name="sha256_rsa",
    digest_name="sha256", digest_oid="2.16.840.1.101.3.4.2.1", digest=sha256,
    cose_alg=-37,  # PS256: RSASSA-PSS, SHA-256, MGF1-SHA-256, salt 32 (RFC 8230)
    cose_label="PS256", envelope_alg="RS256",
    cose_sign=_cose_sign, cose_verify=_cose_verify, library_verifies=True,
    cms_signature_oids=frozenset({"1.2.840.113549.1.1.1", RSA_SHA256}),  # rsaEncryption too
    signs_cms_digest=True,
    backend=KeyBackend(accepts_spki=_accepts, load_public=_load_public,
                       accepts_pkcs8=_accepts, load_private=_load_private,
                       generate=_generate, dump_private=_dump_private),
)

"""The one algorithm layer: every other module signs, verifies and hashes through here.

What it accepts (anything else raises KeyFormatError / UnsupportedAlgorithm / InvalidSignature,
all `formats.errors.SigningError` with Chinese and English text — never a library's exception):
- private keys: PKCS#8 as PEM ("PRIVATE KEY" / "ENCRYPTED PRIVATE KEY") or DER, optionally
  encrypted (PBES2; give `passphrase`), SM2 on sm2p256v1 or RSA >= 2048 bits.  Not SEC1
  "EC PRIVATE KEY" nor PKCS#1 "RSA PRIVATE KEY";
- public keys: SubjectPublicKeyInfo as DER, PEM "PUBLIC KEY", or an asn1crypto PublicKeyInfo
  (e.g. from a certificate).  SM2 = id-ecPublicKey + namedCurve 1.2.156.10197.1.301 with an
  uncompressed point; other curves (P-256 ...) are refused;
- `sign(message)` hashes for you (SM2: SM3(Z_A||M) with the default ID; RSA: SHA-256);
  `sign_digest(e)` takes a digest you already computed and never hashes again;
- signatures are strict DER SEQUENCE{r,s} for SM2 (no raw r||s), raw PKCS#1 v1.5 / PSS bytes
  for RSA.

`verification` imports this module too (verify side only): like pyca's primitives layer it holds
no policy, no key store and no I/O, so sharing it keeps "one place calls the crypto libraries".
"""

from __future__ import annotations

from typing import Union

from asn1crypto import keys, pem

from formats.algorithms import rsa as _rsa
from formats.algorithms import sm2 as _sm2
from formats.algorithms import spec as registry
from formats.algorithms.digests import digest, sha256, sm3
from formats.algorithms.rsa import RSAPrivateKey, RSAPublicKey
from formats.algorithms.sm2 import SM2PrivateKey, SM2PublicKey, default_backend, z_value
from formats.algorithms.spec import AlgorithmSpec, PrivateKey, PublicKey
from formats.errors import InvalidSignature, KeyFormatError, SigningError, UnsupportedAlgorithm

registry.register(_sm2.SPEC)
registry.register(_rsa.SPEC)

__all__ = [
    "PrivateKey", "PublicKey", "SM2PrivateKey", "SM2PublicKey", "RSAPrivateKey", "RSAPublicKey",
    "generate_private_key", "load_private_key", "load_public_key", "dump_private_key",
    "is_encrypted_private_key",
    "signature_algorithm_oid", "digest", "sm3", "sha256", "z_value", "InvalidSignature",
    "default_backend", "registry", "AlgorithmSpec",
]


def generate_private_key(algorithm: str, *, rsa_bits: int = 2048,
                         sm2_backend: str | None = None) -> PrivateKey:
    """A fresh key from the OS CSPRNG (`secrets` for SM2, OpenSSL for RSA)."""
    if algorithm not in registry.names():
        raise UnsupportedAlgorithm(f"unknown key algorithm {algorithm!r}",
                                   f"未知的密钥算法 {algorithm!r}")
    return registry.by_name(algorithm).backend.generate(rsa_bits=rsa_bits, backend=sm2_backend)


def _backend_for(algorithm_id, accepts: str):
    """The registered backend whose `accepts` takes this AlgorithmIdentifier.  A backend that
    recognises the family but refuses the parameters (an EC key on another curve) has its
    KeyFormatError raised when no other backend takes the key."""
    refusal = None
    for spec in registry.specs():
        try:
            if getattr(spec.backend, accepts)(algorithm_id):
                return spec.backend
        except KeyFormatError as exc:
            refusal = refusal or exc
    if refusal is not None:
        raise refusal
    name = algorithm_id["algorithm"].native
    raise UnsupportedAlgorithm(f"unsupported key algorithm {name}", f"不支持的密钥算法 {name}")


def _unarmor(data: bytes, expected: tuple[str, ...]) -> tuple[str | None, bytes]:
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise KeyFormatError(f"expected key bytes, got {type(data).__name__}",
                             "密钥数据应为字节串")
    data = bytes(data)
    if pem.detect(data):
        try:
            kind, _headers, der = pem.unarmor(data)
        except ValueError as exc:
            raise KeyFormatError(f"malformed PEM: {exc}", "PEM 格式错误") from None
        if kind not in expected:
            raise KeyFormatError(f"expected PEM {' or '.join(expected)}, found {kind}",
                                 f"PEM 类型应为 {' 或 '.join(expected)}，实际为 {kind}")
        return kind, der
    return None, data


def load_private_key(data: bytes, passphrase: bytes | str | None = None,
                     sm2_backend: str | None = None) -> PrivateKey:
    """PKCS#8 (PEM or DER), plain or encrypted.  Raises KeyFormatError with a reason."""
    if isinstance(passphrase, str):
        passphrase = passphrase.encode()
    try:
        kind, der = _unarmor(data, ("PRIVATE KEY", "ENCRYPTED PRIVATE KEY"))
        if kind == "ENCRYPTED PRIVATE KEY" or _is_encrypted(der):
            if passphrase is None:
                raise KeyFormatError("the private key is encrypted; a passphrase is required",
                                     "私钥已加密，需要口令")
            der = _decrypt_pkcs8(der, passphrase)
        elif passphrase is not None:
            raise KeyFormatError("a passphrase was given but the key is not encrypted",
                                 "提供了口令，但私钥未加密")
        info = keys.PrivateKeyInfo.load(der, strict=True)
        backend = _backend_for(info["private_key_algorithm"], "accepts_pkcs8")
        return backend.load_private(info, der, sm2_backend)
    except SigningError:
        raise
    except Exception as exc:  # asn1crypto/pyca raise many types for truncated input
        raise KeyFormatError(f"cannot read private key: {exc.__class__.__name__}: {exc}",
                             "无法读取私钥（格式错误或已截断）") from None


def is_encrypted_private_key(data: bytes) -> bool:
    """True only if `data` parses as an EncryptedPrivateKeyInfo (PEM or DER): the structure
    decides, not the words "ENCRYPTED PRIVATE KEY" somewhere in the file."""
    try:
        _kind, der = _unarmor(data, ("PRIVATE KEY", "ENCRYPTED PRIVATE KEY"))
    except KeyFormatError:
        return False
    return _is_encrypted(der)


def _is_encrypted(der: bytes) -> bool:
    try:
        keys.EncryptedPrivateKeyInfo.load(der, strict=True)["encryption_algorithm"].native
        return True
    except Exception:
        return False


# PBKDF2 rounds we are willing to run: generous (OWASP 2023 asks 600k for HMAC-SHA256, OpenSSL
# writes 2048) yet bounded, so a doctored key file cannot pin a CPU for minutes.
MAX_PBKDF2_ITERATIONS = 1_000_000


def _check_kdf_cost(der: bytes) -> None:
    algo = keys.EncryptedPrivateKeyInfo.load(der, strict=True)["encryption_algorithm"]
    if algo["algorithm"].native == "pbes2":
        kdf = algo["parameters"]["key_derivation_func"]
        if kdf["algorithm"].native == "pbkdf2" and \
                kdf["parameters"]["iteration_count"].native > MAX_PBKDF2_ITERATIONS:
            raise KeyFormatError(f"PBKDF2 iteration count above {MAX_PBKDF2_ITERATIONS}",
                                 f"PBKDF2 迭代次数超过 {MAX_PBKDF2_ITERATIONS}")


def _decrypt_pkcs8(der: bytes, passphrase: bytes) -> bytes:
    """Decrypt a PKCS#8 envelope: Tongsuo for SM2 (pyca cannot load SM2 keys),
    pyca for RSA (tongsuopy only knows EC keys)."""
    _check_kdf_cost(der)
    try:
        from tongsuopy.crypto import serialization as ts

        key = ts.load_der_private_key(der, passphrase)
        return key.private_bytes(ts.Encoding.DER, ts.PrivateFormat.PKCS8, ts.NoEncryption())
    except ImportError:  # pragma: no cover
        raise KeyFormatError("decrypting keys needs tongsuopy", "解密私钥需要 tongsuopy") from None
    except Exception:
        # Tongsuo fails alike for a wrong passphrase and for an RSA key; pyca settles which.
        from cryptography.hazmat.primitives import serialization

        try:
            key = serialization.load_der_private_key(der, passphrase)
        except Exception:
            raise KeyFormatError("wrong passphrase or corrupt encrypted key",
                                 "口令错误或加密私钥已损坏") from None
        return key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption())


def dump_private_key(key: PrivateKey, passphrase: bytes | str | None = None) -> bytes:
    """PEM PKCS#8; with a passphrase, encrypted PBES2 with PBKDF2-HMAC-SHA256: SM2 keys as
    Tongsuo writes them (SM4-CBC, which OpenSSL 3 reads), RSA keys as pyca does (AES-256-CBC)."""
    if isinstance(passphrase, str):
        passphrase = passphrase.encode()
    der = key.pkcs8_der()
    if passphrase is None:
        return pem.armor("PRIVATE KEY", der)
    return registry.of_key(key).backend.dump_private(key, passphrase)


def load_public_key(spki: Union[bytes, keys.PublicKeyInfo],
                    sm2_backend: str | None = None) -> PublicKey:
    """SubjectPublicKeyInfo (DER, PEM or asn1crypto) -> SM2PublicKey or RSAPublicKey."""
    try:
        if isinstance(spki, keys.PublicKeyInfo):
            info = spki
        else:
            _, der = _unarmor(spki, ("PUBLIC KEY",))
            info = keys.PublicKeyInfo.load(der, strict=True)
        return _backend_for(info["algorithm"], "accepts_spki").load_public(info, sm2_backend)
    except SigningError:
        raise
    except Exception as exc:
        raise KeyFormatError(f"cannot read public key: {exc.__class__.__name__}: {exc}",
                             "无法读取公钥（格式错误或已截断）") from None


def signature_algorithm_oid(key: Union[PrivateKey, PublicKey]) -> str:
    """The X.509/CMS signatureAlgorithm for signatures this key makes."""
    return registry.of_key(key).signature_oid

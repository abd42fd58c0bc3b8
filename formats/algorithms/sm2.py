"""SM2 signatures (GB/T 32918.2) with SM3 and, unless told otherwise, the default user ID.

Two backends ("engines") with one interface, chosen per key by ``backend=`` or
LICENSE_SVC_SM2_BACKEND: ``tongsuopy`` (Tongsuo, C), the fast path, and ``gmssl`` (pure
Python), a fallback and an independent cross-check.  An engine does only the curve arithmetic
on e; the key classes are the same whichever engine they hold.

Both backends only ever do the curve arithmetic on e.  Z_A and e = SM3(Z_A || M) are computed
here, once for each key (Z_A is cached), so the ID handling is the same for both backends and
does not depend on a library's idea of a default ID (OpenSSL 3.x has none, 4.x has one).

Inputs accepted:
- signatures: DER SM2Signature only (see `sm2_der`); raw r||s is rejected;
- `sign`/`verify`: the message itself (bytes); `sign_digest`/`verify_digest`: a 32-byte
  e = SM3(Z_A || M) that the caller computed (CMS signed attributes, SES) — never hashed again;
- public points: uncompressed, on the curve (cofactor 1, so that is the whole check of
  GB/T 32918.1 §6.2); private scalars: 1 <= d <= n - 2.
"""

from __future__ import annotations

import os
import secrets

from asn1crypto import keys

from formats import oids
from formats.algorithms.digests import sm3
from formats.algorithms.spec import AlgorithmSpec, KeyBackend
from formats.algorithms.sm2_der import N, decode_signature, encode_signature
from formats.errors import InvalidSignature, KeyFormatError, SigningError

P = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFF
A = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC
B = 0x28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93
GX = 0x32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7
GY = 0xBC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0

BACKENDS = ("tongsuopy", "gmssl")

__all__ = ["SM2PublicKey", "SM2PrivateKey", "z_value", "default_backend", "encode_signature",
           "decode_signature", "N", "BACKENDS", "SPEC"]


def default_backend() -> str:
    """The backend named by LICENSE_SVC_SM2_BACKEND, else tongsuopy when it imports."""
    name = os.environ.get("LICENSE_SVC_SM2_BACKEND", "").strip().lower()
    if name:
        return _checked_backend(name)
    try:
        import tongsuopy  # noqa: F401
    except ImportError:  # pragma: no cover - tongsuopy is a declared dependency
        return "gmssl"
    return "tongsuopy"


def _checked_backend(name: str | None) -> str:
    if not name:
        return default_backend()
    if name not in BACKENDS:
        raise SigningError(f"unknown SM2 backend {name!r}; choose one of {BACKENDS}",
                           f"未知的 SM2 实现 {name!r}，可选 {BACKENDS}")
    return name


def _b32(n: int) -> bytes:
    return n.to_bytes(32, "big")


def z_value(x: int, y: int, uid: bytes = oids.DEFAULT_SM2_UID) -> bytes:
    """Z_A = SM3(ENTL_A || ID_A || a || b || xG || yG || xA || yA), GB/T 32918.2 §5.5."""
    if len(uid) * 8 > 0xFFFF:
        raise SigningError("SM2 user ID too long", "SM2 用户标识过长")
    entl = (len(uid) * 8).to_bytes(2, "big")
    return sm3(entl + uid + _b32(A) + _b32(B) + _b32(GX) + _b32(GY) + _b32(x) + _b32(y))


def _on_curve(x: int, y: int) -> bool:
    return 0 <= x < P and 0 <= y < P and (y * y - (x * x * x + A * x + B)) % P == 0


class _TongsuoEngine:
    """Tongsuo (C) through tongsuopy: the fast path.  Keys are EVP_PKEY handles built once per
    key object; sign and verify run EVP_PKEY_sign/verify on e as given (no digest in the
    context), so the Z_A handling stays ours."""

    name = "tongsuopy"

    @staticmethod
    def _lib():
        from tongsuopy.backends.tongsuo.backend import backend as be

        return be

    def public_handle(self, point: bytes):
        from tongsuopy.crypto.asymciphers import ec

        return ec.EllipticCurvePublicKey.from_encoded_point(ec.SM2(), point)

    def private_handle(self, d: int):
        from tongsuopy.crypto.asymciphers import ec

        return ec.derive_private_key(d, ec.SM2())

    def public_point(self, handle) -> tuple[int, int]:
        nums = handle.public_key().public_numbers()
        return nums.x, nums.y

    def verify(self, handle, der: bytes, r: int, s: int, e: bytes) -> bool:
        be = self._lib()
        lib = be._lib
        ctx = lib.EVP_PKEY_CTX_new(handle._evp_pkey, be._ffi.NULL)
        if ctx == be._ffi.NULL:
            raise SigningError("cannot create SM2 context", "无法创建 SM2 上下文")
        try:
            ok = lib.EVP_PKEY_verify_init(ctx) == 1 and \
                lib.EVP_PKEY_verify(ctx, der, len(der), e, len(e)) == 1
        finally:
            lib.EVP_PKEY_CTX_free(ctx)
        if not ok:
            be._consume_errors()  # keep Tongsuo's thread-local error queue clean
        return ok

    def sign(self, handle, d: int, e: bytes) -> bytes:
        be = self._lib()
        lib, ffi = be._lib, be._ffi
        ctx = lib.EVP_PKEY_CTX_new(handle._evp_pkey, ffi.NULL)
        if ctx == ffi.NULL:
            raise SigningError("cannot create SM2 context", "无法创建 SM2 上下文")
        try:
            buflen = ffi.new("size_t *", 80)
            buf = ffi.new("unsigned char[]", 80)
            ok = lib.EVP_PKEY_sign_init(ctx) == 1 and \
                lib.EVP_PKEY_sign(ctx, buf, buflen, e, len(e)) == 1
        finally:
            lib.EVP_PKEY_CTX_free(ctx)
        if not ok:
            be._consume_errors()
            raise SigningError("SM2 signing failed", "SM2 签名失败")
        return bytes(ffi.buffer(buf)[: buflen[0]])


class _GmsslEngine:
    """The pure-Python gmssl: ~25x slower, a fallback and an independent cross-check.  Its own
    nonce helper uses `random`, so every nonce is drawn here from `secrets`."""

    name = "gmssl"

    @staticmethod
    def _crypt(x: int | None = None, y: int | None = None):
        from gmssl import sm2 as gm

        c = gm.CryptSM2(private_key=None, public_key="00")
        if x is not None:
            c.public_key = "%064x%064x" % (x, y)  # its constructor lstrips "04" chars
        return c

    def public_handle(self, point: bytes):
        return self._crypt(int.from_bytes(point[1:33], "big"), int.from_bytes(point[33:], "big"))

    def private_handle(self, d: int):
        from gmssl import sm2 as gm

        c = self._crypt()
        pt = c._kg(d, gm.default_ecc_table["g"])
        x, y = int(pt[:64], 16), int(pt[64:], 16)
        c = self._crypt(x, y)
        c.private_key = "%064x" % d
        return c

    def public_point(self, handle) -> tuple[int, int]:
        return int(handle.public_key[:64], 16), int(handle.public_key[64:], 16)

    def verify(self, handle, der: bytes, r: int, s: int, e: bytes) -> bool:
        try:
            return bool(handle.verify("%064x%064x" % (r, s), e))
        except TypeError:
            # gmssl cannot represent [s]G + [t]P_A = O and fails on None; the standard rejects
            # it too (step B6 needs an affine x1').  Only the key's owner can craft this case.
            return False

    def sign(self, handle, d: int, e: bytes) -> bytes:
        while True:  # gmssl returns None when r = 0, r + k = n or s = 0: draw a new nonce
            k = "%064x" % (secrets.randbelow(N - 1) + 1)  # uniform in [1, n-1]
            out = handle.sign(e, k)
            if out:
                return encode_signature(int(out[:64], 16), int(out[64:], 16))


ENGINES = {"tongsuopy": _TongsuoEngine(), "gmssl": _GmsslEngine()}


class SM2PublicKey:
    algorithm = oids.ALG_SM2

    def __init__(self, x: int, y: int, backend: str | None = None):
        if not _on_curve(x, y):
            raise KeyFormatError("point is not on the SM2 curve", "公钥点不在 SM2 曲线上")
        self.x, self.y = x, y
        self.backend = _checked_backend(backend)
        self._engine = ENGINES[self.backend]
        self._z = None  # Z_A for the default ID, computed on first use
        self._handle = None  # the engine's key object, built on first use

    # -- encodings ---------------------------------------------------------------------
    @property
    def point(self) -> bytes:
        """Uncompressed point 04 || x || y."""
        return b"\x04" + _b32(self.x) + _b32(self.y)

    def spki_der(self) -> bytes:
        return keys.PublicKeyInfo({
            "algorithm": {"algorithm": "ec", "parameters": keys.ECDomainParameters(
                name="named", value=oids.SM2_CURVE_NAME)},
            "public_key": self.point,
        }).dump()

    def max_signature_size(self) -> int:
        """DER SEQUENCE{INTEGER r, INTEGER s} with both integers 33 bytes: 2 + 2*(2+33)."""
        return 72

    def __eq__(self, other) -> bool:
        return isinstance(other, SM2PublicKey) and (self.x, self.y) == (other.x, other.y)

    def __hash__(self) -> int:
        return hash((self.x, self.y))

    # -- hashing -----------------------------------------------------------------------
    def e_value(self, message: bytes, uid: bytes = oids.DEFAULT_SM2_UID) -> bytes:
        """e = SM3(Z_A || M), what `sign_digest`/`verify_digest` take."""
        if uid == oids.DEFAULT_SM2_UID:
            if self._z is None:
                self._z = z_value(self.x, self.y)
            z = self._z
        else:
            z = z_value(self.x, self.y, uid)
        return sm3(z + message)

    # -- verification ------------------------------------------------------------------
    def verify(self, signature: bytes, message: bytes, uid: bytes = oids.DEFAULT_SM2_UID) -> None:
        """Raise InvalidSignature unless `signature` (DER) is SM2-with-SM3 over `message`."""
        self.verify_digest(signature, self.e_value(message, uid))

    def verify_digest(self, signature: bytes, e: bytes) -> None:
        """Raise InvalidSignature unless `signature` (DER) is valid for e = SM3(Z_A || M)."""
        r, s = decode_signature(signature)
        if len(e) != 32:
            raise InvalidSignature("SM3 digest must be 32 bytes", "SM3 摘要必须为 32 字节")
        if self._handle is None:
            self._handle = self._engine.public_handle(self.point)
        if not self._engine.verify(self._handle, bytes(signature), r, s, bytes(e)):
            raise InvalidSignature()


class SM2PrivateKey:
    algorithm = oids.ALG_SM2

    def __init__(self, d: int, backend: str | None = None):
        if not 1 <= d <= N - 2:
            raise KeyFormatError("SM2 private scalar out of range [1, n-2]",
                                 "SM2 私钥超出范围 [1, n-2]")
        self.d = d
        self.backend = _checked_backend(backend)
        self._engine = ENGINES[self.backend]
        self._handle = self._engine.private_handle(d)
        x, y = self._engine.public_point(self._handle)
        self.public_key = SM2PublicKey(x, y, self.backend)

    @classmethod
    def generate(cls, backend: str | None = None) -> "SM2PrivateKey":
        return cls(secrets.randbelow(N - 2) + 1, backend)  # uniform in [1, n-2]

    def sign(self, message: bytes, uid: bytes = oids.DEFAULT_SM2_UID) -> bytes:
        """DER SM2 signature over e = SM3(Z_A || message)."""
        return self.sign_digest(self.public_key.e_value(message, uid))

    def sign_digest(self, e: bytes) -> bytes:
        """DER SM2 signature over an e = SM3(Z_A || M) the caller computed (32 bytes)."""
        if len(e) != 32:
            raise SigningError("SM3 digest must be 32 bytes", "SM3 摘要必须为 32 字节")
        return self._engine.sign(self._handle, self.d, bytes(e))

    # -- serialisation -----------------------------------------------------------------
    def pkcs8_der(self) -> bytes:
        ec_key = keys.ECPrivateKey({
            "version": "ecPrivkeyVer1", "private_key": self.d,
            "public_key": self.public_key.point,
        })
        return keys.PrivateKeyInfo({
            "version": 0,
            "private_key_algorithm": {"algorithm": "ec", "parameters": keys.ECDomainParameters(
                name="named", value=oids.SM2_CURVE_NAME)},
            "private_key": ec_key,
        }).dump()


def public_key_from_spki(info: keys.PublicKeyInfo, backend: str | None = None) -> SM2PublicKey:
    point = info["public_key"].native
    if not isinstance(point, bytes) or len(point) != 65 or point[0] != 4:
        raise KeyFormatError("SM2 public key must be an uncompressed 65-byte point",
                             "SM2 公钥必须是 65 字节的非压缩点")
    return SM2PublicKey(int.from_bytes(point[1:33], "big"), int.from_bytes(point[33:], "big"),
                        backend)


def private_key_from_pkcs8(info: keys.PrivateKeyInfo, backend: str | None = None) -> SM2PrivateKey:
    """The key in a PKCS#8 whose algorithm already names the SM2 curve.  The inner ECPrivateKey
    may repeat the curve and the public point; if it does they must agree with the key, so a
    file cannot pair one private key with someone else's public key."""
    ec_key = info["private_key"].parsed
    if ec_key["version"].native != "ecPrivkeyVer1":
        raise KeyFormatError("unsupported ECPrivateKey version", "不支持的 ECPrivateKey 版本")
    params = ec_key["parameters"]
    if params.native is not None and (params.name != "named"
                                      or params.chosen.dotted != oids.SM2_CURVE):
        raise KeyFormatError("ECPrivateKey names a curve other than SM2",
                             "ECPrivateKey 中的曲线不是 SM2")
    key = SM2PrivateKey(int(ec_key["private_key"].native), backend)
    embedded = ec_key["public_key"].native
    if embedded is not None and embedded != key.public_key.point:
        raise KeyFormatError("the public key in the PKCS#8 file does not match the private key",
                             "PKCS#8 文件中的公钥与私钥不匹配")
    return key


# -- the registry entry ----------------------------------------------------------------------

_SM2_CURVE_DER = bytes.fromhex("06082a811ccf5501822d")  # OBJECT IDENTIFIER 1.2.156.10197.1.301

def _accepts_spki(algorithm_id) -> bool:
    params = algorithm_id["parameters"]
    if algorithm_id["algorithm"].dotted == oids.SM2_CURVE:
        # The SM2 OID as the key algorithm (Tongsuo's test certificates, older GM tools),
        # with no parameters, NULL or the SM2 curve again (formats.libraries reads it).
        if params.native is not None and params.dump() != _SM2_CURVE_DER:
            raise KeyFormatError("SM2 key algorithm with unexpected parameters",
                                 "SM2 密钥算法带有意外的参数")
        return True
    if algorithm_id["algorithm"].native != "ec":
        return False
    if params.name != "named" or params.chosen.dotted != oids.SM2_CURVE:
        raise KeyFormatError("EC key is not on the SM2 curve", "EC 密钥不是 SM2 曲线")
    return True


def _load_public(info: keys.PublicKeyInfo, backend: str | None = None) -> SM2PublicKey:
    return public_key_from_spki(info, backend)


def _load_private(info: keys.PrivateKeyInfo, der: bytes, backend: str | None = None) -> SM2PrivateKey:
    return private_key_from_pkcs8(info, backend)


def _generate(backend: str | None = None, **_ignored) -> SM2PrivateKey:
    return SM2PrivateKey.generate(backend)


def _dump_private(key: SM2PrivateKey, passphrase: bytes | None) -> bytes:
    """Encrypted PBES2 as Tongsuo writes it (SM4-CBC, which OpenSSL 3 reads)."""
    from tongsuopy.crypto import serialization as ts

    enc = ts.load_der_private_key(key.pkcs8_der(), None).private_bytes(
        ts.Encoding.PEM, ts.PrivateFormat.PKCS8, ts.BestAvailableEncryption(passphrase))
    return bytes(enc)


def _cose_sign(key: SM2PrivateKey, message: bytes) -> bytes:
    """COSE carries SM2 signatures as raw r‖s (64 bytes), as it does ECDSA's."""
    r, s = decode_signature(key.sign(message))
    return _b32(r) + _b32(s)


def _cose_verify(key: SM2PublicKey, signature: bytes, message: bytes) -> None:
    if not isinstance(signature, bytes) or len(signature) != 64:
        raise InvalidSignature("SM2 COSE signature must be 64 bytes (r||s)",
                               "COSE 中的 SM2 签名必须为 64 字节（r||s）")
    r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    key.verify(encode_signature(r, s), message)


SPEC = AlgorithmSpec(
    name=oids.ALG_SM2, label="SM2-SM3",
    signature_oid=oids.SM2_WITH_SM3, signature_oids=oids.SM2_SIGNATURE_OIDS,
    signature_params_null=False,  # GM/T 0015: SM2-with-SM3 carries no parameters
    signed_digest_name=oids.SM2_SM3_NAME,
    digest_name=oids.SM3_NAME, digest_oid=oids.SM3, digest=sm3,
    cose_alg=-65537,  # IANA COSE: below -65536 is private use (docs/formats.md)
    cose_label="SM2-SM3", envelope_alg="SM2-SM3",
    cose_sign=_cose_sign, cose_verify=_cose_verify,
    cms_signature_oids=oids.SM2_SIGNATURE_OIDS | {"1.2.840.10045.2.1"},  # + id-ecPublicKey
    seal_bound=True,
    backend=KeyBackend(accepts_spki=_accepts_spki, load_public=_load_public,
                       accepts_pkcs8=_accepts_spki, load_private=_load_private,
                       generate=_generate, dump_private=_dump_private),
)

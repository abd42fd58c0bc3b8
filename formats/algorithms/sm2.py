"""SM2 signatures (GB/T 32918.2) with SM3 and, unless told otherwise, the default user ID.

Two backends with one contract, chosen per key by ``backend=`` or LICENSE_SVC_SM2_BACKEND:
- ``tongsuopy`` (Tongsuo, C): the fast path.
- ``gmssl`` (pure Python): ~25x slower; a fallback and an independent cross-check.  Its own nonce
  helper uses `random`, so we never let it pick one: every nonce comes from `secrets`.

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
from formats.algorithms.sm2_der import N, decode_signature, encode_signature
from formats.errors import InvalidSignature, KeyFormatError, SigningError

P = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFF
A = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC
B = 0x28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93
GX = 0x32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7
GY = 0xBC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0

BACKENDS = ("tongsuopy", "gmssl")

__all__ = ["SM2PublicKey", "SM2PrivateKey", "z_value", "default_backend", "encode_signature",
           "decode_signature", "N", "BACKENDS"]


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


def _tongsuo_lib():
    from tongsuopy.backends.tongsuo.backend import backend as be

    return be


class SM2PublicKey:
    algorithm = oids.ALG_SM2

    def __init__(self, x: int, y: int, backend: str | None = None):
        if not _on_curve(x, y):
            raise KeyFormatError("point is not on the SM2 curve", "公钥点不在 SM2 曲线上")
        self.x, self.y = x, y
        self.backend = _checked_backend(backend)
        self._z = None  # Z_A for the default ID, computed on first use
        self._ts = None  # Tongsuo EVP_PKEY holder, built on first use

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
        if self.backend == "gmssl":
            self._gmssl_verify(r, s, bytes(e))
        else:
            self._tongsuo_verify(bytes(signature), bytes(e))

    def _tongsuo_verify(self, der: bytes, e: bytes) -> None:
        # EVP_PKEY_verify on a context without a digest checks the signature over e as given.
        be = _tongsuo_lib()
        lib = be._lib
        ctx = lib.EVP_PKEY_CTX_new(self._tongsuo()._evp_pkey, be._ffi.NULL)
        if ctx == be._ffi.NULL:
            raise SigningError("cannot create SM2 context", "无法创建 SM2 上下文")
        try:
            ok = lib.EVP_PKEY_verify_init(ctx) == 1 and \
                lib.EVP_PKEY_verify(ctx, der, len(der), e, len(e)) == 1
        finally:
            lib.EVP_PKEY_CTX_free(ctx)
        if not ok:
            be._consume_errors()  # keep Tongsuo's thread-local error queue clean
            raise InvalidSignature()

    def _gmssl_verify(self, r: int, s: int, e: bytes) -> None:
        try:
            ok = self._gmssl().verify("%064x%064x" % (r, s), e)
        except TypeError:
            # gmssl cannot represent [s]G + [t]P_A = O and fails on None; the standard rejects
            # it too (step B6 needs an affine x1').  Only the key's owner can craft this case.
            ok = False
        if not ok:
            raise InvalidSignature()

    def _tongsuo(self):
        if self._ts is None:
            from tongsuopy.crypto.asymciphers import ec

            self._ts = ec.EllipticCurvePublicKey.from_encoded_point(ec.SM2(), self.point)
        return self._ts

    def _gmssl(self):
        from gmssl import sm2 as gm

        c = gm.CryptSM2(private_key=None, public_key="00")
        c.public_key = "%064x%064x" % (self.x, self.y)  # its constructor lstrips "04" chars
        return c


class SM2PrivateKey:
    algorithm = oids.ALG_SM2

    def __init__(self, d: int, backend: str | None = None):
        if not 1 <= d <= N - 2:
            raise KeyFormatError("SM2 private scalar out of range [1, n-2]",
                                 "SM2 私钥超出范围 [1, n-2]")
        self.d = d
        self.backend = _checked_backend(backend)
        self._ts = None
        if self.backend == "tongsuopy":
            nums = self._tongsuo().public_key().public_numbers()
            x, y = nums.x, nums.y
        else:
            from gmssl import sm2 as gm

            c = gm.CryptSM2(private_key=None, public_key="00")
            pt = c._kg(d, gm.default_ecc_table["g"])
            x, y = int(pt[:64], 16), int(pt[64:], 16)
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
        if self.backend == "tongsuopy":
            return self._tongsuo_sign(bytes(e))
        c = self.public_key._gmssl()
        c.private_key = "%064x" % self.d
        while True:  # gmssl returns None when r = 0, r + k = n or s = 0: draw a new nonce
            k = "%064x" % (secrets.randbelow(N - 1) + 1)  # uniform in [1, n-1]
            out = c.sign(bytes(e), k)
            if out:
                return encode_signature(int(out[:64], 16), int(out[64:], 16))

    def _tongsuo(self):
        if self._ts is None:
            from tongsuopy.crypto.asymciphers import ec

            self._ts = ec.derive_private_key(self.d, ec.SM2())
        return self._ts

    def _tongsuo_sign(self, e: bytes) -> bytes:
        be = _tongsuo_lib()
        lib, ffi = be._lib, be._ffi
        ctx = lib.EVP_PKEY_CTX_new(self._tongsuo()._evp_pkey, ffi.NULL)
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

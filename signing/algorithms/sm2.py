"""SM2 signatures (GB/T 32918.2) with SM3 and the default user ID.

Two backends with one contract:
- ``tongsuopy`` (Tongsuo, C): the fast path; Tongsuo applies the GM default ID itself.
- ``gmssl`` (pure Python): ~25x slower; kept as a fallback and as an independent cross-check.
  Its own nonce helper uses `random`, so we always hand it a nonce from `secrets`.

Signatures leave and enter as DER ``SEQUENCE{r, s}``.  Verification is strict: the DER must
re-encode to the same bytes and 1 <= r, s < n, so malleable or truncated encodings fail before
any curve arithmetic.  ``sign_digest`` signs e = SM3(Z || M) that the caller already computed
(CMS signed attributes, SES), and says so in its name: it never hashes again.
"""

from __future__ import annotations

import os
import secrets

from asn1crypto import algos, keys

from signing import oids
from signing.algorithms.digests import sm3
from signing.errors import InvalidSignature, KeyFormatError, SigningError

P = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFF
A = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC
B = 0x28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93
N = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123
GX = 0x32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7
GY = 0xBC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0

BACKENDS = ("tongsuopy", "gmssl")


def default_backend() -> str:
    """The backend named by LICENSE_SVC_SM2_BACKEND, else tongsuopy when it imports."""
    name = os.environ.get("LICENSE_SVC_SM2_BACKEND", "").strip().lower()
    if name:
        if name not in BACKENDS:
            raise SigningError(f"unknown SM2 backend {name!r}; choose one of {BACKENDS}",
                               f"未知的 SM2 实现 {name!r}")
        return name
    try:
        import tongsuopy  # noqa: F401
    except ImportError:  # pragma: no cover - tongsuopy is a declared dependency
        return "gmssl"
    return "tongsuopy"


def _b32(n: int) -> bytes:
    return n.to_bytes(32, "big")


def z_value(x: int, y: int, uid: bytes = oids.DEFAULT_SM2_UID) -> bytes:
    """Z_A = SM3(ENTL || ID || a || b || xG || yG || xA || yA)."""
    if len(uid) * 8 > 0xFFFF:
        raise SigningError("SM2 user ID too long", "SM2 用户标识过长")
    entl = (len(uid) * 8).to_bytes(2, "big")
    return sm3(entl + uid + _b32(A) + _b32(B) + _b32(GX) + _b32(GY) + _b32(x) + _b32(y))


def encode_signature(r: int, s: int) -> bytes:
    return algos.DSASignature({"r": r, "s": s}).dump()


def decode_signature(der: bytes) -> tuple[int, int]:
    """Strict DER SEQUENCE{r, s}; raises InvalidSignature on anything else."""
    try:
        sig = algos.DSASignature.load(bytes(der), strict=True)
        r, s = sig["r"].native, sig["s"].native
        if encode_signature(r, s) != bytes(der):
            raise ValueError("not DER")
    except (ValueError, TypeError, KeyError) as exc:
        raise InvalidSignature(f"malformed SM2 signature encoding: {exc}",
                               "SM2 签名编码格式错误") from None
    if not (1 <= r < N and 1 <= s < N):
        raise InvalidSignature("SM2 signature values out of range", "SM2 签名值超出范围")
    return r, s


def _on_curve(x: int, y: int) -> bool:
    return 0 <= x < P and 0 <= y < P and (y * y - (x * x * x + A * x + B)) % P == 0


class SM2PublicKey:
    algorithm = oids.ALG_SM2

    def __init__(self, x: int, y: int, backend: str | None = None):
        if not _on_curve(x, y):
            raise KeyFormatError("point is not on the SM2 curve", "公钥点不在 SM2 曲线上")
        self.x, self.y = x, y
        self.backend = backend or default_backend()
        self._ts = None

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

    # -- verification ------------------------------------------------------------------
    def verify(self, signature: bytes, message: bytes, uid: bytes = oids.DEFAULT_SM2_UID) -> None:
        """Raise InvalidSignature unless `signature` is a valid SM2-with-SM3 over `message`."""
        if self.backend == "tongsuopy" and uid == oids.DEFAULT_SM2_UID:
            decode_signature(signature)
            from tongsuopy.crypto import exceptions, hashes
            from tongsuopy.crypto.asymciphers import ec

            try:
                self._tongsuo().verify(bytes(signature), message, ec.ECDSA(hashes.SM3()))
            except exceptions.InvalidSignature:
                raise InvalidSignature() from None
            return
        self.verify_digest(signature, sm3(z_value(self.x, self.y, uid) + message))

    def verify_digest(self, signature: bytes, e: bytes) -> None:
        """Verify over a precomputed e = SM3(Z || M) (pure arithmetic, backend-independent)."""
        r, s = decode_signature(signature)
        if len(e) != 32:
            raise InvalidSignature("SM3 digest must be 32 bytes", "SM3 摘要必须为 32 字节")
        if self.backend == "gmssl":
            if not self._gmssl().verify("%064x%064x" % (r, s), e):
                raise InvalidSignature()
            return
        from tongsuopy.backends.tongsuo.backend import backend as be

        lib, ffi = be._lib, be._ffi
        ctx = _pkey_ctx(self._tongsuo()._evp_pkey)
        ok = lib.EVP_PKEY_verify_init(ctx) == 1 and lib.EVP_PKEY_verify(
            ctx, bytes(signature), len(signature), e, len(e)) == 1
        be._consume_errors()
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

    def __init__(self, d: int, backend: str | None = None, _tongsuo_key=None):
        if not 1 <= d < N - 1:
            raise KeyFormatError("SM2 private scalar out of range", "SM2 私钥超出范围")
        self.d = d
        self.backend = backend or default_backend()
        self._ts = _tongsuo_key
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
        return cls(secrets.randbelow(N - 2) + 1, backend)

    def sign(self, message: bytes, uid: bytes = oids.DEFAULT_SM2_UID) -> bytes:
        """DER SM2 signature over SM3(Z || message)."""
        if self.backend == "tongsuopy" and uid == oids.DEFAULT_SM2_UID:
            from tongsuopy.crypto import hashes
            from tongsuopy.crypto.asymciphers import ec

            return bytes(self._tongsuo().sign(message, ec.ECDSA(hashes.SM3())))
        pub = self.public_key
        return self.sign_digest(sm3(z_value(pub.x, pub.y, uid) + message))

    def sign_digest(self, e: bytes) -> bytes:
        """DER SM2 signature over an e = SM3(Z || M) the caller computed."""
        if len(e) != 32:
            raise SigningError("SM3 digest must be 32 bytes", "SM3 摘要必须为 32 字节")
        if self.backend == "tongsuopy":
            return self._tongsuo_sign_digest(e)
        c = self.public_key._gmssl()
        c.private_key = "%064x" % self.d
        while True:
            k = "%064x" % (secrets.randbelow(N - 1) + 1)
            out = c.sign(e, k)
            if out:
                return encode_signature(int(out[:64], 16), int(out[64:], 16))

    def _tongsuo(self):
        if self._ts is None:
            from tongsuopy.crypto.asymciphers import ec

            self._ts = ec.derive_private_key(self.d, ec.SM2())
        return self._ts

    def _tongsuo_sign_digest(self, e: bytes) -> bytes:
        from tongsuopy.backends.tongsuo.backend import backend as be

        lib, ffi = be._lib, be._ffi
        ctx = _pkey_ctx(self._tongsuo()._evp_pkey)
        if lib.EVP_PKEY_sign_init(ctx) != 1:
            be._consume_errors()
            raise SigningError("cannot initialise SM2 signing", "无法初始化 SM2 签名")
        buflen = ffi.new("size_t *", 80)
        buf = ffi.new("unsigned char[]", 80)
        if lib.EVP_PKEY_sign(ctx, buf, buflen, e, len(e)) != 1:
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


def _pkey_ctx(evp_pkey):
    """An EVP_PKEY_CTX without a digest: Tongsuo's SM2 provider then signs/verifies e as given."""
    from tongsuopy.backends.tongsuo.backend import backend as be

    ctx = be._lib.EVP_PKEY_CTX_new(evp_pkey, be._ffi.NULL)
    if ctx == be._ffi.NULL:
        raise SigningError("cannot create SM2 context", "无法创建 SM2 上下文")
    return be._ffi.gc(ctx, be._lib.EVP_PKEY_CTX_free)


def public_key_from_spki(info: keys.PublicKeyInfo, backend: str | None = None) -> SM2PublicKey:
    point = info["public_key"].native
    if not isinstance(point, bytes) or len(point) != 65 or point[0] != 4:
        raise KeyFormatError("SM2 public key must be an uncompressed 65-byte point",
                             "SM2 公钥必须是 65 字节的非压缩点")
    return SM2PublicKey(int.from_bytes(point[1:33], "big"), int.from_bytes(point[33:], "big"),
                        backend)


def private_key_from_pkcs8(info: keys.PrivateKeyInfo, backend: str | None = None) -> SM2PrivateKey:
    ec_key = info["private_key"].parsed
    return SM2PrivateKey(int(ec_key["private_key"].native), backend)



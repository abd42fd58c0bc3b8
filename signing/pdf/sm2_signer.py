"""A pyHanko `Signer` for SM2 with SM3 (GB/T 32918, GM/T 0009 default user ID).

pyHanko hands `async_sign_raw` the DER of the signed attributes, un-hashed; SM2 must hash
Z_A || message itself, so the algorithm layer's `sign(message)` is exactly right.  The key is
loaded once by the caller and held here: per-licence work is one SM2 signature.

pyHanko's own digest choice for a 256-bit EC key is SHA-256 (pdf-notes B.2.2), so the signer
refuses anything but 'sm3' rather than emit an SM2 signature over a SHA-256 CMS.
"""

from __future__ import annotations

from formats import oids
from formats.errors import SigningError
from signing.pdf.held_key import HeldKeySigner

# DER SEQUENCE{INTEGER r, INTEGER s} with both integers 33 bytes: 2 + 2*(2+33) = 72.
SM2_SIGNATURE_MAX_LEN = 72


class SM2Signer(HeldKeySigner):
    """Signs CMS signed attributes with a held SM2 key; `signatureAlgorithm` is SM2-with-SM3."""

    ALGORITHM = oids.ALG_SM2
    MECHANISM = oids.SM2_SM3_NAME

    async def async_sign_raw(self, data: bytes, digest_algorithm: str, dry_run=False) -> bytes:
        if digest_algorithm != oids.SM3_NAME:
            raise SigningError(f"SM2 signatures use SM3, not {digest_algorithm}",
                               f"SM2 签名只能使用 SM3 摘要，不能使用 {digest_algorithm}")
        if dry_run:
            return bytes(SM2_SIGNATURE_MAX_LEN)
        return self._key.sign(data)

"""A pyHanko `Signer` for SM2 with SM3 (GB/T 32918, GM/T 0009 default user ID).

pyHanko hands `async_sign_raw` the DER of the signed attributes, un-hashed; SM2 must hash
Z_A || message itself, so the algorithm layer's `sign(message)` is exactly right.  The key is
loaded once by the caller and held here: per-licence work is one SM2 signature.

pyHanko's own digest choice for a 256-bit EC key is SHA-256 (pdf-notes B.2.2), so the signer
refuses anything but 'sm3' rather than emit an SM2 signature over a SHA-256 CMS.
"""

from __future__ import annotations

from typing import Iterable

from asn1crypto import algos, x509
from pyhanko.sign.signers.pdf_cms import Signer
from pyhanko_certvalidator.registry import SimpleCertificateStore

from signing import oids
from signing.errors import SigningError
from signing.pdf.fast_cms import FastCMSMixin
from signing.pdf.seal_attribute import SealBindingMixin, parsed

# DER SEQUENCE{INTEGER r, INTEGER s} with both integers 33 bytes: 2 + 2*(2+33) = 72.
SM2_SIGNATURE_MAX_LEN = 72


class SM2Signer(FastCMSMixin, SealBindingMixin, Signer):
    """Signs CMS signed attributes with a held SM2 key; `signatureAlgorithm` is SM2-with-SM3."""

    def __init__(self, key, cert: x509.Certificate, chain: Iterable[x509.Certificate] = (),
                 *, seal=None, embed_roots: bool = True):
        if getattr(key, "algorithm", None) != oids.ALG_SM2:
            raise SigningError("SM2Signer needs an SM2 private key", "SM2Signer 需要 SM2 私钥")
        if key.public_key.spki_der() != cert.public_key.dump():
            raise SigningError("the private key does not match the certificate",
                               "私钥与证书不匹配")
        cert, chain = parsed(cert), [parsed(c) for c in chain]
        super().__init__(
            signing_cert=cert,
            cert_registry=SimpleCertificateStore.from_certs(chain),
            signature_mechanism=algos.SignedDigestAlgorithm({"algorithm": oids.SM2_SM3_NAME}),
            embed_roots=embed_roots,
        )
        self._key = key
        self.bind_seal(seal)

    async def async_sign_raw(self, data: bytes, digest_algorithm: str, dry_run=False) -> bytes:
        if digest_algorithm != oids.SM3_NAME:
            raise SigningError(f"SM2 signatures use SM3, not {digest_algorithm}",
                               f"SM2 签名只能使用 SM3 摘要，不能使用 {digest_algorithm}")
        if dry_run:
            return bytes(SM2_SIGNATURE_MAX_LEN)
        return self._key.sign(data)

"""A pyHanko `Signer` for RSA PKCS#1 v1.5 with SHA-256 over a key loaded once.

pyHanko's `SimpleSigner` re-loads (and re-validates) the private key from DER on every
signature; holding the algorithm layer's key object instead is most of the 8x difference
measured in DESIGN §2.
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


class RSASigner(FastCMSMixin, SealBindingMixin, Signer):
    """Signs CMS signed attributes with a held RSA key (sha256WithRSAEncryption)."""

    def __init__(self, key, cert: x509.Certificate, chain: Iterable[x509.Certificate] = (),
                 *, seal=None, embed_roots: bool = True):
        if getattr(key, "algorithm", None) != oids.ALG_RSA:
            raise SigningError("RSASigner needs an RSA private key", "RSASigner 需要 RSA 私钥")
        if key.public_key.spki_der() != cert.public_key.dump():
            raise SigningError("the private key does not match the certificate",
                               "私钥与证书不匹配")
        cert, chain = parsed(cert), [parsed(c) for c in chain]
        super().__init__(
            signing_cert=cert,
            cert_registry=SimpleCertificateStore.from_certs(chain),
            signature_mechanism=algos.SignedDigestAlgorithm({"algorithm": "sha256_rsa"}),
            embed_roots=embed_roots,
        )
        self._key = key
        self.bind_seal(seal)
        self._sig_len = (cert.public_key["public_key"].parsed["modulus"].native.bit_length() + 7) // 8

    async def async_sign_raw(self, data: bytes, digest_algorithm: str, dry_run=False) -> bytes:
        if digest_algorithm != "sha256":
            raise SigningError(f"RSA licence signatures use SHA-256, not {digest_algorithm}",
                               f"RSA 证照签名只能使用 SHA-256，不能使用 {digest_algorithm}")
        if dry_run:
            return bytes(self._sig_len)
        return self._key.sign(data, scheme="pkcs1v15")

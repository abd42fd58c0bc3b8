"""The pyHanko `Signer` for licence PDFs: one class for every registered algorithm.

Why held: pyHanko's `SimpleSigner` re-loads (and re-validates) the private key from DER on every
signature; holding the algorithm layer's key object makes per-licence work one signature
(most of the 8x measured in docs/dependencies.md).  The key is checked against its certificate here, so a
mismatched key fails at start-up rather than on the first licence.

Why one class: pyHanko hands `async_sign_raw` the DER of the signed attributes, un-hashed, and
the algorithm layer's `sign(message)` hashes as its algorithm prescribes (SM2: SM3 over
Z_A || M; RSA: SHA-256, PKCS#1 v1.5).  What differs per algorithm — the CMS digest and the
signatureAlgorithm — comes from the algorithm's registry entry.  pyHanko's own digest choice
for a 256-bit EC key is SHA-256 (pdf-notes B.2.2), so the signer refuses any digest but its
algorithm's rather than emit, say, an SM2 signature over a SHA-256 CMS.
"""

from __future__ import annotations

from typing import Iterable

from asn1crypto import algos, x509
from pyhanko.sign.signers.pdf_cms import Signer
from pyhanko_certvalidator.registry import SimpleCertificateStore

from formats.algorithms import registry
from formats.errors import SigningError
from signing.pdf.fast_cms import FastCMSMixin
from signing.pdf.seal_attribute import SealBindingMixin, parsed


class HeldKeySigner(FastCMSMixin, SealBindingMixin, Signer):
    def __init__(self, key, cert: x509.Certificate, chain: Iterable[x509.Certificate] = (),
                 *, seal=None, embed_roots: bool = True):
        self.spec = registry.of_key(key)
        if key.public_key.spki_der() != cert.public_key.dump():
            raise SigningError("the private key does not match the certificate",
                               "私钥与证书不匹配")
        cert, chain = parsed(cert), [parsed(c) for c in chain]
        super().__init__(
            signing_cert=cert,
            cert_registry=SimpleCertificateStore.from_certs(chain),
            signature_mechanism=algos.SignedDigestAlgorithm(
                {"algorithm": self.spec.signed_digest_name}),
            embed_roots=embed_roots,
        )
        self._key = key
        self._sig_len = key.public_key.max_signature_size()
        self.bind_seal(seal)

    async def async_sign_raw(self, data: bytes, digest_algorithm: str, dry_run=False) -> bytes:
        if digest_algorithm != self.spec.digest_name:
            raise SigningError(f"{self.spec.label} licence signatures use "
                               f"{self.spec.digest_name}, not {digest_algorithm}",
                               f"{self.spec.label} 证照签名只能使用 {self.spec.digest_name} 摘要，"
                               f"不能使用 {digest_algorithm}")
        if dry_run:
            return bytes(self._sig_len)
        return self._key.sign(data)

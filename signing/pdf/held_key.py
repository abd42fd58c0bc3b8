"""What both licence signers share: a key loaded once by the caller, checked against its
certificate here, so a mismatched key fails at start-up rather than on the first licence."""

from __future__ import annotations

from typing import Iterable

from asn1crypto import algos, x509
from pyhanko.sign.signers.pdf_cms import Signer
from pyhanko_certvalidator.registry import SimpleCertificateStore

from formats.errors import SigningError
from signing.pdf.fast_cms import FastCMSMixin
from signing.pdf.seal_attribute import SealBindingMixin, parsed


class HeldKeySigner(FastCMSMixin, SealBindingMixin, Signer):
    """Subclasses set ALGORITHM (the algorithm layer's name) and MECHANISM (asn1crypto name)."""

    ALGORITHM: str
    MECHANISM: str

    def __init__(self, key, cert: x509.Certificate, chain: Iterable[x509.Certificate] = (),
                 *, seal=None, embed_roots: bool = True):
        name = type(self).__name__
        if getattr(key, "algorithm", None) != self.ALGORITHM:
            raise SigningError(f"{name} needs an {self.ALGORITHM.upper()} private key",
                               f"{name} 需要 {self.ALGORITHM.upper()} 私钥")
        if key.public_key.spki_der() != cert.public_key.dump():
            raise SigningError("the private key does not match the certificate",
                               "私钥与证书不匹配")
        cert, chain = parsed(cert), [parsed(c) for c in chain]
        super().__init__(
            signing_cert=cert,
            cert_registry=SimpleCertificateStore.from_certs(chain),
            signature_mechanism=algos.SignedDigestAlgorithm({"algorithm": self.MECHANISM}),
            embed_roots=embed_roots,
        )
        self._key = key
        self.bind_seal(seal)

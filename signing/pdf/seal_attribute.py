"""The GB/T 38540 SESeal carried inside the PDF signature, as a CMS signed attribute.

Why a signed attribute: the seal (the picture plus the seal maker's signature over who may use
it) must be bound to *this* signature.  As a signed attribute it is covered by the signer's
SM2 signature, so it cannot be swapped for another seal, and a verifier can check that the
signer's certificate is one the seal lists.  The attribute type is
`formats.oids.SESEAL_SIGNED_ATTRIBUTE` (a sub-arc of our UUID arc, docs/formats.md "SESeal
signed attribute"); its single value is the DER SESeal exactly as the seal maker signed it.
"""

from __future__ import annotations

from asn1crypto import cms, core, x509
from pyhanko.sign.attributes import CMSAttributeProvider

from formats import oids
from formats.errors import SigningError

MAX_SESEAL_BYTES = 1024 * 1024


def parsed(cert: x509.Certificate) -> x509.Certificate:
    """The certificate re-read from its DER.  asn1crypto re-serialises a constructed value on
    every dump (most of the signing time when certificates were built in memory); a parsed one
    keeps its original bytes."""
    return x509.Certificate.load(cert.dump())


def seal_der(seal) -> bytes:
    """DER of a seal given as bytes or as an asn1crypto value (anything with `.dump()`)."""
    der = seal.dump() if hasattr(seal, "dump") else bytes(seal)
    if not der or len(der) > MAX_SESEAL_BYTES:
        raise SigningError("SESeal missing or larger than 1 MiB", "电子印章数据缺失或超过 1 MiB")
    try:
        core.Sequence.load(der, strict=True).contents  # noqa: B018  (strict length check)
    except Exception:
        raise SigningError("SESeal is not a DER SEQUENCE", "电子印章不是 DER 编码的 SEQUENCE") from None
    return der


def seal_attribute(der: bytes) -> cms.CMSAttribute:
    return cms.CMSAttribute({
        "type": cms.CMSAttributeType(oids.SESEAL_SIGNED_ATTRIBUTE),
        "values": [core.Any.load(der)],
    })


class SESealAttributeProvider(CMSAttributeProvider):
    """Yields the fixed seal attribute; the seal does not change between licences."""

    attribute_type = oids.SESEAL_SIGNED_ATTRIBUTE

    def __init__(self, der: bytes):
        self._attr = seal_attribute(der)

    async def get_attribute(self, dry_run=False) -> cms.CMSAttribute:
        return self._attr


class SealBindingMixin:
    """Adds the SESeal attribute to the signed attributes a pyHanko `Signer` produces.

    pyHanko builds the standard CAdES attributes in `_signed_attr_providers`; we append ours
    there rather than replacing the whole provider spec, so the PAdES attributes stay pyHanko's.
    """

    _seal_provider: SESealAttributeProvider | None = None

    def bind_seal(self, seal) -> None:
        self._seal_provider = SESealAttributeProvider(seal_der(seal)) if seal is not None else None

    def _signed_attr_providers(self, *args, **kwargs):
        yield from super()._signed_attr_providers(*args, **kwargs)
        if self._seal_provider is not None:
            yield self._seal_provider

"""The licence signature's CMS SignedData assembled from pre-encoded DER parts.

Why: inside pyHanko, building the CMS for one PDF signature (signed attributes, SignerInfo,
certificate set, timestamp attribute) is mostly asn1crypto re-encoding the same certificates
and attributes again — most of the per-licence time after our key is held (docs/performance.md).
For the fixed profile of a licence signature (docs/pdf.md: PAdES, detached, contentType +
messageDigest + signingCertificateV2 [+ SESeal] signed; signatureTimeStampToken unsigned), all
parts but the message digest, the signature and the token are identical for every licence, so
they are encoded once here and concatenated per licence.  The result is exactly what pyHanko
would write (same fields, DER SET OF order), which the interop tests check with pyHanko's
validator, pdfsig, openssl and gmssl_pyx.  Any other request (dry run, other attributes) goes
to pyHanko's generic path.
"""

from __future__ import annotations

from asn1crypto import algos, cms, core, x509
from pyhanko.sign.general import as_signing_certificate_v2

from formats import algorithms as alg
from formats.der import set_of, tlv

_OID_SIGNED_DATA = core.ObjectIdentifier("1.2.840.113549.1.7.2").dump()
_OID_TST_ATTR = core.ObjectIdentifier("1.2.840.113549.1.9.16.2.14").dump()


class FastCMSMixin:
    """Overrides `Signer.async_sign` for the licence profile; needs `_key`, `signing_cert`,
    `cert_registry`, `signature_mechanism` and the seal provider of `SealBindingMixin`."""

    _template: dict | None = None

    def _build_template(self, digest_algorithm: str) -> dict:
        cert: x509.Certificate = self.signing_cert
        certs = {c.dump() for c in self.cert_registry} | {cert.dump()}
        digest_alg = algos.DigestAlgorithm({"algorithm": digest_algorithm}).dump()
        sid = cms.SignerIdentifier({"issuer_and_serial_number": {
            "issuer": cert.issuer, "serial_number": cert.serial_number}}).dump()
        fixed = [
            cms.CMSAttribute({"type": "content_type", "values": ["data"]}).dump(),
            cms.CMSAttribute({"type": "signing_certificate_v2",
                              "values": [as_signing_certificate_v2(cert)]}).dump(),
        ]
        if self._seal_provider is not None:
            fixed.append(self._seal_provider._attr.dump())
        md_attr = cms.CMSAttribute({"type": "message_digest",
                                    "values": [b"\x00" * alg.digest(digest_algorithm, b"").__len__()]}).dump()
        return {
            "digest_algorithm": digest_algorithm,
            "digest_alg": digest_alg,
            "sid": sid,
            "fixed_attrs": fixed,
            "md_prefix": md_attr[: -len(alg.digest(digest_algorithm, b""))],
            "sig_alg": self.signature_mechanism.dump(),
            "certs": tlv(0xA0, b"".join(sorted(certs))),
            "head": tlv(0x02, b"\x01") + set_of([digest_alg]) + tlv(0x30, core.ObjectIdentifier(
                "1.2.840.113549.1.7.1").dump()),
        }

    async def async_sign(self, data_digest: bytes, digest_algorithm: str, dry_run=False,
                         use_pades=False, timestamper=None, signed_attr_settings=None,
                         is_pdf_sig=True, encap_content_info=None) -> cms.ContentInfo:
        plain = signed_attr_settings is None or (
            signed_attr_settings.cades_signed_attrs is None
            and getattr(signed_attr_settings, "adobe_revinfo_attr", None) is None)
        if dry_run or not use_pades or not is_pdf_sig or encap_content_info is not None \
                or not plain or self.attribute_certs:
            return await super().async_sign(
                data_digest, digest_algorithm, dry_run=dry_run, use_pades=use_pades,
                timestamper=timestamper, signed_attr_settings=signed_attr_settings,
                is_pdf_sig=is_pdf_sig, encap_content_info=encap_content_info)
        t = self._template
        if t is None or t["digest_algorithm"] != digest_algorithm:
            t = self._template = self._build_template(digest_algorithm)
        attrs = set_of([*t["fixed_attrs"], t["md_prefix"] + data_digest])
        signature = await self.async_sign_raw(attrs, digest_algorithm)
        signer_info = (tlv(0x02, b"\x01") + t["sid"] + t["digest_alg"] + b"\xa0" + attrs[1:]
                       + t["sig_alg"] + tlv(0x04, signature))
        if timestamper is not None:
            imprint = alg.digest(digest_algorithm, signature)
            direct = getattr(timestamper, "token", None)  # our own TSA in this process
            token = direct(digest_algorithm, imprint) if direct is not None else \
                (await timestamper.async_timestamp(imprint, digest_algorithm)).dump()
            attr = tlv(0x30, _OID_TST_ATTR + tlv(0x31, token))
            signer_info += tlv(0xA1, attr)
        signed_data = tlv(0x30, t["head"] + t["certs"] + tlv(0x31, tlv(0x30, signer_info)))
        return cms.ContentInfo.load(tlv(0x30, _OID_SIGNED_DATA + tlv(0xA0, signed_data)))

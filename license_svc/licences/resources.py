"""Per-service signing resources for issuance, built once and reused for every licence.

Why: loading a key, re-serialising a certificate chain and preparing the seal picture cost far
more than one signature (docs/dependencies.md: pyHanko's SimpleSigner re-loads its key per PDF, 11/s; a
signer holding a loaded key, 88/s).  One `OrgSigning` per (organisation, algorithm) holds the
credential, its PDF stamper (seal bound as a signed attribute) and the region TSA; which seal
is current is asked of the seal registry per issuance (`licences.seals`).  They are kept in the
context's caches, so they live and die with the service that loaded them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from signing.ofd import SealSigner
from signing.pdf import LicenceStamper
from signing.seal import SealCredential
from signing.seal.build import tsa_timestamper
from signing.render import seal_rect
from signing.tsa import InProcessTimeStamper, TimeStampAuthority


@dataclass
class OrgSigning:
    credential: Any  # signing.keystore.Credential (licence_signer)
    cert_der: bytes
    stamper: LicenceStamper


def _cached(ctx, key, build):
    return ctx.caches.get((__name__, *key), build)


def timestamper(ctx, algorithm: str) -> InProcessTimeStamper:
    """The region TSA of `algorithm`, answering in process with the service clock."""
    def build():
        cred = ctx.keystore.credential(ctx.region, "tsa", algorithm)
        return InProcessTimeStamper(TimeStampAuthority(cred.key, cred.cert, cred.chain,
                                                       clock=ctx.now))
    return _cached(ctx, ("tsa", algorithm), build)


def org_signing(ctx, org_code: str, algorithm: str, template, es_id: str,
                seal_der: Callable[[], bytes]) -> OrgSigning:
    """Signing for one organisation, algorithm, seal and page layout (the seal box is per
    layout).  Keyed by the seal's esID, so a new seal in the registry gets a new stamper;
    `seal_der` is called only to build one."""
    box = seal_rect(template.layout)

    def build():
        cred = ctx.keystore.credential(ctx.region, "licence_signer", algorithm, org_code=org_code)
        der = seal_der()
        picture = SealCredential.from_der(der).picture
        stamper = LicenceStamper(cred, seal=der, seal_png=picture, seal_box=box,
                                 timestamper=timestamper(ctx, algorithm))
        return OrgSigning(cred, cred.cert.dump(), stamper)
    return _cached(ctx, ("org", org_code, algorithm, es_id, box), build)


def ofd_signer(ctx, cred, es_id: str, seal_der: Callable[[], bytes]) -> SealSigner:
    """The OFD seal signer of an organisation: its SM2 licence-signing credential `cred` (as
    `signer_check.usable_signer` hands it out), seal `es_id` and the region's SM2 TSA.  SM2 for
    RSA organisations too (docs/ofd.md): GM/T 0099 OFD seal signatures are SM2/SM3."""
    def build():
        return SealSigner(seal_der(), cred.key, cred.cert,
                          tsa_timestamper(timestamper(ctx, "sm2").authority))
    return _cached(ctx, ("ofd", cred.cert.dump(), es_id), build)


def status_credential(ctx):
    return _cached(ctx, ("status_signer",),
                   lambda: ctx.keystore.credential(ctx.region, "status_signer", "sm2"))

"""The electronic seal (电子印章) an issuing organisation stamps its licences with.

The seal is made from the key store alone: the region seal maker (制章机构) signs a GB/T 38540
v4 SESeal whose esID and name come from the organisation's manifest entry, whose picture is the
red round official seal, and whose certList names the organisation's licence-signing
certificates (SM2 and RSA), so either signature may carry it.  Its identity (esID, name,
validity = the maker certificate's) is stable across restarts; only the maker's randomised SM2
signature differs, and every licence embeds the exact seal it was stamped with.
"""

from __future__ import annotations

from signing.seal import SEAL_TYPE_ORGANISATION, make_seal
from signing.seal.picture import render_round_seal

SEAL_NAME = "电子证照专用章"
# 10 px/mm (254 dpi) prints sharply and keeps the picture ~11 KB; it rides in every licence twice
# (the SESeal attribute and the signature appearance).
PX_PER_MM = 10


def seal_for(ctx, org_code: str) -> tuple[bytes, bytes]:
    """(SESeal DER, picture PNG) of `org_code` in this region."""
    ks = ctx.keystore
    org = ks.organisation(org_code)
    maker = ks.credential(ctx.region, "seal_maker", "sm2")
    signers = [ks.credential(ctx.region, "licence_signer", a, org_code=org_code).cert
               for a in ("sm2", "rsa")]
    info = org.seal or {}
    es_id = str(info.get("esid") or org_code)
    picture = render_round_seal(org.name, "", es_id, px_per_mm=PX_PER_MM)
    validity = maker.cert["tbs_certificate"]["validity"]
    der = make_seal(maker_key=maker.key, maker_cert=maker.cert, es_id=es_id,
                    name=info.get("name") or f"{org.name}{SEAL_NAME}",
                    seal_type=int(info.get("type") or SEAL_TYPE_ORGANISATION), picture=picture,
                    signer_certs=signers, valid_start=validity["not_before"].native,
                    valid_end=validity["not_after"].native,
                    created=validity["not_before"].native)
    return der, picture.data

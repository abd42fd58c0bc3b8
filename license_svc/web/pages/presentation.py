"""亮证: a fresh presentation of the caller's own licence (EP2, docs/formats.md), for the wallet page.

The wallet asks for a new code every `refresh` seconds; each is signed by this region's node
key, lives at most 60 s and carries a random cti, so a verifier online accepts it once and a
screenshot is useless a minute later.  Only the holder gets presentations of a licence, and
only while it is active: a revoked, suspended, expired or superseded licence is not shown as
valid by its own holder's phone.  Each presentation is audited under the holder's reference
with its cti, so the holder's log can pair "I showed it" with "who scanned it" (`qr.present`).
"""

from __future__ import annotations

import base64
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from license_svc.licences import holders
from license_svc.licences.auditing import audit_licence
from license_svc.licences.errors import IssuerAuthorityError, LicenceStateError
from license_svc.licences.lifecycle import ACTIVE, STATUS_ZH, latest_event, load_version, status_at
from license_svc.licences.record import iso_time
from signing.qr import image as qr_image
from formats.qr_claims import EP1_MAX_LIFETIME
from signing.qr.credentials import make_ep2

ACTION = "qr.presentation.create"
DEFAULT_REFRESH_SECONDS = 30


def present(ctx, session: Session, client, identifier: str, *,
            refresh: int = DEFAULT_REFRESH_SECONDS) -> dict[str, Any]:
    """A new EP2 for `identifier` as text and PNG, with when to ask for the next one.  EP2, not
    EP1: it fits QR version 15 at level M where an EP1 of an RSA-signed licence needs 24.
    Every EL1 this register makes rebuilds from an EP2 (its claims follow the identifier)."""
    version = load_version(session, identifier)
    holder = holders.audit_holder_code(client, version)  # the presenting spouse's own, say
    if not holders.is_holder(client, version):
        with ctx.unit_of_work() as own:  # the refusal survives the error response
            audit_licence(ctx, own, action=ACTION, actor=client, identifier=identifier,
                          holder_code=holder, outcome="denied")
        raise IssuerAuthorityError("only the licence's holder may present it",
                                   "只有持证人本人可以亮证")
    now = ctx.now()
    status = status_at(version, latest_event(session, identifier), now)
    if status != ACTIVE:
        raise LicenceStateError(f"a {status} licence cannot be presented",
                                f"证照当前状态为“{STATUS_ZH[status]}”，不能亮证")
    node = ctx.keystore.credential(ctx.region, "node", "sm2")
    text, cti = make_ep2(node.key, node.cert.dump(), region=ctx.region, el1=version.el1,
                         now=now, lifetime=EP1_MAX_LIFETIME)
    audit_licence(ctx, session, action=ACTION, actor=client, identifier=identifier,
                  holder_code=holder, detail={"cti": cti.hex()})
    return {
        "identifier": identifier, "text": text, "cti": cti.hex(),
        "issued_at": iso_time(now),
        "expires_at": iso_time(now + timedelta(seconds=EP1_MAX_LIFETIME)),
        "refresh_after": max(1, min(refresh, EP1_MAX_LIFETIME)),
        "png": base64.b64encode(qr_image.png(text, scale=6, ec_level=qr_image.EC_SCREEN)).decode("ascii"),
    }
